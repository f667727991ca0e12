// What the accepted schedule allocates on each node: for `ozy status`
// ("allocated" next to capacity). Same accounting as the scheduler:
// instanceDemand() per placed instance, plus the space of the persistent
// volumes of scaled-away ordinals, which stay on their node
// (plan/persistent.ts retainVolumes).
import type { AcceptedJob } from '../model/cluster';
import type { Resources } from '../model/job';
import { CPU, DISK, MEMORY, firstRetainedOrdinal, instanceDemand, placementDemand, retainedDemand } from './demand';

/** node name → resources allocated there by accepted jobs (dead nodes included if referenced). */
export function allocatedByNode(jobs: Iterable<AcceptedJob>): Map<string, Resources> {
  const out = new Map<string, Resources>();
  const add = (node: string, d: readonly [number, number, number]): void => {
    const u = out.get(node) ?? { memory: 0, disk: 0, cpu: 0 };
    u.memory += d[MEMORY];
    u.disk += d[DISK];
    u.cpu += d[CPU];
    out.set(node, u);
  };
  for (const job of jobs) {
    const jobDemand = instanceDemand(job.spec).amounts;
    for (const p of job.instances) {
      if (p.node === null) continue;
      add(p.node, p.spec === undefined ? jobDemand : placementDemand(job, p).amounts);
    }
    if (job.volumes === undefined) continue;
    const retained = retainedDemand(job.spec).amounts;
    const from = firstRetainedOrdinal(job);
    // A daemon instance's key (`<job>-<node>`) is NaN here: never retained.
    for (const [ordinal, node] of Object.entries(job.volumes)) if (Number(ordinal) >= from) add(node, retained);
  }
  return out;
}
