// Desired vs accepted, per job name: which bucket each job starts in. No
// scheduling here; decide() may still turn a create/scale-up/update into a
// rejection when it does not fit.
import type { AcceptedJob } from '../model/cluster';
import type { DesiredJob } from '../model/job';
import { attemptHash } from './rollout';
import { samePolicy, sameTemplate } from './spec-compare';
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
  /** For a job whose failed update the file still asks for: the accepted pod at the file's count (see failedAgain). */
  desired?: DesiredJob;
  accepted?: AcceptedJob;
  /** The file still asks for the spec of the job's failed update: it is not tried again, its report stays. */
  failedAgain?: boolean;
}

export { sameTemplate } from './spec-compare';

/** Sorted by job name. */
export function classifyJobs(desired: readonly DesiredJob[], accepted: ReadonlyMap<string, AcceptedJob>, invalid: readonly InvalidEntry[]): JobChange[] {
  const desiredByName = new Map<string, DesiredJob>();
  for (const d of desired) if (!desiredByName.has(d.spec.name)) desiredByName.set(d.spec.name, d);
  const changes: JobChange[] = [];
  for (const name of sortedNames(desired, desiredByName, accepted)) {
    const d = desiredByName.get(name);
    const a = accepted.get(name);
    if (d && !a) changes.push({ name, kind: 'create', desired: d });
    else if (!d && a) changes.push({ name, kind: isHeldByInvalid(a, invalid) ? 'held' : 'delete', accepted: a });
    else if (d && a && a.failedUpdate !== undefined && a.failedUpdate.attempt === attemptHash(d.spec)) {
      // A failed update is not tried again until the file changes: only the file's count applies, to the accepted pod.
      const held: DesiredJob = d.specHash === a.specHash ? d : { ...d, spec: { ...a.spec, numInstances: d.spec.numInstances }, specHash: a.specHash };
      changes.push({ name, kind: compare(held, a), desired: held, accepted: a, failedAgain: true });
    } else if (d && a) changes.push({ name, kind: compare(d, a), desired: d, accepted: a });
  }
  return changes;
}

/**
 * Every desired and accepted name, sorted. The renderer hands the desired
 * jobs sorted by name: then only the accepted names it lacks (deletions,
 * usually none) need sorting, and a merge does the rest, instead of sorting
 * all 10,000 names again every round.
 */
function sortedNames(desired: readonly DesiredJob[], desiredByName: ReadonlyMap<string, DesiredJob>, accepted: ReadonlyMap<string, AcceptedJob>): string[] {
  const extra: string[] = [];
  for (const name of accepted.keys()) if (!desiredByName.has(name)) extra.push(name);
  extra.sort();
  let sorted = desiredByName.size === desired.length;
  for (let i = 1; sorted && i < desired.length; i++) sorted = desired[i - 1].spec.name < desired[i].spec.name;
  if (!sorted) return [...new Set<string>([...desiredByName.keys(), ...extra])].sort();
  const out: string[] = new Array<string>(desired.length + extra.length);
  let i = 0;
  let j = 0;
  for (let o = 0; o < out.length; o++) {
    if (j >= extra.length || (i < desired.length && desired[i].spec.name < extra[j])) out[o] = desired[i++].spec.name;
    else out[o] = extra[j++];
  }
  return out;
}

function compare(d: DesiredJob, a: AcceptedJob): ChangeKind {
  // Equal hashes mean equal pods (the hash covers the pod template): skip the
  // canonical comparison (most jobs, most rounds).
  if (d.specHash !== a.specHash && !sameTemplate(d.spec, a.spec)) return 'update';
  // A daemon's count follows the nodes: decide() sets it, the file never does.
  if (d.spec.type !== 'daemon') {
    const want = d.spec.numInstances;
    const have = a.instances.length;
    if (want > have) return 'scale-up';
    if (want < have) return 'scale-down';
  }
  // Same pod, same count: a hash that still differs (e.g. hashing changed) is
  // rewritten in place, and so is a changed policy (update, stopGrace, placement).
  return d.specHash === a.specHash && samePolicy(d.spec, a.spec) ? 'unchanged' : 'update';
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
