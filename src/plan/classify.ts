// Desired vs accepted, per job name: which bucket each job starts in. No
// scheduling here; decide() may still turn a create/scale-up/update into a
// rejection when it does not fit.
import type { AcceptedJob } from '../model/cluster';
import { canonicalJson } from '../model/hash';
import type { DesiredJob, JobSpec } from '../model/job';
import type { InvalidEntry } from './types';

export type ChangeKind =
  | 'create'
  | 'update'
  | 'scale-up'
  | 'scale-down'
  | 'unchanged'
  | 'delete'
  /** Accepted, absent from the desired set, but its file is invalid: keep running the accepted version. */
  | 'held';

export interface JobChange {
  name: string;
  kind: ChangeKind;
  desired?: DesiredJob;
  accepted?: AcceptedJob;
}

/** Sorted by job name. */
export function classifyJobs(desired: readonly DesiredJob[], accepted: ReadonlyMap<string, AcceptedJob>, invalid: readonly InvalidEntry[]): JobChange[] {
  const desiredByName = new Map<string, DesiredJob>();
  for (const d of desired) if (!desiredByName.has(d.spec.name)) desiredByName.set(d.spec.name, d);
  const names = new Set<string>([...desiredByName.keys(), ...accepted.keys()]);
  const changes: JobChange[] = [];
  for (const name of [...names].sort()) {
    const d = desiredByName.get(name);
    const a = accepted.get(name);
    if (d && !a) changes.push({ name, kind: 'create', desired: d });
    else if (!d && a) changes.push({ name, kind: isHeldByInvalid(a, invalid) ? 'held' : 'delete', accepted: a });
    else if (d && a) changes.push({ name, kind: compare(d, a), desired: d, accepted: a });
  }
  return changes;
}

function compare(d: DesiredJob, a: AcceptedJob): ChangeKind {
  const want = d.spec.numInstances;
  const have = a.instances.length;
  // Equal hashes mean equal specs: skip the canonical comparison (most jobs, most rounds).
  if (d.specHash !== a.specHash && !sameTemplate(d.spec, a.spec)) return 'update';
  if (want > have) return 'scale-up';
  if (want < have) return 'scale-down';
  // Same pod, same count: a hash that still differs (e.g. hashing changed) is rewritten in place.
  return d.specHash === a.specHash ? 'unchanged' : 'update';
}

/**
 * Same pod template (everything but the instance count). A scale is not an
 * update: the running instances keep their spec, nothing restarts.
 */
export function sameTemplate(a: JobSpec, b: JobSpec): boolean {
  return canonicalJson({ ...a, numInstances: 0 }) === canonicalJson({ ...b, numInstances: 0 });
}

/**
 * A file that fails to render does not count as deleting its job: the
 * accepted version keeps running (invariant 4). An entry holds a job when
 * it names the job, when it is the job's file or a file inside the job's
 * chart directory, or when it is a repository-level problem (file '' or
 * '.', e.g. ozy.yaml unreadable or the repository too large to judge).
 */
export function isHeldByInvalid(job: AcceptedJob, invalid: readonly InvalidEntry[]): boolean {
  for (const e of invalid) {
    if (e.job !== undefined && e.job === job.spec.name) return true;
    if (e.file === '' || e.file === '.' || e.file === '/') return true;
    if (e.file === job.file) return true;
    if (e.file.startsWith(`${job.file}/`) || job.file.startsWith(`${e.file}/`)) return true;
  }
  return false;
}
