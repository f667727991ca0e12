// Feasibility: small checkers, each answering "can node N take one more
// instance of this request?" and, when it cannot, naming why. The placer
// calls `fits` on the hot path (no allocation); `reason` is only called to
// explain a failure, which is how `ozy plan` answers "why didn't my job
// place?". The job's placement rules (node labels, zones, one per node) are
// more checkers in the chain (rules.ts).
import type { ClusterState } from './cluster-state';
import { CPU, DISK, MEMORY, type Demand, type ResourceIndex } from './demand';
import { formatAmount } from './format';
import { labelChecker, onePerNodeChecker, zoneChecker, type PlacementRules } from './rules';

export interface PlacementRequest {
  job: string;
  demand: Demand;
  /** The resource this job needs most of, relative to the cluster: best-fit ranks by it. */
  primary: ResourceIndex;
  /** The job's placement rules (labels, spread, home zone); absent: any node. */
  rules?: PlacementRules;
}

export interface FeasibilityChecker {
  readonly name: string;
  fits(state: ClusterState, node: number, req: PlacementRequest): boolean;
  /** Why `node` cannot take the request; only meaningful when fits() is false. */
  reason(state: ClusterState, node: number, req: PlacementRequest): string;
}

const RESOURCE_LABEL = ['memory', 'disk', 'cpu'] as const;

export function resourceChecker(resource: ResourceIndex): FeasibilityChecker {
  const label = RESOURCE_LABEL[resource];
  return {
    name: `insufficient-${label}`,
    fits: (state, node, req) => {
      const need = req.demand.amounts[resource];
      return need === 0 || state.free[resource][node] >= need;
    },
    reason: (state, node, req) =>
      `insufficient ${label}: needs ${formatAmount(resource, req.demand.amounts[resource])}, ` +
      `${formatAmount(resource, Math.max(0, state.free[resource][node]))} free`,
  };
}

export const hostPortChecker: FeasibilityChecker = {
  name: 'host-port-conflict',
  fits: (state, node, req) => {
    for (const p of req.demand.hostPorts) if (state.portTaken(node, p)) return false;
    return true;
  },
  reason: (state, node, req) => {
    const taken = req.demand.hostPorts.filter((p) => state.portTaken(node, p));
    return taken.length === 1 ? `host port ${taken[0]} taken` : `host ports ${taken.join(', ')} taken`;
  },
};

/** The default chain, cheapest and most selective first. */
export const DEFAULT_CHECKERS: readonly FeasibilityChecker[] = [
  resourceChecker(MEMORY),
  resourceChecker(CPU),
  resourceChecker(DISK),
  hostPortChecker,
  labelChecker,
  zoneChecker,
  onePerNodeChecker,
];

/**
 * The DEFAULT_CHECKERS chain in one function, for the candidate walk: a
 * walk visits about a hundred nodes per placement at 1,000 nodes (more at
 * 5,000: nodes with room in the primary resource but not in another), and
 * calling seven checkers through an array per node cost more than the rest
 * of a placement. `zone` stands for `req.rules.zone` so that a home-zone
 * walk needs no request copy. Must agree with the chain (checkers.test.ts
 * compares them on random states).
 */
export function fitsDefault(state: ClusterState, node: number, req: PlacementRequest, zone: string | undefined): boolean {
  if (zone !== undefined && state.zones[node] !== zone) return false;
  const need = req.demand.amounts;
  const free = state.free;
  if (need[MEMORY] !== 0 && free[MEMORY][node] < need[MEMORY]) return false;
  if (need[CPU] !== 0 && free[CPU][node] < need[CPU]) return false;
  if (need[DISK] !== 0 && free[DISK][node] < need[DISK]) return false;
  const ports = req.demand.hostPorts;
  for (let i = 0; i < ports.length; i++) if (state.portTaken(node, ports[i]!)) return false;
  const rules = req.rules;
  if (rules === undefined) return true;
  const labels = rules.labels;
  if (labels !== undefined) {
    const have = state.nodes[node]!.labels;
    for (let i = 0; i < labels.length; i++) if (have[labels[i]![0]] !== labels[i]![1]) return false;
  }
  return rules.onePerNode !== true || state.jobInstancesOn(req.job, node) === 0;
}

export function feasible(checkers: readonly FeasibilityChecker[], state: ClusterState, node: number, req: PlacementRequest): boolean {
  for (let i = 0; i < checkers.length; i++) if (!checkers[i].fits(state, node, req)) return false;
  return true;
}

/** All reasons node `node` cannot take the request, '' when it can. */
export function reasonsFor(checkers: readonly FeasibilityChecker[], state: ClusterState, node: number, req: PlacementRequest): string {
  const reasons: string[] = [];
  for (const c of checkers) if (!c.fits(state, node, req)) reasons.push(c.reason(state, node, req));
  return reasons.join('; ');
}
