// Where an instance runs, from what etcd holds (pure): `ozy logs` asks that
// node's agent. The node's own status record wins (it is what runs now);
// else the schedule's placement (placed, not started yet); else an active
// cron run's pod.
import { placementName, type AcceptedJob, type InstanceStatus } from '../model/cluster';
import { runInstanceName, type CronState } from '../model/cron';

export type Located = { node: string } | { pending: true } | undefined;

export function locateInstance(
  instance: string,
  view: { statuses: readonly InstanceStatus[]; jobs: ReadonlyMap<string, AcceptedJob>; runs?: ReadonlyMap<string, CronState> },
): Located {
  const status = view.statuses.find((s) => s.instance === instance);
  if (status) return { node: status.node };
  for (const job of view.jobs.values()) {
    if (!instance.startsWith(`${job.spec.name}-`)) continue;
    for (const [i, p] of job.instances.entries()) {
      if (placementName(job.spec.name, p, i) !== instance) continue;
      return p.node === null ? { pending: true } : { node: p.node };
    }
  }
  for (const state of view.runs?.values() ?? []) {
    for (const run of state.runs) {
      for (const [i, p] of run.instances.entries()) {
        if (runInstanceName(run.run, i) !== instance) continue;
        return p.node === null ? { pending: true } : { node: p.node };
      }
    }
  }
  return undefined;
}
