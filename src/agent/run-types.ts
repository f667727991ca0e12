// What the control plane hands the node side of cron runs, and what the
// node hands back (run-executor.ts). Records in etcd: model/cron.ts.
import type { InstanceExit } from '../model/cron';
import type { JobSpec } from '../model/job';

/** One pod of a cron run that this node must run now. */
export interface RunAssignment {
  job: string;
  /** `<job>-<unix seconds of its scheduled time>` (model/cron.ts runName). */
  run: string;
  /** `<run>-<ordinal>` (runInstanceName): the pod's ozy.instance label. */
  instance: string;
  /** 0 first; a retry of a failed run is a new attempt (maybe on the same node, under the same instance name). */
  attempt: number;
  /** The pod to run: its containers in start order. */
  spec: JobSpec;
  /** ISO: when the run was placed; activeDeadline counts from here. */
  startedAt: string;
  /** Default: spec.cron.activeDeadlineMs; absent in both: no limit. */
  activeDeadlineMs?: number;
}

export interface RunReporter {
  /**
   * Resolves once etcd has the exit; rejects on failure (the executor
   * retries with back-off and keeps the containers until it resolves, so
   * the exit is never lost). Must be idempotent: after an agent crash
   * between the write and the removal of the containers the same exit may
   * come again (unless the assignment no longer names the instance).
   */
  reportExit(a: RunAssignment, exit: InstanceExit): Promise<void>;
}
