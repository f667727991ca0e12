// Placement rules of a job (its `placement`): node labels, one instance per
// node (spread: nodes) and the zone an instance must go to (spread: zones,
// its home zone). Each is a feasibility checker like memory or host ports,
// so a refused node gets a named reason ("missing label disk=ssd",
// "already runs web-1", "in zone a, not b"). A request without rules pays
// one property read per checker on the hot path.
import type { ClusterState } from './cluster-state';
import type { FeasibilityChecker, PlacementRequest } from './checkers';

export interface PlacementRules {
  /** Label pairs a node must all carry (`placement.nodeLabels`). */
  labels?: ReadonlyArray<readonly [string, string]>;
  /** At most one instance of the job per node (`spread: nodes`). */
  onePerNode?: boolean;
  /** Only nodes of this zone: the home zone of the instance being placed. */
  zone?: string;
  /** For reasons only: an instance of the job that runs on `node`, by name. */
  occupant?: (node: string) => string | undefined;
}

export const labelChecker: FeasibilityChecker = {
  name: 'node-labels',
  fits: (state, node, req) => {
    const labels = req.rules?.labels;
    if (labels === undefined) return true;
    const have = state.nodes[node]!.labels;
    for (let i = 0; i < labels.length; i++) if (have[labels[i]![0]] !== labels[i]![1]) return false;
    return true;
  },
  reason: (state, node, req) => {
    const have = state.nodes[node]!.labels;
    const missing = (req.rules?.labels ?? []).filter(([k, v]) => have[k] !== v).map(([k, v]) => `${k}=${v}`);
    return `missing label${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`;
  },
};

export const onePerNodeChecker: FeasibilityChecker = {
  name: 'spread-nodes',
  fits: (state, node, req) => req.rules?.onePerNode !== true || state.jobInstancesOn(req.job, node) === 0,
  reason: (state, node, req) => `already runs ${req.rules?.occupant?.(state.names[node]!) ?? `an instance of ${req.job}`}`,
};

export const zoneChecker: FeasibilityChecker = {
  name: 'zone',
  fits: (state, node, req) => {
    const zone = req.rules?.zone;
    return zone === undefined || state.nodes[node]!.zone === zone;
  },
  reason: (state, node, req) => {
    const zone = state.nodes[node]!.zone;
    return `${zone === undefined ? 'no zone' : `in zone ${zone}`}, not ${req.rules?.zone ?? ''}`;
  },
};

/** The rules that decide whether a node may run the job at all, whatever it holds. */
export function eligible(state: ClusterState, node: number, req: PlacementRequest): boolean {
  return labelChecker.fits(state, node, req) && zoneChecker.fits(state, node, req);
}

/** `req` restricted to `zone`: an instance's home. */
export function inZone(req: PlacementRequest, zone: string): PlacementRequest {
  return { ...req, rules: { ...req.rules, zone } };
}
