// The scheduler: feasibility checkers → ranking → placement, plus the
// explanations for placements that fail. Pure; see README.md.
export { ClusterState } from './cluster-state';
export { placedState } from './placed-state';
export { FreeIndex } from './free-index';
export {
  CPU,
  DISK,
  MEMORY,
  RESOURCE_NAMES,
  instanceDemand,
  placementDemand,
  retainedDemand,
  firstRetainedOrdinal,
  portKey,
  type Demand,
  type ResourceIndex,
  type ResourceName,
} from './demand';
export {
  DEFAULT_CHECKERS,
  feasible,
  fitsDefault,
  hostPortChecker,
  reasonsFor,
  resourceChecker,
  type FeasibilityChecker,
  type PlacementRequest,
} from './checkers';
export { DEFAULT_TIE_BREAKERS, spreadTieBreaker, type TieBreaker } from './rank';
export {
  DEFAULT_POLICY,
  demandSize,
  fitsOn,
  makeRequest,
  placeAll,
  placeAsManyAsFit,
  primaryResource,
  selectHome,
  selectNode,
  type Homes,
  type SchedulerPolicy,
} from './place';
export { eligible, inZone, labelChecker, onePerNodeChecker, zoneChecker, type PlacementRules } from './rules';
export {
  MAX_NODES_IN_PROBLEM,
  describeDemand,
  explainPlacement,
  nodeReasonLine,
  placementProblem,
  type PlacementExplanation,
  type ProblemContext,
  type Shortfall,
} from './explain';
export { formatAmount, formatBytes, formatCpu } from './format';
export { placeBatch, placementStream, type BatchRequest } from './batch';
export { allocatedByNode } from './usage';
