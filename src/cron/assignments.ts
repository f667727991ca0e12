// Which run pods a node must be running now (pure): every placed instance of
// an active run on this node that has not exited. Anything else the node
// still runs for a run (replaced, lost, job deleted) is stopped by the
// executor without a report.
import type { AcceptedJob } from '../model/cluster';
import type { CronState } from '../model/cron';
import { runInstanceName } from '../model/cron';
import type { JobSpec } from '../model/job';
import { cronPolicyOf } from './run-load';

export interface RunSlot {
  job: string;
  run: string;
  /** `<run>-<ordinal>`. */
  instance: string;
  ordinal: number;
  attempt: number;
  spec: JobSpec;
  /** When the run was placed (ISO): activeDeadline counts from here. */
  startedAt: string;
  activeDeadlineMs?: number;
}

/**
 * `lease`: this node's current lease. A pod placed here under an earlier
 * lease is not run again: the node stopped it when it registered anew, and
 * the rounds record it as lost (re-running it would run its time twice).
 */
export function runSlotsFor(node: string, lease: string, states: Iterable<CronState>, jobOf: (name: string) => AcceptedJob | undefined): RunSlot[] {
  const out: RunSlot[] = [];
  for (const s of states) {
    const job = jobOf(s.job);
    const policy = cronPolicyOf(job);
    if (!job || !policy) continue;
    for (const run of s.runs) {
      if (run.startedAt === undefined) continue;
      run.instances.forEach((inst, ordinal) => {
        if (inst.node !== node || inst.exit !== undefined || (inst.lease !== undefined && inst.lease !== lease)) return;
        out.push({
          job: s.job,
          run: run.run,
          instance: runInstanceName(run.run, ordinal),
          ordinal,
          attempt: run.attempt,
          spec: withRunEnv(job.spec, run.run, run.scheduledAt, run.attempt, ordinal),
          startedAt: run.startedAt!,
          ...(policy.activeDeadlineMs !== undefined ? { activeDeadlineMs: policy.activeDeadlineMs } : {}),
        });
      });
    }
  }
  return out;
}

/**
 * The run's identity in every container's environment, as Nomad gives
 * NOMAD_ALLOC_ID: OZY_RUN, OZY_RUN_SCHEDULED_AT (ISO), OZY_RUN_ATTEMPT
 * (0 first), OZY_RUN_INSTANCE (the pod's ordinal). A variable the job sets
 * itself wins.
 */
export function withRunEnv(spec: JobSpec, run: string, scheduledAt: string, attempt: number, ordinal: number): JobSpec {
  const extra = [
    { name: 'OZY_RUN', value: run },
    { name: 'OZY_RUN_SCHEDULED_AT', value: scheduledAt },
    { name: 'OZY_RUN_ATTEMPT', value: String(attempt) },
    { name: 'OZY_RUN_INSTANCE', value: String(ordinal) },
  ];
  return {
    ...spec,
    containers: spec.containers.map((c) => {
      const own = new Set(c.environment.map((e) => e.name));
      return { ...c, environment: [...extra.filter((e) => !own.has(e.name)), ...c.environment] };
    }),
  };
}
