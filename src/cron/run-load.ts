// Active runs hold capacity like instances do (DESIGN.md, "Cron jobs"):
// every decision, cron round or not, adds them to the accounting it starts
// from. Pure.
import type { AcceptedJob } from '../model/cluster';
import type { CronState } from '../model/cron';
import type { CronPolicy } from '../model/job';
import { instanceDemand, type ClusterState } from '../schedule';

/** The cron policy of an accepted cron job; undefined for any other job. */
export function cronPolicyOf(job: AcceptedJob): CronPolicy | undefined {
  return job.spec.type === 'cron' ? job.spec.cron : undefined;
}

/**
 * Accounts every placed, unfinished instance of `runs` on a live node of
 * `state`, taking what its job's current spec needs (runs of a job that is
 * gone take nothing: their nodes stop them).
 */
export function addRunLoad(state: ClusterState, jobs: ReadonlyMap<string, AcceptedJob>, runs: Iterable<CronState>): void {
  for (const s of runs) {
    const job = jobs.get(s.job);
    if (!job || !cronPolicyOf(job)) continue;
    const demand = instanceDemand(job.spec);
    for (const run of s.runs) {
      for (const inst of run.instances) {
        if (inst.node === null || inst.exit !== undefined) continue;
        const id = state.idOf(inst.node);
        if (id !== undefined) state.add(id, s.job, demand);
      }
    }
  }
}

/** node → what active runs hold there (for `ozy status`, next to the services' allocation). */
export function runLoadByNode(jobs: ReadonlyMap<string, AcceptedJob>, runs: Iterable<CronState>): Map<string, { memory: number; disk: number; cpu: number }> {
  const out = new Map<string, { memory: number; disk: number; cpu: number }>();
  for (const s of runs) {
    const job = jobs.get(s.job);
    if (!job || !cronPolicyOf(job)) continue;
    const [memory, disk, cpu] = instanceDemand(job.spec).amounts;
    for (const run of s.runs) {
      for (const inst of run.instances) {
        if (inst.node === null || inst.exit !== undefined) continue;
        const u = out.get(inst.node) ?? { memory: 0, disk: 0, cpu: 0 };
        u.memory += memory;
        u.disk += disk;
        u.cpu += cpu;
        out.set(inst.node, u);
      }
    }
  }
  return out;
}
