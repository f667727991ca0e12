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

export interface Candidate {
  spec: JobSpec;
  /** Source: the job file or chart directory (DesiredJob.file). */
  file: string;
  /** Where the user finds it (a template file for chart directories). */
  problemFile: string;
}

export class RenderContext {
  private readonly candidates: Candidate[] = [];
  private readonly entries: RenderProblem[] = [];

  constructor(readonly opts: RenderOptions) {}

  accept(c: Candidate): void {
    this.candidates.push(c);
  }

  /** Record a problem for `file`, keyed by `job` when known, else by `fallbackKey` (the path). */
  report(entry: { file: string; job?: string; fallbackKey?: string; problem: Problem }): void {
    const problem = this.opts.commit !== undefined ? { ...entry.problem, commit: this.opts.commit } : entry.problem;
    const out: RenderProblem = { key: entry.job ?? entry.fallbackKey ?? entry.file, file: entry.file, problem };
    if (entry.job !== undefined) out.job = entry.job;
    this.entries.push(out);
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
      const others = [...all];
      others.splice(others.indexOf(c.problemFile), 1);
      const named = others.map((o) => (o === c.problemFile ? `another document of ${o}` : o));
      const f = finding(
        'duplicate-job-name',
        ['name'],
        `${JSON.stringify(c.spec.name)} is also the name of the job in ${[...new Set(named)].join(', ')}; job names must be unique in the repository`,
      );
      this.report({ file: c.file, job: c.spec.name, problem: problemFromFindings([f], { file: c.problemFile, job: c.spec.name }) });
    }
    this.candidates.splice(0, this.candidates.length, ...keep);
  }

  /**
   * Two jobs claiming the same ingress host + path (or TCP port): the job
   * later in name order is refused, naming the other; its accepted version
   * (if any) keeps running. Deterministic whatever the order of commits.
   */
  settleIngressConflicts(): void {
    const owner = new Map<string, string>();
    const keep: Candidate[] = [];
    for (const c of [...this.candidates].sort((a, b) => (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0))) {
      const clashes: Finding[] = [];
      (c.spec.ingress ?? []).forEach((r, i) => {
        const claim = ingressClaim(r);
        const other = owner.get(claim);
        if (other !== undefined) clashes.push(finding('ingress-conflict', ['ingress', i], `${describeClaim(claim)} is already routed to job ${JSON.stringify(other)}; the job later in name order is refused: change the host or path here or there`));
      });
      if (clashes.length > 0) {
        this.report({ file: c.file, job: c.spec.name, problem: problemFromFindings(clashes, { file: c.problemFile, job: c.spec.name }) });
        continue;
      }
      for (const r of c.spec.ingress ?? []) owner.set(ingressClaim(r), c.spec.name);
      keep.push(c);
    }
    this.candidates.splice(0, this.candidates.length, ...keep);
  }

  jobs(): DesiredJob[] {
    return this.candidates.map(desiredJobOf).sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1));
  }

  problems(): RenderProblem[] {
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return [...this.entries].sort((a, b) => cmp(a.key, b.key) || cmp(a.file, b.file) || cmp(String(a.problem.file), String(b.problem.file)));
  }
}

/**
 * Candidates replayed from a RenderCache are the same objects: each becomes
 * one DesiredJob, whose spec is hashed once. The same objects round after
 * round also let decide() memoise per spec.
 */
const desiredJobs = new WeakMap<Candidate, DesiredJob>();
function desiredJobOf(c: Candidate): DesiredJob {
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
