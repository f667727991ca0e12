// What the accepted schedule allocates on each node: for `ozy status` and
// `ozy plan` ("allocated" next to capacity). Same accounting as the
// scheduler: instanceDemand() per placed instance.
import type { AcceptedJob } from '../model/cluster';
import type { Resources } from '../model/job';
import { CPU, DISK, MEMORY, instanceDemand, placementDemand } from './demand';

/** node name → resources allocated there by accepted jobs (dead nodes included if referenced). */
export function allocatedByNode(jobs: Iterable<AcceptedJob>): Map<string, Resources> {
  const out = new Map<string, Resources>();
  for (const job of jobs) {
    const jobDemand = instanceDemand(job.spec).amounts;
    for (const p of job.instances) {
      if (p.node === null) continue;
      const d = p.spec === undefined ? jobDemand : placementDemand(job, p).amounts;
      const u = out.get(p.node) ?? { memory: 0, disk: 0, cpu: 0 };
      u.memory += d[MEMORY];
      u.disk += d[DISK];
      u.cpu += d[CPU];
      out.set(p.node, u);
    }
  }
  return out;
}
