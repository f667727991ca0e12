// The steps of decide() that move running instances: rolling updates and
// their reverts (plan/rollout.ts does the pure step), rebalancing and zone
// homecomings (rollouts of kind 'move'), and the failed update's report.
import type { AcceptedJob, InstancePlacement } from '../model/cluster';
import { placementName } from '../model/cluster';
import { canonicalJson } from '../model/hash';
import { spreadOf, updatePolicyOf, type DesiredJob } from '../model/job';
import { makeProblem } from '../problems';
import { fitsOn, instanceDemand, placementDemand, placeAll } from '../schedule';
import { hasPersistentVolumes, volumeNode } from './persistent';
import { rolloutProgress, stepRollout, type RolloutContext } from './rollout';
import { homesOf, ordinalsFrom, zonesOf } from './placement-rules';
import { goHome } from './zone-moves';
import { keepRules } from './rule-moves';
import { compareNames, demandAt, explain, release, requestFor, type Explained, type Kept, type Round } from './round';
import { eligibleNodes } from './daemons';

/**
 * One step of `k`'s rolling update (plan/rollout.ts): judge the batch from
 * what the driver saw, start the next one, finish, or revert.
 */
export function advanceRollout(round: Round, k: Kept): void {
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
export function switchToTarget(round: Round, k: Kept, job: AcceptedJob, ordinal: number, p: InstancePlacement): InstancePlacement | { blocked: string } {
  const { state, now } = round;
  const name = k.change.name;
  // Both demands come from `job`, the version the rollout step works on: during
  // a revert its target is the previous spec, not k.accepted's.
  const targetDemand = instanceDemand(job.spec);
  const current = placementDemand(job, p);
  const req = requestFor(round, job.spec, targetDemand, () => k.instances);
  const target: InstancePlacement = {
    node: p.node,
    since: p.since,
    ...(p.daemon !== undefined ? { daemon: p.daemon } : {}),
  };
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
    return {
      ...target,
      node: state.names[elsewhere],
      since: now,
      from: p.node as string,
    };
  }
  state.add(id, name, current);
  const why = explain(round, req, 1, name, job.file, 'more');
  return {
    blocked: `${placementName(name, p, ordinal)} cannot take the new spec: ${why.problem.detail}`,
  };
}

/**
 * A failed update's report stays while the file asks for the failed spec;
 * once the file changes to anything else the failure is forgotten.
 */
export function keepFailedUpdate(round: Round, k: Kept): void {
  const failed = k.accepted.failedUpdate;
  if (!failed) return;
  // One that failed this round is in force whatever the file said when the round began.
  const earlier = failed === k.change.accepted?.failedUpdate;
  if (earlier && !k.change.failedAgain && k.change.desired) {
    // A copy first: k.accepted may still be the input's object (an unchanged job), which is never mutated.
    k.accepted = { ...k.accepted };
    delete k.accepted.failedUpdate;
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
    extra: {
      instance: failed.instance,
      reason: failed.reason,
      reverted: failed.reverted,
    },
  });
  if (!round.wanted.has(k.change.name))
    round.wanted.set(k.change.name, {
      desiredHash: failed.specHash,
      problem,
      commit: failed.commit,
    });
}

/**
 * ozy.yaml `rebalance: true`: no live node may hold more than one instance
 * of a job above the job's average over the nodes it may run on. Instances
 * move from the fullest node to the emptiest one where they fit, at most
 * `maxParallel` at a time: the moves are a rollout of kind 'move', so the
 * next ones wait until these are healthy for minHealthy. A job that is
 * changing, rolling or short of nodes is left alone.
 */
export function rebalance(round: Round, k: Kept): void {
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
  startMoves(k, moved.sort((a, b) => a - b), now);
}

/**
 * spread: zones: instances away from their home zone go home when it has
 * room, maxParallel at a time, as a 'move' rollout (plan/zone-moves.ts).
 */
export function bringHome(round: Round, k: Kept): void {
  const zones = zonesOf(k.accepted.spec, round.zones);
  if (zones.length === 0 || k.accepted.rollout || k.bucket === 'rejected' || k.change.kind === 'delete' || k.instances.some((p) => p.node === null)) return;
  const req = requestFor(round, k.accepted.spec, k.demand, () => k.instances);
  const moves = goHome(
    round.state,
    round.policy,
    {
      spec: k.accepted.spec,
      instances: k.instances,
      demand: k.demand,
      req,
      zones,
    },
    round.now,
  );
  if (!moves) return;
  k.instances = moves.instances;
  startMoves(k, moves.moved, round.now);
}

/**
 * A placement-only change (same pod) is taken in place and its instances
 * move afterwards (keepPlacementRules), so it is judged here like any
 * update: can the whole job be placed under the new rules? Explained when
 * not (the change is rejected and the old placement stays), else
 * undefined. `state` is as it was on return.
 */
export function placementChangeRejected(round: Round, k: Kept, desired: DesiredJob): Explained | undefined {
  if (canonicalJson(k.accepted.spec.placement ?? {}) === canonicalJson(desired.spec.placement ?? {})) return undefined;
  const { state } = round;
  const name = k.change.name;
  const req = requestFor(round, desired.spec, k.demand, () => k.instances);
  const count = k.instances.length;
  release(round, k, k.instances);
  const nodes = placeAll(state, req, count, round.policy, homesOf(zonesOf(desired.spec, round.zones), ordinalsFrom(0, count)));
  for (const id of nodes ?? []) state.remove(id, name, k.demand);
  const why = nodes ? undefined : explain(round, req, count, name, desired.file, 'all');
  for (const p of k.instances) {
    const id = p.node === null ? undefined : state.idOf(p.node);
    if (id !== undefined) state.add(id, name, demandAt(k, p));
  }
  return why;
}

/**
 * spread: nodes and nodeLabels hold for running instances too: those that
 * break them (after a placement-only change) move, maxParallel at a time,
 * as a 'move' rollout (plan/rule-moves.ts). Instances with persistent
 * volumes stay with their data: the rule applies to where they are placed
 * from then on.
 */
export function keepPlacementRules(round: Round, k: Kept): void {
  if (k.accepted.rollout || k.bucket === 'rejected' || k.change.kind === 'delete' || k.instances.some((p) => p.node === null)) return;
  if (hasPersistentVolumes(k.accepted.spec)) return;
  const req = requestFor(round, k.accepted.spec, k.demand, () => k.instances);
  if (req.rules === undefined) return; // most jobs: no rule to keep
  const moves = keepRules(round.state, round.policy, { spec: k.accepted.spec, instances: k.instances, demand: k.demand, req, zones: zonesOf(k.accepted.spec, round.zones) }, round.now);
  if (!moves) return;
  k.instances = moves.instances;
  startMoves(k, moves.moved, round.now);
}

/**
 * The instances at `moved` were just placed on other nodes: a rollout of
 * kind 'move' gates them on health like an update batch, so the next moves
 * wait until these are healthy for minHealthy.
 */
function startMoves(k: Kept, moved: number[], now: string): void {
  k.accepted = { ...k.accepted, rollout: { kind: 'move', commit: k.accepted.commit, from: k.accepted.specHash, batch: moved, startedAt: now } };
  k.dirty = true;
  if (k.bucket === 'unchanged') k.bucket = 'reschedule';
}

/** What `ozy plan` says of how an update reaches the instances. */
export function strategyOf(k: Kept): string | undefined {
  const r = k.accepted.rollout;
  // A placement change taken in place may start moves the same round: those are what happens next.
  if (k.change.kind === 'update' && k.bucket === 'update' && k.change.desired && r?.kind !== 'move') {
    return k.change.desired.specHash === k.change.accepted?.specHash ? 'in place' : updatePolicyOf(k.accepted.spec).strategy;
  }
  if (!r) return undefined;
  const { done, total } = rolloutProgress({
    ...k.accepted,
    instances: k.instances,
  });
  const spread = spreadOf(k.accepted.spec);
  const moving = spread === 'zones' ? 'going home' : spread === 'nodes' ? 'spreading' : 'rebalancing';
  const verb = r.kind === 'revert' ? 'reverting' : r.kind === 'move' ? moving : r.halted ? 'halted' : 'rolling';
  return `${verb} ${done}/${total}, ${updatePolicyOf(k.accepted.spec).maxParallel} at a time`;
}
