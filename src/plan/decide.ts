// One scheduling decision: desired jobs + cluster snapshot → the exact etcd
// writes. Pure and deterministic: the clock comes in as `now`, nothing is
// read or written, and every collection is walked in a sorted order.
import type { AcceptedJob, InstancePlacement } from '../model/cluster';
import { placementName } from '../model/cluster';
import { spreadOf, updatePolicyOf, type DesiredJob, type JobSpec } from '../model/job';
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
  reasonsFor,
  placeAll,
  placeBatch,
  placementProblem,
  type Demand,
  type PlacementRequest,
  type SchedulerPolicy,
} from '../schedule';
import { classifyJobs, type JobChange } from './classify';
import { DELETION_GUARD_KEY, checkDeletionGuard } from './deletion-guard';
import { hasPersistentVolumes, pinScaleUp, placePinned, recordVolumes, releaseVolumes, retainVolumes, unpinScaleUp, volumeNode, waitsForVolume } from './persistent';
import { reconcileRejections, type WantedRejection } from './rejections';
import { beginRollout, onTarget, rolloutProgress, stepRollout, type RolloutContext } from './rollout';
import { homesOf, knownZones, ordinalsFrom, withRules, zonesOf } from './placement-rules';
import { awayReasons, goHome, zoneCounts } from './zone-moves';
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
  /** Every zone the cluster knows (spread: zones without its own list spreads over these). */
  zones: readonly string[];
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
    zones: knownZones(input.cluster.zones, input.cluster.nodes),
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
  for (const k of kept.values()) retainVolumes(round.state, k.accepted); // persistent volumes of scaled-away ordinals

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
      releaseVolumes(round.state, k.accepted);
      kept.delete(k.change.name);
      deleteJobs.push(k.change.name);
    } else if (k.change.kind === 'scale-down') {
      scaleDown(round, k, k.change.desired as DesiredJob);
    }
  }

  // 4b. Daemons before any service instance: one per live eligible node.
  const isDaemon = (k: Kept): boolean => isDaemonJob(k.accepted.spec) || (k.change.desired !== undefined && isDaemonJob(k.change.desired.spec));
  for (const k of kept.values()) if (isDaemon(k) && k.change.kind !== 'delete') daemon(round, k);
  const daemonCreates = changes.filter((c) => c.kind === 'create' && isDaemonJob((c.desired as DesiredJob).spec));
  const createdDaemons = new Map(daemonCreates.map((c) => [c.name, createDaemon(round, c.desired as DesiredJob)]));

  // 5. Failover: lost and pending instances of accepted jobs, as many as fit
  //    (those with persistent volumes first, on their volumes' node only).
  for (const k of kept.values()) if (!isDaemon(k)) pinVolumes(round, k);
  failover(round, [...kept.values()].filter((k) => !isDaemon(k)));

  // 6. Updates, one at a time: an update frees its old version's room
  //    before placing the new one, and must get it back intact if the new
  //    one does not fit, so nothing else may be placed in between.
  const updates = [...kept.values()].filter((k) => k.change.kind === 'update' && !isDaemon(k));
  for (const k of bySizeDescending(round, updates, (x) => instanceDemand((x.change.desired as DesiredJob).spec))) {
    update(round, k, k.change.desired as DesiredJob);
  }

  // 6b. Rolling updates under way take their next step (before new work takes the room they need).
  for (const k of kept.values()) advanceRollout(round, k);
  for (const k of kept.values()) keepFailedUpdate(round, k);
  if (input.rebalance) for (const k of kept.values()) if (!isDaemon(k) && spreadOf(k.accepted.spec) !== 'zones') rebalance(round, k);
  for (const k of kept.values()) if (!isDaemon(k)) bringHome(round, k);

  // 7. Scale-ups, then creates: each a batch, every job whole or rejected.
  scaleUps(round, [...kept.values()].filter((k) => k.change.kind === 'scale-up'));
  const created = creates(round, changes.filter((c) => c.kind === 'create' && !createdDaemons.has(c.name)).map((c) => c.desired as DesiredJob));
  for (const [name, job] of createdDaemons) created.set(name, job);

  // 8. Rejections to write and to remove, then what to tell humans.
  const rejections = reconcileRejections(round.wanted, input.cluster.rejections, input.commit, round.now);
  const putJobs: AcceptedJob[] = [];
  const outcomes: JobOutcome[] = [];
  for (const k of kept.values()) {
    if (k.dirty) putJobs.push(recordVolumes({ ...k.accepted, instances: k.instances }));
    outcomes.push(keptOutcome(round, k, guard.tripped ? rejections.effective.get(DELETION_GUARD_KEY) : undefined, rejections.effective));
  }
  for (const [name, job] of created) {
    if (job) {
      putJobs.push(recordVolumes(job));
      outcomes.push(withZones(round, job.spec, job.instances, { job: name, bucket: 'create', placements: job.instances.map((p) => p.node) }));
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
  retainVolumes(round.state, k.accepted, want, k.instances.length); // their data stays, and its space
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
      if (q.node !== null || waitsForVolume(k.accepted, q, ordinal)) return;
      const version = q.spec ?? '';
      byVersion.set(version, [...(byVersion.get(version) ?? []), ordinal]);
    });
    for (const ordinals of byVersion.values()) waiting.push({ k, ordinals, demand: demandAt(k, k.instances[ordinals[0]]) });
  }
  const requests = waiting.map(({ k, ordinals, demand }) => ({
    req: requestFor(round, k.accepted.spec, demand, () => k.instances),
    count: ordinals.length,
    mode: 'as-many-as-fit' as const,
    homes: homesOf(zonesOf(k.accepted.spec, round.zones), ordinals),
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

/** Instances without a live node go back to their persistent volumes' node, or wait for it (plan/persistent.ts). */
function pinVolumes(round: Round, k: Kept): void {
  if (k.accepted.volumes === undefined) return;
  const pin = placePinned(round.state, round.policy, k, round.now);
  if (pin.changed) markRescheduled(k);
  const waiting = Object.entries(pin.waiting);
  if (waiting.length > 0) k.pending = volumeProblem(round, k, waiting.map(([i, why]) => `${i} waits: ${why}`).join('; '));
}

function volumeProblem(round: Round, k: Kept, detail: string): Explained {
  const problem = makeProblem('volume-node-unavailable', { job: k.change.name, file: k.accepted.file, commit: round.input.commit, detail: `job "${k.change.name}": ${detail}.` });
  return { problem, nodeReasons: {} };
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
  const req = requestFor(round, desired.spec, newDemand, () => k.instances);
  const zones = zonesOf(desired.spec, round.zones);
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
  // An instance with persistent volumes never moves: it waits for room on their node (pinVolumes).
  const moving = next.flatMap((p, i) => (p === undefined && volumeNode(k.accepted, i) === undefined ? [i] : []));
  const nodes = placeAll(state, req, moving.length, round.policy, homesOf(zones, moving));
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
    k.instances = next.map((p = { node: null, since: now }) => ({ node: p.node, since: p.since, ...(p.daemon !== undefined ? { daemon: p.daemon } : {}) }));
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
    const id = volumeNode(k.accepted, i) === undefined ? placeAll(state, req, 1, round.policy, homesOf(zones, [i]))?.[0] : undefined;
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
    switchToTarget: (job, ordinal, p) => switchToTarget(round, k, job, ordinal, p),
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
function switchToTarget(round: Round, k: Kept, job: AcceptedJob, ordinal: number, p: InstancePlacement): InstancePlacement | { blocked: string } {
  const { state, now } = round;
  const name = k.change.name;
  // Both demands come from `job`, the version the rollout step works on: during
  // a revert its target is the previous spec, not k.accepted's.
  const targetDemand = instanceDemand(job.spec);
  const current = placementDemand(job, p);
  const req = requestFor(round, job.spec, targetDemand, () => k.instances);
  const target: InstancePlacement = { node: p.node, since: p.since, ...(p.daemon !== undefined ? { daemon: p.daemon } : {}) };
  const id = p.node === null ? undefined : state.idOf(p.node);
  if (id === undefined) return { ...target, node: null, since: now }; // pending: failover places it next round
  state.remove(id, name, current);
  if (fitsOn(state, id, req, round.policy)) {
    state.add(id, name, targetDemand);
    return { ...target, since: now };
  }
  // A daemon instance, or one with persistent volumes, stays on its node: it waits for room there.
  const elsewhere =
    p.daemon === undefined && volumeNode(job, ordinal) === undefined
      ? placeAll(state, req, 1, round.policy, homesOf(zonesOf(job.spec, round.zones), [ordinal]))?.[0]
      : undefined;
  if (elsewhere !== undefined) {
    return { ...target, node: state.names[elsewhere], since: now, from: p.node as string };
  }
  state.add(id, name, current);
  const why = explain(round, req, 1, name, job.file, 'more');
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

/**
 * ozy.yaml `rebalance: true`: no live node may hold more than one instance
 * of a job above the job's average over the nodes it may run on. Instances
 * move from the fullest node to the emptiest one where they fit, at most
 * `maxParallel` at a time: the moves are a rollout of kind 'move', so the
 * next ones wait until these are healthy for minHealthy. A job that is
 * changing, rolling or short of nodes is left alone.
 */
function rebalance(round: Round, k: Kept): void {
  const { state, now } = round;
  if (k.accepted.rollout || k.bucket === 'rejected' || k.change.kind === 'delete' || k.instances.some((p) => p.node === null)) return;
  if (hasPersistentVolumes(k.accepted.spec)) return; // its instances stay with their data
  const eligible = eligibleNodes(round, k.accepted.spec);
  if (eligible.length < 2 || k.instances.length === 0) return;
  const count = new Map(eligible.map((n) => [n, 0]));
  for (const p of k.instances) if (count.has(p.node as string)) count.set(p.node as string, count.get(p.node as string)! + 1);
  const average = k.instances.length / eligible.length;
  const req = requestFor(round, k.accepted.spec, k.demand, () => k.instances);
  const moved: number[] = [];
  const { maxParallel } = updatePolicyOf(k.accepted.spec);
  while (moved.length < maxParallel) {
    const byCount = [...count].sort((a, b) => b[1] - a[1] || compareNames(a[0], b[0]));
    const [source, most] = byCount[0]!;
    if (most <= average + 1) break;
    let ordinal = -1; // the highest ordinal on the source: the same ones a scale-down would take
    k.instances.forEach((p, i) => {
      if (p.node === source && !moved.includes(i)) ordinal = i;
    });
    const from = state.idOf(source)!;
    state.remove(from, k.change.name, k.demand);
    const target = byCount.reverse().find(([n, c]) => c + 1 < most && fitsOn(state, state.idOf(n)!, req, round.policy))?.[0];
    if (target === undefined || ordinal < 0) {
      state.add(from, k.change.name, k.demand);
      break;
    }
    state.add(state.idOf(target)!, k.change.name, k.demand);
    k.instances[ordinal] = { node: target, since: now, from: source };
    count.set(source, most - 1);
    count.set(target, count.get(target)! + 1);
    moved.push(ordinal);
  }
  if (moved.length === 0) return;
  k.accepted = { ...k.accepted, rollout: { kind: 'move', commit: k.accepted.commit, from: k.accepted.specHash, batch: moved.sort((a, b) => a - b), startedAt: now } };
  k.dirty = true;
  if (k.bucket === 'unchanged') k.bucket = 'reschedule';
}

/**
 * spread: zones: instances away from their home zone go home when it has
 * room, maxParallel at a time, as a 'move' rollout (plan/zone-moves.ts).
 */
function bringHome(round: Round, k: Kept): void {
  const zones = zonesOf(k.accepted.spec, round.zones);
  if (zones.length === 0 || k.accepted.rollout || k.bucket === 'rejected' || k.change.kind === 'delete' || k.instances.some((p) => p.node === null)) return;
  const req = requestFor(round, k.accepted.spec, k.demand, () => k.instances);
  const moves = goHome(round.state, round.policy, { spec: k.accepted.spec, instances: k.instances, demand: k.demand, req, zones }, round.now);
  if (!moves) return;
  k.instances = moves.instances;
  k.accepted = { ...k.accepted, rollout: { kind: 'move', commit: k.accepted.commit, from: k.accepted.specHash, batch: moves.moved, startedAt: round.now } };
  k.dirty = true;
  if (k.bucket === 'unchanged') k.bucket = 'reschedule';
}

/** A placement request for instances of `spec` with its placement rules; `instances` names them in reasons. */
function requestFor(round: Round, spec: JobSpec, demand: Demand, instances?: () => readonly InstancePlacement[]): PlacementRequest {
  return withRules(makeRequest(round.state, spec.name, demand), spec, instances);
}

/** `ozy plan` of a spread: zones job: instances per zone, and why each one away from home is away. */
function withZones(round: Round, spec: JobSpec, instances: readonly InstancePlacement[], out: JobOutcome): JobOutcome {
  const zones = zonesOf(spec, round.zones);
  if (zones.length === 0) return out;
  out.zones = zoneCounts(round.state, instances);
  const away = awayReasons(round.state, round.policy, requestFor(round, spec, instanceDemand(spec)), zones, instances);
  if (Object.keys(away).length > 0) out.away = away;
  return out;
}

function isDaemonJob(spec: JobSpec): boolean {
  return spec.type === 'daemon';
}

/** Live nodes whose labels include every one of `spec.placement.nodeLabels`, by name. */
function eligibleNodes(round: Round, spec: JobSpec): string[] {
  const want = Object.entries(spec.placement?.nodeLabels ?? {});
  return round.state.names.filter((name) => {
    const labels = round.state.nodes[round.state.idOf(name)!]!.labels;
    return want.every(([k, v]) => labels[k] === v);
  });
}

/**
 * A daemon's instances follow the nodes: one per live eligible node, named
 * after it, added when a node joins (if it fits there), dropped when its
 * node dies or stops matching. A pod change rolls node by node (the rolling
 * mechanism; an instance never moves to another node). Nodes it does not fit
 * on are named in the job's report while it runs on the others.
 */
function daemon(round: Round, k: Kept): void {
  const { state, now } = round;
  const name = k.change.name;
  const desired = k.change.desired;
  if (desired && !isDaemonJob(desired.spec)) {
    // A daemon becoming a service: its instances go, the service is placed afresh.
    release(round, k, k.instances);
    k.instances = [];
    k.accepted = { ...k.accepted, spec: { ...k.accepted.spec, type: undefined }, instances: [] };
    delete k.accepted.spec.type;
    delete k.accepted.rollout;
    delete k.accepted.versions;
    return;
  }
  const eligible = eligibleNodes(round, (desired ?? k.accepted).spec);
  const wanted = new Set(eligible);
  // Drop instances whose node died or no longer matches (the batch follows the ordinals that remain).
  const keep: number[] = [];
  k.instances.forEach((p, i) => {
    if (p.node !== null && wanted.has(p.node) && p.daemon === p.node) keep.push(i);
    else if (p.node !== null && state.idOf(p.node) !== undefined) state.remove(state.idOf(p.node)!, name, demandAt(k, p));
  });
  if (keep.length !== k.instances.length) {
    const index = new Map(keep.map((old, i) => [old, i]));
    k.instances = keep.map((i) => k.instances[i]!);
    const r = k.accepted.rollout;
    if (r) k.accepted = { ...k.accepted, rollout: { ...r, batch: r.batch.flatMap((i) => (index.has(i) ? [index.get(i)!] : [])) } };
    k.dirty = true;
    if (k.bucket === 'unchanged') k.bucket = 'reschedule';
  }
  // A new pod: the instances that run keep their version, pinned; advanceRollout() rolls them.
  if (desired && k.change.kind === 'update') {
    const before = { ...k.accepted, instances: k.instances };
    const pinned = k.instances.map((p) => ({ ...p, spec: p.spec ?? before.specHash }));
    k.accepted = acceptedVersion(round, desired, k.accepted);
    k.accepted = desired.specHash === before.specHash ? { ...k.accepted, instances: k.instances } : beginRollout(before, { ...k.accepted, instances: pinned }, now);
    k.instances = k.accepted.instances.slice();
    k.demand = instanceDemand(desired.spec);
    k.dirty = true;
    k.bucket = 'update';
  }
  // Nodes without their instance: added when it fits.
  const have = new Set(k.instances.map((p) => p.node));
  const req = makeRequest(state, name, k.demand);
  const reasons: Record<string, string> = {};
  for (const node of eligible) {
    if (have.has(node)) continue;
    const id = state.idOf(node)!;
    if (fitsOn(state, id, req, round.policy)) {
      state.add(id, name, k.demand);
      k.instances.push({ node, since: now, daemon: node });
      k.dirty = true;
      if (k.bucket === 'unchanged') k.bucket = 'reschedule';
    } else {
      reasons[node] = reasonsFor(round.policy.checkers, state, id, req);
    }
  }
  if (k.dirty) k.accepted = { ...k.accepted, spec: { ...k.accepted.spec, numInstances: k.instances.length } };
  daemonShortfall(round, name, k.accepted.file, describeDemand(req), eligible.length, reasons, k.accepted.commit);
}

function createDaemon(round: Round, desired: DesiredJob): AcceptedJob {
  const { state, now } = round;
  const name = desired.spec.name;
  const demand = instanceDemand(desired.spec);
  const req = makeRequest(state, name, demand);
  const eligible = eligibleNodes(round, desired.spec);
  const instances: InstancePlacement[] = [];
  const reasons: Record<string, string> = {};
  for (const node of eligible) {
    const id = state.idOf(node)!;
    if (fitsOn(state, id, req, round.policy)) {
      state.add(id, name, demand);
      instances.push({ node, since: now, daemon: node });
    } else {
      reasons[node] = reasonsFor(round.policy.checkers, state, id, req);
    }
  }
  daemonShortfall(round, name, desired.file, describeDemand(req), eligible.length, reasons, round.input.commit);
  return {
    spec: { ...desired.spec, numInstances: instances.length },
    specHash: desired.specHash,
    commit: round.input.commit,
    file: desired.file,
    acceptedAt: now,
    instances,
  };
}

/** The report of a daemon that does not fit on every eligible node (it still runs on the others). */
function daemonShortfall(round: Round, job: string, file: string, perInstance: string, eligible: number, reasons: Record<string, string>, commit: string): void {
  const missing = Object.keys(reasons);
  if (missing.length === 0 || round.wanted.has(job)) return;
  const list = missing.map((n) => `${n} (${reasons[n]})`).join('; ');
  const problem = makeProblem('daemon-not-placed', {
    job,
    file,
    commit,
    detail: `daemon job "${job}" runs on ${eligible - missing.length} of ${eligible} eligible nodes; each instance needs ${perInstance} and it does not fit on: ${list}.`,
    extra: { nodes: reasons },
  });
  round.wanted.set(job, { desiredHash: '', problem });
  round.nodeReasons.set(job, reasons);
}

/** New ordinals of every scaled-up job, in one batch; each job whole or rejected. */
function scaleUps(round: Round, jobs: readonly Kept[]): void {
  // Ordinals coming back to their persistent volumes first, on those volumes' nodes.
  const starts = jobs.map((k) => k.instances.length);
  const pinned = jobs.map((k) => pinScaleUp(round.state, round.policy, k, (k.change.desired as DesiredJob).spec.numInstances, round.now));
  const requests = jobs.map((k) => {
    const spec = (k.change.desired as DesiredJob).spec;
    const count = spec.numInstances - k.instances.length;
    return {
      req: requestFor(round, spec, k.demand, () => k.instances),
      count,
      mode: 'whole' as const,
      homes: homesOf(zonesOf(spec, round.zones), ordinalsFrom(k.instances.length, count)),
    };
  });
  const results = placeBatch(round.state, requests, round.policy);
  jobs.forEach((k, i) => {
    const desired = k.change.desired as DesiredJob;
    const nodes = results[i];
    const pin = pinned[i];
    if (typeof pin !== 'number') {
      reject(round, k, desired, volumeProblem(round, k, pin.blocked));
      return;
    }
    if (!nodes) {
      unpinScaleUp(round.state, k, starts[i]!);
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
    req: requestFor(round, d.spec, instanceDemand(d.spec)),
    count: d.spec.numInstances,
    mode: 'whole' as const,
    homes: homesOf(zonesOf(d.spec, round.zones), ordinalsFrom(0, d.spec.numInstances)),
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
  const out: JobOutcome = withZones(round, k.accepted.spec, k.instances, { job: name, bucket: k.bucket, placements: k.instances.map((p) => p.node) });
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
  const moving = spreadOf(k.accepted.spec) === 'zones' ? 'going home' : 'rebalancing';
  const verb = r.kind === 'revert' ? 'reverting' : r.kind === 'move' ? moving : r.halted ? 'halted' : 'rolling';
  return `${verb} ${done}/${total}, ${updatePolicyOf(k.accepted.spec).maxParallel} at a time`;
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

