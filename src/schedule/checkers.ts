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
