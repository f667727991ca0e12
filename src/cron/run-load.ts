// Active runs hold capacity like instances do (DESIGN.md, "Cron jobs"):
// every decision, cron round or not, adds them to the accounting it starts
// from. Pure.
import type { AcceptedJob } from '../model/cluster';
import type { CronState } from '../model/cron';
import type { CronPolicy } from '../model/job';
import { instanceDemand, type ClusterState, type Demand } from '../schedule';

/** The cron policy of an accepted cron job; undefined for any other job (or none). */
export function cronPolicyOf(job: AcceptedJob | undefined): CronPolicy | undefined {
  return job?.spec.type === 'cron' ? job.spec.cron : undefined;
}

/**
 * Every placed, unfinished run pod of `runs` whose job is an accepted cron
 * job, with what it takes: its job's current spec's demand (runs of a job
 * that is gone take nothing: their nodes stop them).
 */
export function forEachRunPod(jobs: ReadonlyMap<string, AcceptedJob>, runs: Iterable<CronState>, fn: (job: string, node: string, demand: Demand) => void): void {
  for (const s of runs) {
    const job = jobs.get(s.job);
    if (!cronPolicyOf(job)) continue;
    const demand = instanceDemand(job!.spec);
    for (const run of s.runs) for (const inst of run.instances) if (inst.node !== null && inst.exit === undefined) fn(s.job, inst.node, demand);
  }
}

/** Accounts every run pod of `runs` on a live node of `state`. */
export function addRunLoad(state: ClusterState, jobs: ReadonlyMap<string, AcceptedJob>, runs: Iterable<CronState>): void {
  forEachRunPod(jobs, runs, (job, node, demand) => {
    const id = state.idOf(node);
    if (id !== undefined) state.add(id, job, demand);
  });
}

/** node → what active runs hold there (for `ozy status`, next to the services' allocation). */
export function runLoadByNode(jobs: ReadonlyMap<string, AcceptedJob>, runs: Iterable<CronState>): Map<string, { memory: number; disk: number; cpu: number }> {
  const out = new Map<string, { memory: number; disk: number; cpu: number }>();
  forEachRunPod(jobs, runs, (_job, node, { amounts: [memory, disk, cpu] }) => {
    const u = out.get(node) ?? { memory: 0, disk: 0, cpu: 0 };
    out.set(node, { memory: u.memory + memory, disk: u.disk + disk, cpu: u.cpu + cpu });
  });
  return out;
}
