// Placement: walk candidates in best-fit order, keep the first that passes
// every checker (and the best of its ties), account it, repeat.
import type { ClusterState } from './cluster-state';
import { DEFAULT_CHECKERS, feasible, fitsDefault, type FeasibilityChecker, type PlacementRequest } from './checkers';
import { CPU, DISK, MEMORY, RESOURCE_INDEXES, type Demand, type ResourceIndex } from './demand';
import { DEFAULT_TIE_BREAKERS, atFloor, compareTies, type TieBreaker } from './rank';
import { inZone } from './rules';

/** The pluggable parts of the scheduler. */
export interface SchedulerPolicy {
  checkers: readonly FeasibilityChecker[];
  tieBreakers: readonly TieBreaker[];
}

export const DEFAULT_POLICY: SchedulerPolicy = { checkers: DEFAULT_CHECKERS, tieBreakers: DEFAULT_TIE_BREAKERS };

/**
 * A request for instances of `job` with `demand`. The primary resource is
 * the one this job takes the largest share of, relative to the whole
 * cluster: best fit on the resource a job is biggest in is what keeps the
 * nodes it lands on from being stranded in that resource.
 */
export function makeRequest(state: ClusterState, job: string, demand: Demand): PlacementRequest {
  return { job, demand, primary: primaryResource(state, demand) };
}

export function primaryResource(state: ClusterState, demand: Demand): ResourceIndex {
  let best: ResourceIndex = MEMORY;
  let bestShare = -1;
  for (const r of [MEMORY, CPU, DISK] as const) {
    const share = clusterShare(state, demand, r);
    if (share > bestShare) {
      best = r;
      bestShare = share;
    }
  }
  return best;
}

/** The largest share of the cluster's capacity of any one resource one instance takes: the sort key for "decreasing". */
export function demandSize(state: ClusterState, demand: Demand): number {
  let size = 0;
  for (const r of RESOURCE_INDEXES) size = Math.max(size, clusterShare(state, demand, r));
  return size;
}

function clusterShare(state: ClusterState, demand: Demand, r: ResourceIndex): number {
  const need = demand.amounts[r];
  if (need === 0) return 0;
  const total = state.totalCapacity[r];
  return total > 0 ? need / total : Number.POSITIVE_INFINITY;
}

/** The node one more instance should go to, or -1 when no live node can take it. */
export function selectNode(state: ClusterState, req: PlacementRequest, policy: SchedulerPolicy = DEFAULT_POLICY): number {
  return walk(state, req, req.rules?.zone, policy);
}

/**
 * Best fit: the first feasible node in the primary resource's free order,
 * or the best of its ties. `zone` is the home zone the request is held to
 * (with the default checkers it is checked here instead of through a copy
 * of `req`; a custom chain gets `inZone(req, zone)`).
 */
function walk(state: ClusterState, req: PlacementRequest, zone: string | undefined, policy: SchedulerPolicy): number {
  const { checkers, tieBreakers } = policy;
  const fast = checkers === DEFAULT_CHECKERS;
  if (!fast && zone !== undefined && req.rules?.zone !== zone) req = inZone(req, zone);
  // A home-zone walk goes up its zone's order: only its nodes, in the same best-fit order.
  const index = state.indexOf(req.primary, zone);
  if (index === undefined) return -1; // no live node in that zone
  const free = state.free[req.primary];
  const order = index.order;
  let best = -1;
  let bestKey = 0;
  for (let pos = index.firstWithAtLeast(req.demand.amounts[req.primary]); pos < order.length; pos++) {
    const node = order[pos];
    if (best >= 0 && free[node] !== bestKey) break; // past the ties of the best fit
    if (fast ? !fitsDefault(state, node, req, zone) : !feasible(checkers, state, node, req)) continue;
    if (best < 0) {
      best = node;
      bestKey = free[node];
    } else if (compareTies(tieBreakers, state, req, node, best) < 0) {
      best = node;
    }
    if (atFloor(tieBreakers, state, req, best)) break;
  }
  return best;
}

/**
 * Instances' home zones (spread: zones), in placement order: `homes[i]` is
 * the zone of the i-th instance placed; undefined (or no list): any zone.
 */
export type Homes = ReadonlyArray<string | undefined>;

/**
 * The node for an instance whose home zone is `home`: a node there when one
 * fits, else the best fit anywhere ("away"; it goes home later, see
 * plan/zone-moves.ts).
 */
export function selectHome(state: ClusterState, req: PlacementRequest, home: string | undefined, policy: SchedulerPolicy = DEFAULT_POLICY): number {
  if (home === undefined) return selectNode(state, req, policy);
  const there = walk(state, req, home, policy);
  return there >= 0 ? there : selectNode(state, req, policy);
}

/**
 * Whole or nothing: `count` instances on live nodes, accounted in `state`,
 * or null with `state` as it was.
 */
export function placeAll(state: ClusterState, req: PlacementRequest, count: number, policy: SchedulerPolicy = DEFAULT_POLICY, homes?: Homes): number[] | null {
  const placed: number[] = [];
  for (let i = 0; i < count; i++) {
    const node = selectHome(state, req, homes?.[i], policy);
    if (node < 0) {
      for (const p of placed) state.remove(p, req.job, req.demand);
      return null;
    }
    state.add(node, req.job, req.demand);
    placed.push(node);
  }
  return placed;
}

/**
 * As many as fit (the seed's failover rule): up to `count` node ids,
 * accounted in `state`. Instances of one job are alike, so once one does
 * not fit, none of the rest would.
 */
export function placeAsManyAsFit(state: ClusterState, req: PlacementRequest, count: number, policy: SchedulerPolicy = DEFAULT_POLICY, homes?: Homes): number[] {
  const placed: number[] = [];
  for (let i = 0; i < count; i++) {
    // Away is allowed, so an instance that fits nowhere means none of the rest does either.
    const node = selectHome(state, req, homes?.[i], policy);
    if (node < 0) break;
    state.add(node, req.job, req.demand);
    placed.push(node);
  }
  return placed;
}

/** Can node `node` take one more instance? (Used to keep an updated instance where it is.) */
export function fitsOn(state: ClusterState, node: number, req: PlacementRequest, policy: SchedulerPolicy = DEFAULT_POLICY): boolean {
  return policy.checkers === DEFAULT_CHECKERS ? fitsDefault(state, node, req, req.rules?.zone) : feasible(policy.checkers, state, node, req);
}
