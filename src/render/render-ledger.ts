// The cross-source part of a render (steps 4 and the result: unique names,
// ingress conflicts, the sorted jobs and problems), kept between renders so
// that a change to k job files costs O(k), not O(all jobs): each name's
// claims are indexed, and only the names a change touches are settled again.
//
// It reproduces RenderContext's settle exactly (the property test in
// test/unit/render/incremental-render.test.ts compares the two over random
// edit sequences): the same helpers write the problems (duplicateEntry,
// ingressConflicts, stampProblem), claims are ordered as a full render
// meets them, and problems are sorted from the same insertion order.
import type { DesiredJob } from '../model/job';
import { desiredJobOf, duplicateEntry, ingressConflicts, stampProblem, type Candidate, type Op, type RenderTrace, type ReportEntry } from './render-context';
import type { RenderProblem } from './render-repo';
import type { RepoSettings } from './settings';

/** Where an op sits in a full render: job files (by path) come before chart directories (by root). */
export interface Pos {
  group: 0 | 1;
  key: string;
  index: number;
}

function comparePos(a: Pos, b: Pos): number {
  if (a.group !== b.group) return a.group - b.group;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.index - b.index;
}

/** One place that claims a job name: a valid document (candidate) or a problem entry naming the job. */
interface Claim {
  pos: Pos;
  candidate?: Candidate;
  where: string;
}

interface NameState {
  /** Sorted by pos. */
  claims: Claim[];
  /** The candidate that passed the duplicate check. */
  kept?: Candidate;
  /** Duplicate-name problems, one per candidate, when the name is claimed more than once. */
  dups: Array<{ pos: Pos; entry: ReportEntry }>;
}

export class RenderLedger {
  private readonly names = new Map<string, NameState>();
  private readonly withDups = new Set<string>();
  /** Candidates that passed the duplicate check and have ingress routes, by name. */
  private readonly routed = new Map<string, Candidate>();
  private refused = new Map<Candidate, ReportEntry>();
  /** Report ops of job files (only files that have some), by path, with their op index. */
  private readonly fileEntries = new Map<string, Array<{ index: number; entry: ReportEntry }>>();
  private readonly finalJobs = new Map<string, DesiredJob>();
  private jobs: DesiredJob[] = [];

  /** What a full render traced; `jobs` is its result (the ledger's starting point). */
  constructor(
    private readonly trace: RenderTrace,
    jobs: readonly DesiredJob[],
  ) {
    for (const [path, ops] of trace.jobFiles) this.addOps(0, path, ops, undefined);
    for (const { root, ops } of trace.charts) this.addOps(1, root, ops, undefined);
    for (const name of this.names.keys()) this.settleName(name);
    this.refused = ingressConflicts(this.sortedRouted());
    this.jobs = jobs.slice();
    for (const j of jobs) this.finalJobs.set(j.spec.name, j);
  }

  get settings(): RepoSettings {
    return this.trace.settings.value;
  }

  /**
   * Job file `path` now says `ops` (undefined: it is gone). Only plain job
   * files outside chart directories change this way; anything else is a
   * full render (incremental-render.ts decides).
   */
  replaceFile(path: string, ops: readonly Op[] | undefined, touched: Set<string>): void {
    const before = this.trace.jobFiles.get(path);
    if (before) this.removeOps(path, before, touched);
    if (ops) {
      this.trace.jobFiles.set(path, ops.slice());
      this.addOps(0, path, ops, touched);
    } else this.trace.jobFiles.delete(path);
  }

  /** Settle the names `touched` named again, then ingress; the sorted jobs. */
  settle(touched: ReadonlySet<string>): DesiredJob[] {
    let routesMoved = false;
    for (const name of touched) {
      const hadRoutes = this.routed.has(name);
      this.settleName(name);
      if (hadRoutes || this.routed.has(name)) routesMoved = true;
    }
    const check = new Set(touched);
    if (routesMoved) {
      const refused = ingressConflicts(this.sortedRouted());
      for (const c of refused.keys()) if (!this.refused.has(c)) check.add(c.spec.name);
      for (const c of this.refused.keys()) if (!refused.has(c)) check.add(c.spec.name);
      this.refused = refused;
    }
    this.patchJobs(check);
    return this.jobs.slice();
  }

  /** Every problem, stamped with `commit`, in a full render's order. */
  problems(commit: string | undefined): RenderProblem[] {
    // A full render's insertion order: admission, job files, chart
    // directories, duplicates (candidate order), ingress (name order), settings.
    const out: RenderProblem[] = [];
    const push = (op: Op): void => {
      if ('report' in op) out.push(stampProblem(op.report, commit));
    };
    this.trace.admission.forEach(push);
    const files = [...this.fileEntries.keys()].sort();
    for (const p of files) for (const { entry } of this.fileEntries.get(p)!) out.push(stampProblem(entry, commit));
    for (const { ops } of this.trace.charts) ops.forEach(push);
    const dups = [...this.withDups].flatMap((n) => this.names.get(n)!.dups).sort((a, b) => comparePos(a.pos, b.pos));
    for (const { entry } of dups) out.push(stampProblem(entry, commit));
    for (const entry of this.refused.values()) out.push(stampProblem(entry, commit));
    this.trace.settings.ops.forEach(push);
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return out.sort((a, b) => cmp(a.key, b.key) || cmp(a.file, b.file) || cmp(String(a.problem.file), String(b.problem.file)));
  }

  private addOps(group: 0 | 1, key: string, ops: readonly Op[], touched: Set<string> | undefined): void {
    const entries: Array<{ index: number; entry: ReportEntry }> = [];
    ops.forEach((op, index) => {
      const pos: Pos = { group, key, index };
      if ('accept' in op) this.claim(op.accept.spec.name, { pos, candidate: op.accept, where: op.accept.problemFile }, touched);
      else {
        if (group === 0) entries.push({ index, entry: op.report });
        const e = op.report;
        if (e.job !== undefined) this.claim(e.job, { pos, where: String(e.problem.file ?? e.file) }, touched);
      }
    });
    if (entries.length > 0) this.fileEntries.set(key, entries);
  }

  private removeOps(path: string, ops: readonly Op[], touched: Set<string>): void {
    this.fileEntries.delete(path);
    ops.forEach((op, index) => {
      const name = 'accept' in op ? op.accept.spec.name : op.report.job;
      if (name === undefined) return;
      const state = this.names.get(name)!;
      const at = state.claims.findIndex((c) => c.pos.group === 0 && c.pos.key === path && c.pos.index === index);
      state.claims.splice(at, 1);
      touched.add(name);
    });
  }

  private claim(name: string, c: Claim, touched: Set<string> | undefined): void {
    let state = this.names.get(name);
    if (!state) this.names.set(name, (state = { claims: [], dups: [] }));
    // Claims arrive in order on a full render; a changed file's go in their place.
    let at = state.claims.length;
    while (at > 0 && comparePos(state.claims[at - 1].pos, c.pos) > 0) at--;
    state.claims.splice(at, 0, c);
    touched?.add(name);
  }

  /** RenderContext.settleDuplicates for one name: candidates' places, then entries' (each once). */
  private settleName(name: string): void {
    const state = this.names.get(name);
    const candidates = state ? state.claims.filter((c) => c.candidate !== undefined) : [];
    const all = candidates.map((c) => c.candidate!.problemFile);
    const seen = new Set<string>();
    for (const c of state?.claims ?? []) {
      if (c.candidate !== undefined || seen.has(c.where)) continue;
      seen.add(c.where);
      all.push(c.where);
    }
    if (state) {
      state.kept = all.length === 1 ? candidates[0]?.candidate : undefined;
      state.dups = all.length === 1 ? [] : candidates.map((c) => ({ pos: c.pos, entry: duplicateEntry(c.candidate!, all) }));
      if (state.dups.length > 0) this.withDups.add(name);
      else this.withDups.delete(name);
      if (state.claims.length === 0) this.names.delete(name);
    } else this.withDups.delete(name);
    const kept = state?.kept;
    if (kept && kept.spec.ingress && kept.spec.ingress.length > 0) this.routed.set(name, kept);
    else this.routed.delete(name);
  }

  private sortedRouted(): Candidate[] {
    return [...this.routed.values()].sort((a, b) => (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0));
  }

  /** The sorted result jobs, with the names in `check` brought up to date. */
  private patchJobs(check: ReadonlySet<string>): void {
    const updates: Array<[string, DesiredJob | undefined]> = [];
    for (const name of check) {
      const kept = this.names.get(name)?.kept;
      const now = kept && !this.refused.has(kept) ? desiredJobOf(kept) : undefined;
      if (now === this.finalJobs.get(name)) continue;
      updates.push([name, now]);
      if (now) this.finalJobs.set(name, now);
      else this.finalJobs.delete(name);
    }
    if (updates.length === 0) return;
    updates.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const skip = new Set(updates.map(([n]) => n));
    const out: DesiredJob[] = [];
    let u = 0;
    for (const j of this.jobs) {
      while (u < updates.length && updates[u][0] < j.spec.name) {
        const add = updates[u++][1];
        if (add) out.push(add);
      }
      if (!skip.has(j.spec.name)) out.push(j);
    }
    for (; u < updates.length; u++) {
      const add = updates[u][1];
      if (add) out.push(add);
    }
    this.jobs = out;
  }
}
