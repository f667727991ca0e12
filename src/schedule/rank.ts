// Ranking: among the nodes that pass every checker, which one gets the
// instance. The primary rank is best fit on the request's primary resource
// (the node left with the least of it free), which the free indexes give in
// order. Tie-breakers order the nodes whose best-fit key is equal, in list
// order; after them the node name decides, so the result is deterministic.
import type { ClusterState } from './cluster-state';
import type { PlacementRequest } from './checkers';

export interface TieBreaker {
  readonly name: string;
  /** Lower is better. */
  cost(state: ClusterState, node: number, req: PlacementRequest): number;
  /** No node can cost less than this: a candidate at the floor ends the search early. */
  readonly floor: number;
}

/** Spread: prefer nodes holding fewer instances of the same job. */
export const spreadTieBreaker: TieBreaker = {
  name: 'spread',
  cost: (state, node, req) => state.jobInstancesOn(req.job, node),
  floor: 0,
};

export const DEFAULT_TIE_BREAKERS: readonly TieBreaker[] = [spreadTieBreaker];

/** -1, 0, 1: lexicographic comparison of two candidates by the tie-breakers. */
export function compareTies(tieBreakers: readonly TieBreaker[], state: ClusterState, req: PlacementRequest, a: number, b: number): number {
  for (const t of tieBreakers) {
    const d = t.cost(state, a, req) - t.cost(state, b, req);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** True when no other candidate can beat `node` on the tie-breakers. */
export function atFloor(tieBreakers: readonly TieBreaker[], state: ClusterState, req: PlacementRequest, node: number): boolean {
  for (const t of tieBreakers) if (t.cost(state, node, req) > t.floor) return false;
  return true;
}
