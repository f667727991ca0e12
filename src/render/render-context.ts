// Collects the renderer's verdicts: accepted candidates and problem
// entries; settles duplicate names at the end.
import type { DesiredJob, JobSpec } from '../model/job';
import { podTemplateHash } from '../model/hash';
import type { Problem } from '../model/problem';
import type { ProblemType } from '../problems';
import { describeClaim, ingressClaim } from './checks';
import { finding, type Finding } from './findings';
import { problemFromFindings, simpleProblem } from './problem-details';
import type { RenderOptions, RenderProblem } from './render-repo';
import type { RepoSettings } from './settings';

export interface Candidate {
  spec: JobSpec;
  /** Source: the job file or chart directory (DesiredJob.file). */
  file: string;
  /** Where the user finds it (a template file for chart directories). */
  problemFile: string;
}

/** A problem as a judge reports it, before the commit is stamped on it. */
export interface ReportEntry {
  file: string;
  job?: string;
  fallbackKey?: string;
  problem: Problem;
}

/** One verdict a source (a job file, a chart directory, ...) gave: what the render cache and the ledger keep. */
export type Op = { accept: Candidate } | { report: ReportEntry };

/**
 * What a full render saw and each of its sources said, in render order
 * (renderRepo fills it when asked): what incremental-render.ts needs to
 * redo only the changed sources next time.
 */
export interface RenderTrace {
  /** Step 1, refusals of files (unsafe paths, symlinks, size, UTF-8, repository limits). */
  admission: Op[];
  admitted: { count: number; bytes: number; overLimit: boolean };
  /** Step 2, per job file outside chart directories. */
  jobFiles: Map<string, Op[]>;
  chartRoots: string[];
  /** Step 3, per chart directory, in order. */
  charts: Array<{ root: string; ops: Op[] }>;
  /** Step 5. */
  settings: { value: RepoSettings; ops: Op[] };
}

export class RenderContext {
  private readonly candidates: Candidate[] = [];
  private readonly entries: RenderProblem[] = [];
  /** Where accept() and report() are also recorded, as given (incremental-render.ts keeps them per source). */
  private recording: Op[] | undefined;

  constructor(readonly opts: RenderOptions) {}

  /** Record what follows into `ops` (undefined: stop recording). */
  recordInto(ops: Op[] | undefined): void {
    this.recording = ops;
  }

  accept(c: Candidate): void {
    this.recording?.push({ accept: c });
    this.candidates.push(c);
  }

  /** Record a problem for `file`, keyed by `job` when known, else by `fallbackKey` (the path). */
  report(entry: ReportEntry): void {
    this.recording?.push({ report: entry });
    this.entries.push(stampProblem(entry, this.opts.commit));
  }

  /** A problem for a whole file that was not (or could not be) read as a job. */
  reportFile(p: string, type: ProblemType, detail: string, extra?: { errors?: Problem['errors']; holds?: string }): void {
    const holds = extra?.holds ?? p;
    this.report({ file: holds, problem: simpleProblem(type, detail, { file: p }, extra?.errors) });
  }

  /** Names claimed by more than one document: every valid one gets a problem instead of being accepted. */
  settleDuplicates(): void {
    // Each candidate is one document; problem entries with a job name count once per source.
    const claims = new Map<string, string[]>();
    const claim = (name: string, where: string): void => {
      const list = claims.get(name);
      if (list) list.push(where);
      else claims.set(name, [where]);
    };
    for (const c of this.candidates) claim(c.spec.name, c.problemFile);
    const seen = new Set<string>();
    for (const e of this.entries) {
      if (e.job === undefined) continue;
      const where = String(e.problem.file ?? e.file);
      if (seen.has(`${e.job}\u0000${where}`)) continue;
      seen.add(`${e.job}\u0000${where}`);
      claim(e.job, where);
    }
    const keep: Candidate[] = [];
    for (const c of this.candidates) {
      const all = claims.get(c.spec.name)!;
      if (all.length === 1) {
        keep.push(c);
        continue;
      }
      this.report(duplicateEntry(c, all));
    }
    this.candidates.splice(0, this.candidates.length, ...keep);
  }

  /**
   * Two jobs claiming the same ingress host + path (or TCP port): the job
   * later in name order is refused, naming the other; its accepted version
   * (if any) keeps running. Deterministic whatever the order of commits.
   */
  settleIngressConflicts(): void {
    const sorted = [...this.candidates].sort((a, b) => (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0));
    const refused = ingressConflicts(sorted);
    for (const [, entry] of refused) this.report(entry);
    this.candidates.splice(0, this.candidates.length, ...sorted.filter((c) => !refused.has(c)));
  }

  jobs(): DesiredJob[] {
    return this.candidates.map(desiredJobOf).sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1));
  }

  problems(): RenderProblem[] {
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return [...this.entries].sort((a, b) => cmp(a.key, b.key) || cmp(a.file, b.file) || cmp(String(a.problem.file), String(b.problem.file)));
  }
}

/** The problem entry as the result lists it: keyed, and stamped with the commit judged. */
export function stampProblem(entry: ReportEntry, commit: string | undefined): RenderProblem {
  const problem = commit !== undefined ? { ...entry.problem, commit } : entry.problem;
  const out: RenderProblem = { key: entry.job ?? entry.fallbackKey ?? entry.file, file: entry.file, problem };
  if (entry.job !== undefined) out.job = entry.job;
  return out;
}

/**
 * The problem of candidate `c` whose name is claimed by every place in
 * `all` (in render order: candidates' problem files, then problem entries
 * naming the job), `c.problemFile` among them.
 */
export function duplicateEntry(c: Candidate, all: readonly string[]): ReportEntry {
  const others = [...all];
  others.splice(others.indexOf(c.problemFile), 1);
  const named = others.map((o) => (o === c.problemFile ? `another document of ${o}` : o));
  const f = finding(
    'duplicate-job-name',
    ['name'],
    `${JSON.stringify(c.spec.name)} is also the name of the job in ${[...new Set(named)].join(', ')}; job names must be unique in the repository`,
  );
  return { file: c.file, job: c.spec.name, problem: problemFromFindings([f], { file: c.problemFile, job: c.spec.name }) };
}

/**
 * Candidates (unique names, sorted by name) whose ingress claims clash with
 * an earlier one's, each with its problem entry. A refused job owns none of
 * its claims. Jobs without routes can neither clash nor own.
 */
export function ingressConflicts(sorted: readonly Candidate[]): Map<Candidate, ReportEntry> {
  const owner = new Map<string, string>();
  const refused = new Map<Candidate, ReportEntry>();
  for (const c of sorted) {
    if (!c.spec.ingress || c.spec.ingress.length === 0) continue;
    const clashes: Finding[] = [];
    c.spec.ingress.forEach((r, i) => {
      const claim = ingressClaim(r);
      const other = owner.get(claim);
      if (other !== undefined) clashes.push(finding('ingress-conflict', ['ingress', i], `${describeClaim(claim)} is already routed to job ${JSON.stringify(other)}; the job later in name order is refused: change the host or path here or there`));
    });
    if (clashes.length > 0) {
      refused.set(c, { file: c.file, job: c.spec.name, problem: problemFromFindings(clashes, { file: c.problemFile, job: c.spec.name }) });
      continue;
    }
    for (const r of c.spec.ingress) owner.set(ingressClaim(r), c.spec.name);
  }
  return refused;
}

/**
 * Candidates replayed from a RenderCache are the same objects: each becomes
 * one DesiredJob, whose spec is hashed once. The same objects round after
 * round also let decide() memoise per spec.
 */
const desiredJobs = new WeakMap<Candidate, DesiredJob>();
export function desiredJobOf(c: Candidate): DesiredJob {
  let d = desiredJobs.get(c);
  if (d === undefined) {
    d = { spec: c.spec, specHash: hashOf(c.spec), file: c.file };
    desiredJobs.set(c, d);
  }
  return d;
}

/** Specs replayed from a RenderCache are the same objects: hash each once. */
const hashes = new WeakMap<JobSpec, string>();
function hashOf(spec: JobSpec): string {
  let h = hashes.get(spec);
  if (h === undefined) {
    h = podTemplateHash(spec);
    hashes.set(spec, h);
  }
  return h;
}
