// One scheduling decision: desired jobs + cluster snapshot → the exact etcd
// writes. Pure and deterministic: the clock comes in as `now`, nothing is
// read or written, and every collection is walked in a sorted order.
import type { AcceptedJob, InstancePlacement } from '../model/cluster';
import { placementName } from '../model/cluster';
import { updatePolicyOf, type DesiredJob } from '../model/job';
import type { Problem } from '../model/problem';
import { makeProblem } from '../problems';
import {
  ClusterState,
  DEFAULT_POLICY,
  placedState,
  demandSize,
  describeDemand,
  explainPlacement,
  fitsOn,
  instanceDemand,
  makeRequest,
  placementDemand,
  placeAll,
  placeBatch,
  placementProblem,
  type Demand,
  type PlacementRequest,
  type SchedulerPolicy,
} from '../schedule';
import { classifyJobs, type JobChange } from './classify';
import { DELETION_GUARD_KEY, checkDeletionGuard } from './deletion-guard';
import { reconcileRejections, type WantedRejection } from './rejections';
import { beginRollout, onTarget, rolloutProgress, stepRollout, type RolloutContext } from './rollout';
import { BUCKETS, type Bucket, type DecideInput, type Decision, type InvalidEntry, type JobOutcome } from './types';

/** A job that stays accepted this round (possibly rescaled, updated or re-placed). */
interface Kept {
  change: JobChange;
  /** The version that will be accepted after this round. */
  accepted: AcceptedJob;
  demand: Demand;
  /** Working copy of the placements; the input is never mutated. */
  instances: InstancePlacement[];
  /** The placements or the spec differ from what etcd holds. */
  dirty: boolean;
  bucket: Bucket;
  /** Why some instances stay pending (not a rejection: nothing to report). */
  pending?: Explained;
}

interface Explained {
  problem: Problem;
  nodeReasons: Record<string, string>;
}

interface Round {
  input: DecideInput;
  state: ClusterState;
  policy: SchedulerPolicy;
  now: string;
  /** Rejections this round wants in force, by key. */
  wanted: Map<string, WantedRejection>;
  nodeReasons: Map<string, Record<string, string>>;
}

export function decide(input: DecideInput, policy: SchedulerPolicy = DEFAULT_POLICY): Decision {
  const round: Round = {
    input,
    // Every accepted instance on a live node is accounted in it already (schedule/placed-state.ts).
    state: placedState(input.cluster.nodes, input.cluster.jobs),
    policy,
    now: input.now.toISOString(),
    wanted: new Map(),
    nodeReasons: new Map(),
  };
  const changes = classifyJobs(input.desired, input.cluster.jobs, input.invalid);

  // 1. Each accepted job's working copy (its instances are accounted in round.state: placedState).
  const kept = new Map<string, Kept>();
  for (const change of changes) {
    if (!change.accepted) continue;
    kept.set(change.name, {
      change,
      accepted: change.accepted,
      demand: instanceDemand(change.accepted.spec),
      instances: change.accepted.instances.slice(),
      dirty: false,
      bucket: 'unchanged',
    });
  }

  // 2. Invalid files are reported; they hold their job's accepted version (classify).
  for (const entry of input.invalid) {
    if (!round.wanted.has(entry.key)) round.wanted.set(entry.key, { desiredHash: '', problem: invalidProblem(entry, input.commit) });
  }

  // 3. Deletion guard: a round that would delete too much deletes nothing.
  const deleting = changes.filter((c) => c.kind === 'delete').map((c) => c.name);
  const guard = checkDeletionGuard(deleting, input.cluster.jobs.size, input.deletionGuard, input.commit);
  if (guard.tripped && guard.problem) {
    round.wanted.set(DELETION_GUARD_KEY, { desiredHash: guard.desiredHash ?? '', problem: guard.problem });
  }

  // 4. Free capacity first: deletes and scale-downs.
  const deleteJobs: string[] = [];
  for (const k of kept.values()) {
    if (k.change.kind === 'delete') {
      if (guard.tripped) {
        k.bucket = 'rejected';
        continue;
      }
      release(round, k, k.instances);
      kept.delete(k.change.name);
      deleteJobs.push(k.change.name);
    } else if (k.change.kind === 'scale-down') {
      scaleDown(round, k, k.change.desired as DesiredJob);
    }
  }

  // 5. Failover: lost and pending instances of accepted jobs, as many as fit.
  failover(round, [...kept.values()]);

  // 6. Updates, one at a time: an update frees its old version's room
  //    before placing the new one, and must get it back intact if the new
  //    one does not fit, so nothing else may be placed in between.
  const updates = [...kept.values()].filter((k) => k.change.kind === 'update');
  for (const k of bySizeDescending(round, updates, (x) => instanceDemand((x.change.desired as DesiredJob).spec))) {
    update(round, k, k.change.desired as DesiredJob);
  }

  // 6b. Rolling updates under way take their next step (before new work takes the room they need).
  for (const k of kept.values()) advanceRollout(round, k);
  for (const k of kept.values()) keepFailedUpdate(round, k);

  // 7. Scale-ups, then creates: each a batch, every job whole or rejected.
  scaleUps(round, [...kept.values()].filter((k) => k.change.kind === 'scale-up'));
  const created = creates(round, changes.filter((c) => c.kind === 'create').map((c) => c.desired as DesiredJob));

  // 8. Rejections to write and to remove, then what to tell humans.
  const rejections = reconcileRejections(round.wanted, input.cluster.rejections, input.commit, round.now);
  const putJobs: AcceptedJob[] = [];
  const outcomes: JobOutcome[] = [];
  for (const k of kept.values()) {
    if (k.dirty) putJobs.push({ ...k.accepted, instances: k.instances });
    outcomes.push(keptOutcome(round, k, guard.tripped ? rejections.effective.get(DELETION_GUARD_KEY) : undefined, rejections.effective));
  }
  for (const [name, job] of created) {
    if (job) {
      putJobs.push(job);
      outcomes.push({ job: name, bucket: 'create', placements: job.instances.map((p) => p.node) });
    } else {
      outcomes.push(withReasons(round, { job: name, bucket: 'rejected', problem: rejections.effective.get(name) }));
    }
  }
  for (const name of deleteJobs) outcomes.push({ job: name, bucket: 'delete' });
  for (const entry of input.invalid) {
    const heldJob = entry.job !== undefined ? kept.get(entry.job) : undefined;
    if (heldJob?.change.kind === 'held') continue; // reported on the held job's own outcome
    outcomes.push({ job: entry.job ?? entry.key, bucket: 'invalid', problem: rejections.effective.get(entry.key) });
  }
  putJobs.sort((a, b) => compareNames(a.spec.name, b.spec.name));
  outcomes.sort((a, b) => compareNames(a.job, b.job) || compareNames(a.bucket, b.bucket));
  return {
    putJobs,
    deleteJobs: deleteJobs.sort(compareNames),
    putRejections: rejections.put,
    deleteRejections: rejections.remove,
    outcomes,
    counts: countOutcomes(outcomes),
  };
}

function invalidProblem(entry: InvalidEntry, commit: string): Problem {
  const p: Problem = { ...entry.problem, commit, file: entry.problem.file ?? entry.file };
  if (entry.job !== undefined && p.job === undefined) p.job = entry.job;
  return p;
}

/** Take `instances` of `k` (each with the version it runs) off their live nodes. */
function release(round: Round, k: Kept, instances: readonly InstancePlacement[]): void {
  for (const p of instances) {
    const id = p.node === null ? undefined : round.state.idOf(p.node);
    if (id !== undefined) round.state.remove(id, k.change.name, demandAt(k, p));
  }
}

/** What instance `p` of `k` takes: the target's demand, or its pinned version's during a rolling update. */
function demandAt(k: Kept, p: InstancePlacement): Demand {
  return onTarget(k.accepted, p) ? k.demand : placementDemand(k.accepted, p);
}

/** Stable identities: the highest ordinals go. */
function scaleDown(round: Round, k: Kept, desired: DesiredJob): void {
  const want = desired.spec.numInstances;
  release(round, k, k.instances.slice(want));
  k.instances = k.instances.slice(0, want);
  k.accepted = acceptedVersion(round, desired, k.accepted);
  k.dirty = true;
  k.bucket = 'scale-down';
}

/**
 * Instances whose node died become pending; then every pending instance of
 * every kept job is placed in one batch, as many as fit (the seed's rule).
 * Live placements never move.
 */
function failover(round: Round, jobs: readonly Kept[]): void {
  const { state, now } = round;
  // One request per job and version: during a rolling update a lost instance comes back as the version it ran.
  const waiting: Array<{ k: Kept; ordinals: number[]; demand: Demand }> = [];
  for (const k of jobs) {
    if (allPlaced(state, k)) continue; // most jobs, most rounds: nothing to allocate for them
    const byVersion = new Map<string, number[]>();
    k.instances.forEach((p, ordinal) => {
      if (p.node !== null && state.idOf(p.node) === undefined) {
        k.instances[ordinal] = { ...p, node: null, since: now };
        markRescheduled(k);
      }
      const q = k.instances[ordinal];
      if (q.node !== null) return;
      const version = q.spec ?? '';
      byVersion.set(version, [...(byVersion.get(version) ?? []), ordinal]);
    });
    for (const ordinals of byVersion.values()) waiting.push({ k, ordinals, demand: demandAt(k, k.instances[ordinals[0]]) });
  }
  const requests = waiting.map(({ k, ordinals, demand }) => ({
    req: makeRequest(state, k.change.name, demand),
    count: ordinals.length,
    mode: 'as-many-as-fit' as const,
  }));
  const results = placeBatch(state, requests, round.policy);
  waiting.forEach(({ k, ordinals }, i) => {
    const nodes = results[i] ?? [];
    nodes.forEach((id, j) => (k.instances[ordinals[j]] = { ...k.instances[ordinals[j]], node: state.names[id], since: now }));
    if (nodes.length > 0) markRescheduled(k);
  });
  // Explained after the whole batch: what is left is what the others left.
  waiting.forEach(({ k, ordinals }, i) => {
    const left = ordinals.length - (results[i] ?? []).length;
    if (left > 0) k.pending = explain(round, requests[i].req, left, k.change.name, k.accepted.file, 'pending');
  });
}

/** Every instance of `k` sits on a live node. */
function allPlaced(state: ClusterState, k: Kept): boolean {
  for (const p of k.instances) if (p.node === null || state.idOf(p.node) === undefined) return false;
  return true;
}

function markRescheduled(k: Kept): void {
  k.dirty = true;
  if (k.bucket === 'unchanged') k.bucket = 'reschedule';
}

/**
 * A new version of an accepted job. The old version's usage is freed first;
 * an instance stays on its node when the new spec fits there, the others
 * are placed afresh. All or nothing: on failure the old version stays.
 * Then, by `update.strategy`: `recreate` switches every instance at once;
 * `rolling` (the default) keeps every running instance on the version it
 * runs, pinned, and advanceRollout() replaces them batch by batch (the
 * check above proved the end state fits). A change of policy alone (same
 * pod) restarts nothing.
 */
function update(round: Round, k: Kept, desired: DesiredJob): void {
  const { state, now } = round;
  const name = k.change.name;
  if (desired.specHash === k.accepted.specHash) {
    k.accepted = acceptedVersion(round, desired, k.accepted);
    k.dirty = true;
    k.bucket = 'update';
    return;
  }
  const newDemand = instanceDemand(desired.spec);
  const req = makeRequest(state, name, newDemand);
  const want = desired.spec.numInstances;
  release(round, k, k.instances);

  const next: Array<InstancePlacement | undefined> = new Array(want).fill(undefined);
  const added: number[] = [];
  for (let i = 0; i < Math.min(want, k.instances.length); i++) {
    const p = k.instances[i];
    const id = p.node === null ? undefined : state.idOf(p.node);
    if (id !== undefined && fitsOn(state, id, req, round.policy)) {
      state.add(id, name, newDemand);
      added.push(id);
      next[i] = p;
    }
  }
  const moving = next.flatMap((p, i) => (p === undefined ? [i] : []));
  const nodes = placeAll(state, req, moving.length, round.policy);
  const dropAdded = (): void => {
    for (const id of added) state.remove(id, name, newDemand);
  };
  const readdOld = (): void => {
    for (const p of k.instances) {
      const id = p.node === null ? undefined : state.idOf(p.node);
      if (id !== undefined) state.add(id, name, demandAt(k, p));
    }
  };
  if (!nodes) {
    dropAdded();
    // Instances of one job are alike, so keeping some in place never costs a
    // fit: explaining against the fully freed state is exact.
    const why = explain(round, req, want, name, desired.file, 'all');
    readdOld();
    reject(round, k, desired, why);
    return;
  }
  const before = k.accepted;
  const rolling = updatePolicyOf(desired.spec).strategy === 'rolling' && k.instances.some((p) => p.node !== null && state.idOf(p.node) !== undefined);
  if (rolling) {
    // The running instances stay as they are for now (accounted with the versions they run).
    for (const id of nodes) state.remove(id, name, newDemand);
    dropAdded();
    readdOld();
    release(round, k, k.instances.slice(want));
  }
  k.accepted = acceptedVersion(round, desired, k.accepted);
  k.dirty = true;
  k.bucket = 'update';
  if (!rolling) {
    nodes.forEach((id, i) => (next[moving[i]] = { node: state.names[id], since: now }));
    k.instances = (next as InstancePlacement[]).map((p) => ({ node: p.node, since: p.since, ...(p.daemon !== undefined ? { daemon: p.daemon } : {}) }));
    delete k.accepted.rollout;
    delete k.accepted.versions;
    delete k.accepted.failedUpdate;
    k.demand = newDemand;
    k.pending = undefined; // every instance has a node now
    return;
  }
  // Rolling: ordinals the new count adds (and instances that had no node)
  // take the new spec now, where there is room.
  const kept = k.instances.slice(0, want);
  k.demand = newDemand;
  const instances: InstancePlacement[] = [];
  for (let i = 0; i < want; i++) {
    const old = kept[i];
    if (old !== undefined && old.node !== null && state.idOf(old.node) !== undefined) {
      instances.push({ ...old, spec: old.spec ?? before.specHash }); // keeps running what it runs
      continue;
    }
    // New ordinal or pending: placed now with the new spec when it fits (else failover retries).
    const id = placeAll(state, req, 1, round.policy)?.[0];
    instances.push({ node: id === undefined ? null : state.names[id], since: now });
  }
  k.accepted = beginRollout(before, { ...k.accepted, instances }, now);
  k.instances = k.accepted.instances.slice();
  k.pending = undefined;
}

/**
 * One step of `k`'s rolling update (plan/rollout.ts): judge the batch from
 * what the driver saw, start the next one, finish, or revert.
 */
function advanceRollout(round: Round, k: Kept): void {
  if (!k.accepted.rollout || k.change.kind === 'delete') return;
  const ctx: RolloutContext = {
    now: round.now,
    health: round.input.health ?? new Map(),
    switchToTarget: (_job, ordinal, p) => switchToTarget(round, k, ordinal, p),
  };
  const step = stepRollout({ ...k.accepted, instances: k.instances }, ctx);
  if (!step.changed) return;
  k.accepted = step.job;
  k.instances = step.job.instances.slice();
  k.demand = instanceDemand(step.job.spec);
  k.dirty = true;
  if (k.bucket === 'unchanged' || k.bucket === 'reschedule') k.bucket = 'update';
}

/** Instance `ordinal` of `k` takes the target spec: in place when it fits, else elsewhere, else not yet. */
function switchToTarget(round: Round, k: Kept, ordinal: number, p: InstancePlacement): InstancePlacement | { blocked: string } {
  const { state, now } = round;
  const name = k.change.name;
  const req = makeRequest(state, name, k.demand);
  const target: InstancePlacement = { node: p.node, since: p.since, ...(p.daemon !== undefined ? { daemon: p.daemon } : {}) };
  const id = p.node === null ? undefined : state.idOf(p.node);
  if (id === undefined) return { ...target, node: null, since: now }; // pending: failover places it next round
  state.remove(id, name, demandAt(k, p));
  if (fitsOn(state, id, req, round.policy)) {
    state.add(id, name, k.demand);
    return { ...target, since: now };
  }
  const elsewhere = p.daemon === undefined ? placeAll(state, req, 1, round.policy)?.[0] : undefined;
  if (elsewhere !== undefined) {
    return { ...target, node: state.names[elsewhere], since: now };
  }
  state.add(id, name, demandAt(k, p));
  const why = explain(round, req, 1, name, k.accepted.file, 'more');
  return { blocked: `${placementName(name, p, ordinal)} cannot take the new spec: ${why.problem.detail}` };
}

/**
 * A failed update's report stays while the file asks for the failed spec;
 * once the file changes to anything else the failure is forgotten.
 */
function keepFailedUpdate(round: Round, k: Kept): void {
  const failed = k.accepted.failedUpdate;
  if (!failed) return;
  // One that failed this round is in force whatever the file said when the round began.
  const earlier = failed === k.change.accepted?.failedUpdate;
  if (earlier && !k.change.failedAgain && k.change.desired) {
    delete k.accepted.failedUpdate;
    k.accepted = { ...k.accepted };
    k.dirty = true;
    return;
  }
  const outcome = failed.reverted
    ? 'the previous spec is back on every instance'
    : 'the update stopped where it was (autoRevert is off): some instances run the new spec, the others the previous one';
  const problem = makeProblem('update-failed', {
    job: k.change.name,
    file: k.accepted.file,
    commit: failed.commit,
    detail: `update of job "${k.change.name}" to commit ${failed.commit.slice(0, 7)} failed: instance ${failed.instance} failed because ${failed.reason}; ${outcome}. The spec is not tried again until the job's file changes.`,
    extra: { instance: failed.instance, reason: failed.reason, reverted: failed.reverted },
  });
  if (!round.wanted.has(k.change.name)) round.wanted.set(k.change.name, { desiredHash: failed.specHash, problem, commit: failed.commit });
}

/** New ordinals of every scaled-up job, in one batch; each job whole or rejected. */
function scaleUps(round: Round, jobs: readonly Kept[]): void {
  const requests = jobs.map((k) => ({
    req: makeRequest(round.state, k.change.name, k.demand),
    count: (k.change.desired as DesiredJob).spec.numInstances - k.instances.length,
    mode: 'whole' as const,
  }));
  const results = placeBatch(round.state, requests, round.policy);
  jobs.forEach((k, i) => {
    const desired = k.change.desired as DesiredJob;
    const nodes = results[i];
    if (!nodes) {
      reject(round, k, desired, explain(round, requests[i].req, requests[i].count, desired.spec.name, desired.file, 'more'));
      return;
    }
    for (const id of nodes) k.instances.push({ node: round.state.names[id], since: round.now });
    k.accepted = acceptedVersion(round, desired, k.accepted);
    k.dirty = true;
    k.bucket = 'scale-up';
  });
}

/** Every new job in one batch; each whole, or rejected and not written. */
function creates(round: Round, jobs: readonly DesiredJob[]): Map<string, AcceptedJob | null> {
  const requests = jobs.map((d) => ({
    req: makeRequest(round.state, d.spec.name, instanceDemand(d.spec)),
    count: d.spec.numInstances,
    mode: 'whole' as const,
  }));
  const results = placeBatch(round.state, requests, round.policy);
  const out = new Map<string, AcceptedJob | null>();
  jobs.forEach((d, i) => {
    const nodes = results[i];
    if (!nodes) {
      const why = explain(round, requests[i].req, d.spec.numInstances, d.spec.name, d.file, 'all');
      if (!round.wanted.has(d.spec.name)) round.wanted.set(d.spec.name, { desiredHash: d.specHash, problem: why.problem });
      round.nodeReasons.set(d.spec.name, why.nodeReasons);
      out.set(d.spec.name, null);
      return;
    }
    const instances = nodes.map((id) => ({ node: round.state.names[id], since: round.now }));
    out.set(d.spec.name, { spec: d.spec, specHash: d.specHash, commit: round.input.commit, file: d.file, acceptedAt: round.now, instances });
  });
  return out;
}

function reject(round: Round, k: Kept, desired: DesiredJob, why: Explained): void {
  // An invalid entry with the same key already speaks for this job.
  if (!round.wanted.has(k.change.name)) round.wanted.set(k.change.name, { desiredHash: desired.specHash, problem: why.problem });
  round.nodeReasons.set(k.change.name, why.nodeReasons);
  k.bucket = 'rejected';
}

function explain(round: Round, req: PlacementRequest, count: number, job: string, file: string, scope: 'all' | 'more' | 'pending'): Explained {
  const exp = explainPlacement(round.state, req, count, round.policy);
  const { problem } = placementProblem(exp, { job, file, commit: round.input.commit, scope, perInstance: describeDemand(req) });
  return { problem, nodeReasons: exp.nodeReasons };
}

function acceptedVersion(round: Round, desired: DesiredJob, previous: AcceptedJob): AcceptedJob {
  return { ...previous, spec: desired.spec, specHash: desired.specHash, commit: round.input.commit, file: desired.file, acceptedAt: round.now };
}

function keptOutcome(round: Round, k: Kept, guardProblem: Problem | undefined, effective: ReadonlyMap<string, Problem>): JobOutcome {
  const name = k.change.name;
  const out: JobOutcome = { job: name, bucket: k.bucket, placements: k.instances.map((p) => p.node) };
  const strategy = strategyOf(k);
  if (strategy) out.strategy = strategy;
  if (k.change.kind === 'delete' && guardProblem) {
    out.problem = guardProblem;
  } else if (k.change.kind === 'held') {
    const entry = round.input.invalid.find((e) => e.job === name);
    if (entry) {
      out.bucket = 'invalid';
      out.problem = effective.get(entry.key);
    }
  } else if (k.bucket === 'rejected') {
    out.problem = effective.get(name);
    const reasons = round.nodeReasons.get(name);
    if (reasons) out.nodeReasons = reasons;
  }
  if (!out.problem && k.pending) {
    out.problem = k.pending.problem;
    out.nodeReasons = k.pending.nodeReasons;
  }
  return out;
}

/** What `ozy plan` says of how an update reaches the instances. */
function strategyOf(k: Kept): string | undefined {
  const r = k.accepted.rollout;
  if (k.change.kind === 'update' && k.bucket === 'update' && k.change.desired) {
    return k.change.desired.specHash === k.change.accepted?.specHash ? 'in place' : updatePolicyOf(k.accepted.spec).strategy;
  }
  if (!r) return undefined;
  const { done, total } = rolloutProgress({ ...k.accepted, instances: k.instances });
  return `${r.kind === 'revert' ? 'reverting' : r.halted ? 'halted' : 'rolling'} ${done}/${total}, ${updatePolicyOf(k.accepted.spec).maxParallel} at a time`;
}

function withReasons(round: Round, out: JobOutcome): JobOutcome {
  const reasons = round.nodeReasons.get(out.job);
  if (reasons) out.nodeReasons = reasons;
  return out;
}

/** Bigger instances first ("decreasing" in best-fit decreasing), then by name. */
function bySizeDescending(round: Round, items: Kept[], demandOf: (x: Kept) => Demand): Kept[] {
  const size = new Map<Kept, number>(items.map((x) => [x, demandSize(round.state, demandOf(x))]));
  return items.sort((a, b) => {
    const sa = size.get(a) as number;
    const sb = size.get(b) as number;
    if (sa !== sb) return sa > sb ? -1 : 1;
    return compareNames(a.change.name, b.change.name);
  });
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function countOutcomes(outcomes: readonly JobOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const b of BUCKETS) counts[b] = 0;
  let pending = 0;
  for (const o of outcomes) {
    counts[o.bucket]++;
    if (o.placements) for (const n of o.placements) if (n === null) pending++;
  }
  counts.pending = pending;
  return counts;
}

