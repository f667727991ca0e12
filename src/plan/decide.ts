// One scheduling decision: desired jobs + cluster snapshot → the exact etcd
// writes. Pure and deterministic: the clock comes in as `now`, nothing is
// read or written, and every collection is walked in a sorted order.
import type { AcceptedJob, InstancePlacement } from '../model/cluster';
import { spreadOf, updatePolicyOf, type DesiredJob, type JobSpec } from '../model/job';
import type { Problem } from '../model/problem';
import { makeProblem } from '../problems';
import {
  ClusterState,
  DEFAULT_POLICY,
  placedState,
  demandSize,
  fitsOn,
  instanceDemand,
  placeAll,
  placeBatch,
  type Demand,
  type SchedulerPolicy,
} from '../schedule';
import { classifyJobs } from './classify';
import { DELETION_GUARD_KEY, checkDeletionGuard } from './deletion-guard';
import { pinScaleUp, placePinned, recordVolumes, releaseVolumes, retainVolumes, unpinScaleUp, volumeNode, waitsForVolume } from './persistent';
import { reconcileRejections } from './rejections';
import { beginRollout } from './rollout';
import { homesOf, knownZones, ordinalsFrom, zonesOf } from './placement-rules';
import { awayReasons, zoneCounts } from './zone-moves';
import { BUCKETS, type DecideInput, type Decision, type InvalidEntry, type JobOutcome } from './types';
import { acceptedVersion, compareNames, demandAt, explain, markRescheduled, reject, release, requestFor, type Explained, type Kept, type Round } from './round';
import { advanceRollout, bringHome, keepFailedUpdate, keepPlacementRules, placementChangeRejected, rebalance, strategyOf } from './moves';
import { createDaemon, daemon, isDaemonJob } from './daemons';
import { addRunLoad } from '../cron/run-load';
import { withAutoscaledCounts } from './autoscale';
import { compareOutcomes, mergeQuiet, quietOutcome } from './quiet';

export function decide(input: DecideInput, policy: SchedulerPolicy = DEFAULT_POLICY): Decision {
  // Every accepted instance on a live node is accounted in it already (schedule/placed-state.ts), and every running cron run.
  const state = placedState(input.cluster.nodes, input.cluster.jobs);
  if (input.cluster.runs) addRunLoad(state, input.cluster.jobs, input.cluster.runs.values());
  const round: Round = {
    input,
    state,
    policy,
    now: input.now.toISOString(),
    wanted: new Map(),
    nodeReasons: new Map(),
    zones: knownZones(input.cluster.zones, input.cluster.nodes),
  };
  // Autoscaled jobs keep the count in etcd (or the autoscaler's), clamped by the file's bounds.
  const changes = classifyJobs(withAutoscaledCounts(input.desired, input.cluster.jobs, input.autoscale), input.cluster.jobs, input.invalid);

  // 1. Each accepted job's working copy (its instances are accounted in round.state: placedState).
  //    A quiet job (plan/quiet.ts: no step below would act on it) gets none, only its outcome.
  const kept = new Map<string, Kept>();
  const quiet: JobOutcome[] = [];
  for (const change of changes) {
    if (!change.accepted) continue;
    const unchanged = input.rebalance ? undefined : quietOutcome(round.state, change);
    if (unchanged) {
      quiet.push(unchanged);
      continue;
    }
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
    if (!round.wanted.has(entry.key))
      round.wanted.set(entry.key, {
        desiredHash: '',
        problem: invalidProblem(entry, input.commit),
      });
  }

  // 3. Deletion guard: a round that would delete too much deletes nothing.
  const deleting = changes.filter((c) => c.kind === 'delete').map((c) => c.name);
  const guard = checkDeletionGuard(deleting, input.cluster.jobs.size, input.deletionGuard, input.commit);
  if (guard.tripped && guard.problem) {
    round.wanted.set(DELETION_GUARD_KEY, {
      desiredHash: guard.desiredHash ?? '',
      problem: guard.problem,
    });
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
  failover(
    round,
    [...kept.values()].filter((k) => !isDaemon(k)),
  );

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
  for (const k of kept.values()) if (!isDaemon(k)) keepPlacementRules(round, k);

  // 7. Scale-ups, then creates: each a batch, every job whole or rejected.
  scaleUps(
    round,
    [...kept.values()].filter((k) => k.change.kind === 'scale-up'),
  );
  const created = creates(
    round,
    changes.filter((c) => c.kind === 'create' && !createdDaemons.has(c.name)).map((c) => c.desired as DesiredJob),
  );
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
      outcomes.push(
        withZones(round, job.spec, job.instances, {
          job: name,
          bucket: 'create',
          placements: job.instances.map((p) => p.node),
        }),
      );
    } else {
      outcomes.push(
        withReasons(round, {
          job: name,
          bucket: 'rejected',
          problem: rejections.effective.get(name),
        }),
      );
    }
  }
  for (const name of deleteJobs) outcomes.push({ job: name, bucket: 'delete' });
  for (const entry of input.invalid) {
    const heldJob = entry.job !== undefined ? kept.get(entry.job) : undefined;
    if (heldJob?.change.kind === 'held') continue; // reported on the held job's own outcome
    outcomes.push({
      job: entry.job ?? entry.key,
      bucket: 'invalid',
      problem: rejections.effective.get(entry.key),
    });
  }
  putJobs.sort((a, b) => compareNames(a.spec.name, b.spec.name));
  outcomes.sort(compareOutcomes);
  return {
    putJobs,
    deleteJobs: deleteJobs.sort(compareNames),
    putRejections: rejections.put,
    deleteRejections: rejections.remove,
    outcomes: mergeQuiet(quiet, outcomes),
    counts: countOutcomes(outcomes, quiet.length),
  };
}

function invalidProblem(entry: InvalidEntry, commit: string): Problem {
  const p: Problem = {
    ...entry.problem,
    commit,
    file: entry.problem.file ?? entry.file,
  };
  if (entry.job !== undefined && p.job === undefined) p.job = entry.job;
  return p;
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
    for (const ordinals of byVersion.values())
      waiting.push({
        k,
        ordinals,
        demand: demandAt(k, k.instances[ordinals[0]]),
      });
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
    nodes.forEach(
      (id, j) =>
        (k.instances[ordinals[j]] = {
          ...k.instances[ordinals[j]],
          node: state.names[id],
          since: now,
        }),
    );
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
  const problem = makeProblem('volume-node-unavailable', {
    job: k.change.name,
    file: k.accepted.file,
    commit: round.input.commit,
    detail: `job "${k.change.name}": ${detail}.`,
  });
  return { problem, nodeReasons: {} };
}

/** Every instance of `k` sits on a live node. */
function allPlaced(state: ClusterState, k: Kept): boolean {
  for (const p of k.instances) if (p.node === null || state.idOf(p.node) === undefined) return false;
  return true;
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
    const refused = placementChangeRejected(round, k, desired);
    if (refused) {
      reject(round, k, desired, refused);
      return;
    }
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
    k.instances = next.map((p = { node: null, since: now }) => ({
      node: p.node,
      since: p.since,
      ...(p.daemon !== undefined ? { daemon: p.daemon } : {}),
    }));
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
    instances.push({
      node: id === undefined ? null : state.names[id],
      since: now,
    });
  }
  k.accepted = beginRollout(before, { ...k.accepted, instances }, now);
  k.instances = k.accepted.instances.slice();
  k.pending = undefined;
}

/** `ozy plan` of an autoscaled job: its count and bounds; of a spread: zones job: instances per zone, and why each one away from home is away. */
function withZones(round: Round, spec: JobSpec, instances: readonly InstancePlacement[], out: JobOutcome): JobOutcome {
  if (spec.autoscale) out.autoscale = { count: instances.length, min: spec.autoscale.min, max: spec.autoscale.max };
  const zones = zonesOf(spec, round.zones);
  if (zones.length === 0) return out;
  out.zones = zoneCounts(round.state, instances);
  const away = awayReasons(round.state, round.policy, requestFor(round, spec, instanceDemand(spec)), zones, instances);
  if (Object.keys(away).length > 0) out.away = away;
  return out;
}

/**
 * New ordinals of every scaled-up job, in one batch; each job whole or
 * rejected — but an autoscaled job gets as many as fit, the others pending
 * (`capped by capacity`): nothing in git was refused, and they are placed
 * as soon as room frees (failover places pending instances every round).
 */
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
      mode: spec.autoscale ? ('as-many-as-fit' as const) : ('whole' as const),
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
    const capped = requests[i].count - nodes.length;
    if (capped > 0) {
      for (let j = 0; j < capped; j++) k.instances.push({ node: null, since: round.now });
      k.pending = explain(round, requests[i].req, capped, desired.spec.name, desired.file, 'pending');
    }
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
      if (!round.wanted.has(d.spec.name))
        round.wanted.set(d.spec.name, {
          desiredHash: d.specHash,
          problem: why.problem,
        });
      round.nodeReasons.set(d.spec.name, why.nodeReasons);
      out.set(d.spec.name, null);
      return;
    }
    const instances = nodes.map((id) => ({
      node: round.state.names[id],
      since: round.now,
    }));
    out.set(d.spec.name, {
      spec: d.spec,
      specHash: d.specHash,
      commit: round.input.commit,
      file: d.file,
      acceptedAt: round.now,
      instances,
    });
  });
  return out;
}

function keptOutcome(round: Round, k: Kept, guardProblem: Problem | undefined, effective: ReadonlyMap<string, Problem>): JobOutcome {
  const name = k.change.name;
  const out: JobOutcome = withZones(round, k.accepted.spec, k.instances, {
    job: name,
    bucket: k.bucket,
    placements: k.instances.map((p) => p.node),
  });
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

/** `quiet`: how many quiet outcomes come on top (unchanged, every instance placed). */
function countOutcomes(outcomes: readonly JobOutcome[], quiet: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const b of BUCKETS) counts[b] = 0;
  counts.unchanged = quiet;
  let pending = 0;
  for (const o of outcomes) {
    counts[o.bucket]++;
    if (o.placements) for (const n of o.placements) if (n === null) pending++;
  }
  counts.pending = pending;
  return counts;
}
