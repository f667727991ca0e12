// A large cluster in a real etcd without agents, written through the
// store's own write API: registered nodes (on leases), N accepted jobs with
// one placed instance each (one in ten with two), and the instances'
// statuses as their nodes would write them (most healthy, some starting or
// unhealthy with a reason). What the dashboard's scale test and benchmark read.
import type { AcceptedJob, InstanceState } from '../../src/model/cluster';
import { podTemplateHash } from '../../src/model/hash';
import type { JobSpec } from '../../src/model/job';
import type { ClusterStore, NodeSession } from '../../src/store';

export interface SeededCluster {
  nodes: NodeSession[];
  jobNames: string[];
}

/** `job-00042`: names sort in creation order, and a filter like `job-0004` matches ten. */
export function seededJobName(i: number): string {
  return `job-${String(i).padStart(5, '0')}`;
}

export function seededSpec(name: string, numInstances: number, env: Array<{ name: string; value: string }> = []): JobSpec {
  return {
    name,
    numInstances,
    containers: [
      {
        name: 'app',
        image: 'localhost/ozy-busybox:1',
        restart: 'always',
        environment: env,
        ports: [],
        dependsOn: [],
        memory: 16 * 1024 ** 2,
        cpu: 10,
        volumes: [],
      },
    ],
  };
}

export async function seedCluster(store: ClusterStore, opts: { jobs: number; nodes?: number; env?: Array<{ name: string; value: string }> }): Promise<SeededCluster> {
  const nodeCount = opts.nodes ?? 10;
  const capacity = { memory: 64 * 1024 ** 3, disk: 100 * 1024 ** 3, cpu: 64_000 };
  const nodes: NodeSession[] = [];
  for (let i = 0; i < nodeCount; i++) {
    nodes.push(await store.registerNode({ name: `node-${i + 1}`, address: '127.0.0.1', zone: `zone-${'abc'[i % 3]}`, labels: {}, capacity }, { ttlSeconds: 60, agentId: `seed-${i}` }));
  }
  const at = new Date().toISOString();
  const jobs: AcceptedJob[] = [];
  for (let i = 0; i < opts.jobs; i++) {
    const name = seededJobName(i);
    const n = i % 10 === 0 ? 2 : 1;
    const spec = seededSpec(name, n, opts.env ?? []);
    const instances = Array.from({ length: n }, (_, k) => ({ node: `node-${((i + k) % nodeCount) + 1}`, since: at }));
    jobs.push({ spec, specHash: podTemplateHash(spec), commit: 'c0ffee'.padEnd(40, '0'), file: `jobs/${name}.yaml`, acceptedAt: at, instances });
  }
  const snap = await store.snapshot();
  const res = await store.commitSchedule(snap.scheduleRevision, { putJobs: jobs, deleteJobs: [], putRejections: [], deleteRejections: [], readJobs: snap.jobs }, { commit: 'c0ffee'.padEnd(40, '0'), by: 'seed' });
  if (!res.ok) throw new Error('seeding: the schedule commit lost its guard');
  // Statuses, 64 writes in flight at a time.
  const writes = jobs.flatMap((j, i) => j.instances.map((p, k) => ({ job: j, node: p.node!, instance: `${j.spec.name}-${k}`, state: stateOf(i) })));
  for (let i = 0; i < writes.length; i += 64) {
    await Promise.all(
      writes.slice(i, i + 64).map((w) => {
        const session = nodes[Number(w.node.slice('node-'.length)) - 1]!;
        return store.putInstanceStatus(session, {
          instance: w.instance,
          job: w.job.spec.name,
          node: w.node,
          specHash: w.job.specHash,
          state: w.state,
          ...(w.state === 'unhealthy' ? { message: 'health check GET /health → 404' } : {}),
          restarts: w.state === 'unhealthy' ? 3 : 0,
          containers: {},
          updatedAt: at,
        });
      }),
    );
  }
  return { nodes, jobNames: jobs.map((j) => j.spec.name) };
}

function stateOf(i: number): InstanceState {
  if (i % 50 === 7) return 'unhealthy';
  if (i % 50 === 13) return 'starting';
  return 'healthy';
}
