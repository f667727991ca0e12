// Plan: desired vs accepted → named buckets → the exact writes of one
// scheduling round. Pure; the agent's brain and `ozy plan` call decide().
export { decide } from './decide';
export { leaveVersion, safeWriteOrder, type RoundWrite, type RoundWrites, type SafeOrder } from './safe-order';
export { classifyJobs, isHeldByInvalid, sameTemplate, type ChangeKind, type JobChange } from './classify';
export { DELETION_GUARD_KEY, checkDeletionGuard, type GuardVerdict } from './deletion-guard';
export { reconcileRejections, sameProblem, type RejectionWrites, type WantedRejection } from './rejections';
export {
  BUCKETS,
  type Bucket,
  type ClusterView,
  type DecideInput,
  type Decision,
  type DeletionGuardSettings,
  type InvalidEntry,
  type JobOutcome,
} from './types';
