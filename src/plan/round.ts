// The working state of one decide() call and the helpers every step of it
// shares: each accepted job's working copy (Kept), the round (Round), and the
// accounting and explanation primitives. Pure, like decide() itself.
import type { AcceptedJob, InstancePlacement } from '../model/cluster';
import type { DesiredJob, JobSpec } from '../model/job';
import type { Problem } from '../model/problem';
import {
  ClusterState,
  describeDemand,
  explainPlacement,
  makeRequest,
  placementDemand,
  placementProblem,
  type Demand,
  type PlacementRequest,
  type SchedulerPolicy,
} from '../schedule';
import type { JobChange } from './classify';
import type { WantedRejection } from './rejections';
import { onTarget } from './rollout';
import { withRules } from './placement-rules';
import type { Bucket, DecideInput } from './types';

/** A job that stays accepted this round (possibly rescaled, updated or re-placed). */
export interface Kept {
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

export interface Explained {
  problem: Problem;
  nodeReasons: Record<string, string>;
}

export interface Round {
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

/** Take `instances` of `k` (each with the version it runs) off their live nodes. */
export function release(round: Round, k: Kept, instances: readonly InstancePlacement[]): void {
  for (const p of instances) {
    const id = p.node === null ? undefined : round.state.idOf(p.node);
    if (id !== undefined) round.state.remove(id, k.change.name, demandAt(k, p));
  }
}

/** What instance `p` of `k` takes: the target's demand, or its pinned version's during a rolling update. */
export function demandAt(k: Kept, p: InstancePlacement): Demand {
  return onTarget(k.accepted, p) ? k.demand : placementDemand(k.accepted, p);
}

export function markRescheduled(k: Kept): void {
  k.dirty = true;
  if (k.bucket === 'unchanged') k.bucket = 'reschedule';
}

/** A placement request for instances of `spec` with its placement rules; `instances` names them in reasons. */
export function requestFor(round: Round, spec: JobSpec, demand: Demand, instances?: () => readonly InstancePlacement[]): PlacementRequest {
  return withRules(makeRequest(round.state, spec.name, demand), spec, instances);
}

export function explain(round: Round, req: PlacementRequest, count: number, job: string, file: string, scope: 'all' | 'more' | 'pending'): Explained {
  const exp = explainPlacement(round.state, req, count, round.policy);
  const { problem } = placementProblem(exp, {
    job,
    file,
    commit: round.input.commit,
    scope,
    perInstance: describeDemand(req),
  });
  return { problem, nodeReasons: exp.nodeReasons };
}

export function acceptedVersion(round: Round, desired: DesiredJob, previous: AcceptedJob): AcceptedJob {
  return {
    ...previous,
    spec: desired.spec,
    specHash: desired.specHash,
    commit: round.input.commit,
    file: desired.file,
    acceptedAt: round.now,
  };
}

export function reject(round: Round, k: Kept, desired: DesiredJob, why: Explained): void {
  // An invalid entry with the same key already speaks for this job.
  if (!round.wanted.has(k.change.name))
    round.wanted.set(k.change.name, {
      desiredHash: desired.specHash,
      problem: why.problem,
    });
  round.nodeReasons.set(k.change.name, why.nodeReasons);
  k.bucket = 'rejected';
}

export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
