// Accepted jobs and instance statuses as the ingress reads them from etcd.
import type { AcceptedJob, InstanceStatus } from '../../../src/model/cluster';
import type { IngressRoute } from '../../../src/model/job';

export function ingressJob(name: string, ingress: IngressRoute[], nodes: (string | null)[], specHash = `h-${name}`): AcceptedJob {
  return {
    spec: {
      name,
      numInstances: nodes.length,
      containers: [{ name: 'app', image: 'localhost/ozy-test:1', restart: 'always', environment: [], ports: [], dependsOn: [], memory: 1 << 26, cpu: 100, volumes: [] }],
      ingress,
    },
    specHash,
    commit: 'c1',
    file: `jobs/${name}.yaml`,
    acceptedAt: '2026-01-01T00:00:00.000Z',
    instances: nodes.map((node) => ({ node, since: '2026-01-01T00:00:00.000Z' })),
  };
}

export function instanceStatus(job: AcceptedJob, ordinal: number, endpoints: Record<string, { host: string; port: number }>, over: Partial<InstanceStatus> = {}): InstanceStatus {
  return {
    instance: `${job.spec.name}-${ordinal}`,
    job: job.spec.name,
    node: job.instances[ordinal]!.node!,
    specHash: job.specHash,
    state: 'healthy',
    restarts: 0,
    containers: { app: { state: 'running' } },
    updatedAt: '2026-01-01T00:00:00.000Z',
    endpoints,
    ...over,
  };
}

/** Keyed "<node>/<instance>" like ClusterStore.mirrorInstanceStatus. */
export function statusMap(...list: InstanceStatus[]): Map<string, InstanceStatus> {
  return new Map(list.map((s) => [`${s.node}/${s.instance}`, s]));
}
