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
  return classifyNoDeletion(desired, accepted) ?? classifyAll(desired, accepted, invalid);
}

/**
 * Most rounds: the desired jobs come sorted with unique names (the
 * renderer's order) and every accepted job is among them. Then each job
 * costs one lookup, in the desired jobs' own order; undefined otherwise.
 */
function classifyNoDeletion(desired: readonly DesiredJob[], accepted: ReadonlyMap<string, AcceptedJob>): JobChange[] | undefined {
  const changes: JobChange[] = [];
  let known = 0;
  let previous = '';
  for (let i = 0; i < desired.length; i++) {
    const d = desired[i];
    const name = d.spec.name;
    if (i > 0 && !(previous < name)) return undefined;
    previous = name;
    const a = accepted.get(name);
    if (a === undefined) changes.push({ name, kind: 'create', desired: d });
    else {
      known++;
      changes.push(pairChange(name, d, a));
    }
  }
  return known === accepted.size ? changes : undefined;
}

function classifyAll(desired: readonly DesiredJob[], accepted: ReadonlyMap<string, AcceptedJob>, invalid: readonly InvalidEntry[]): JobChange[] {
  const changes: JobChange[] = [];
  const { names, desiredOf } = namesInOrder(desired, accepted);
  for (const name of names) {
    const d = desiredOf(name);
    const a = accepted.get(name);
    if (d && !a) changes.push({ name, kind: 'create', desired: d });
    else if (!d && a) changes.push({ name, kind: isHeldByInvalid(a, invalid) ? 'held' : 'delete', accepted: a });
    else if (d && a) changes.push(pairChange(name, d, a));
  }
  return changes;
}

/**
 * The change of each desired job against its accepted version, as last
 * computed, keyed by the desired job. Both are immutable values, and from
 * one round to the next both are the very same objects for every job that
 * did not change (render cache, schedule cache): the answer for 5,000
 * unchanged jobs is 5,000 lookups, not 5,000 comparisons and changes.
 * The change is only read by decide(), so sharing it between rounds is safe.
 */
const pairs = new WeakMap<DesiredJob, JobChange>();

function pairChange(name: string, d: DesiredJob, a: AcceptedJob): JobChange {
  const known = pairs.get(d);
  if (known !== undefined && known.accepted === a) return known;
  let change: JobChange;
  if (a.failedUpdate !== undefined && a.failedUpdate.attempt === attemptHash(d.spec)) {
    // A failed update is not tried again until the file changes: only the file's count applies, to the accepted pod.
    const held: DesiredJob = d.specHash === a.specHash ? d : { ...d, spec: { ...a.spec, numInstances: d.spec.numInstances }, specHash: a.specHash };
    change = { name, kind: compare(held, a), desired: held, accepted: a, failedAgain: true };
  } else change = { name, kind: compare(d, a), desired: d, accepted: a };
  pairs.set(d, change);
  return change;
}

/**
 * Every desired and accepted name, sorted, and the desired job of each
 * (the first of its name). The renderer hands the desired jobs sorted with
 * unique names: then their own order is the answer when every accepted
 * name is among them (no deletion: most rounds), only the accepted names
 * they lack need sorting otherwise, and a cursor walking the array finds
 * each desired job (names are asked in order) — no sorting of 10,000 names
 * and no 5,000-entry map every round.
 */
function namesInOrder(desired: readonly DesiredJob[], accepted: ReadonlyMap<string, AcceptedJob>): { names: string[]; desiredOf: (name: string) => DesiredJob | undefined } {
  let sorted = true;
  for (let i = 1; sorted && i < desired.length; i++) sorted = desired[i - 1].spec.name < desired[i].spec.name;
  if (!sorted) {
    const byName = new Map<string, DesiredJob>();
    for (const d of desired) if (!byName.has(d.spec.name)) byName.set(d.spec.name, d);
    return { names: [...new Set<string>([...byName.keys(), ...accepted.keys()])].sort(), desiredOf: (name) => byName.get(name) };
  }
  let at = 0;
  const desiredOf = (name: string): DesiredJob | undefined => {
    while (at < desired.length && desired[at].spec.name < name) at++;
    return at < desired.length && desired[at].spec.name === name ? desired[at] : undefined;
  };
  const names = desired.map((d) => d.spec.name);
  let known = 0;
  for (const name of names) if (accepted.has(name)) known++;
  if (known === accepted.size) return { names, desiredOf };
  const wanted = new Set(names);
  const extra: string[] = [];
  for (const name of accepted.keys()) if (!wanted.has(name)) extra.push(name);
  extra.sort();
  const merged: string[] = new Array<string>(names.length + extra.length);
  let i = 0;
  let j = 0;
  for (let o = 0; o < merged.length; o++) {
    if (j >= extra.length || (i < names.length && names[i] < extra[j])) merged[o] = names[i++];
    else merged[o] = extra[j++];
  }
  return { names: merged, desiredOf };
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
