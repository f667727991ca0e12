// A small cluster's status for the dashboard's pure tests: rows built by
// `ozy status`'s own builder from accepted jobs, statuses and a rejection.
import { buildClusterStatus } from '../../../src/agent/cluster-status';
import { buildDashData, pollerOf, type DashData } from '../../../src/dashboard/model';
import type { AcceptedJob, InstanceStatus, NodeInfo, Rejection } from '../../../src/model/cluster';
import { podTemplateHash } from '../../../src/model/hash';
import { seededSpec } from '../../harness/dashboard-seed';

export const ENV_VALUE = 'env-value-must-not-ship-9c1f';
const AT = '2026-01-01T00:00:00.000Z';

export function node(name: string, zone = 'a'): NodeInfo {
  return { name, address: '10.0.0.1', zone, labels: {}, capacity: { memory: 1024 ** 3, disk: 10 * 1024 ** 3, cpu: 2000 }, agentId: 'x', leaseId: '1', startedAt: AT };
}

export function job(name: string, nodes: Array<string | null>): AcceptedJob {
  const spec = seededSpec(name, nodes.length, [{ name: 'PASSWORD', value: ENV_VALUE }]);
  return { spec, specHash: podTemplateHash(spec), commit: 'a'.repeat(40), file: `jobs/${name}.yaml`, acceptedAt: AT, instances: nodes.map((n) => ({ node: n, since: AT })) };
}

export function status(j: AcceptedJob, ordinal: number, state: InstanceStatus['state'], message?: string): InstanceStatus {
  return { instance: `${j.spec.name}-${ordinal}`, job: j.spec.name, node: j.instances[ordinal]!.node!, specHash: j.specHash, state, ...(message ? { message } : {}), restarts: 0, containers: {}, updatedAt: AT };
}

export const REJECTION: Rejection = {
  key: 'huge',
  commit: 'b'.repeat(40),
  desiredHash: 'h',
  at: AT,
  problem: {
    type: 'https://example.org/docs/errors.md#insufficient-memory',
    title: 'Not enough memory on any node',
    detail: 'Job requires 64G of memory but only 1G can be allocated.',
    job: 'huge',
    errors: [{ pointer: '/containers/app/memory', message: 'more than any node has' }],
  },
};

/** web (2 healthy), api (1 healthy, 1 unhealthy), batch-web (pending), and a rejection. */
export function smallCluster(): DashData {
  const web = job('web', ['n1', 'n2']);
  const api = job('api', ['n1', 'n2']);
  const batch = job('batch-web', [null]);
  const jobs = new Map([web, api, batch].map((j) => [j.spec.name, j]));
  const rejections = new Map([[REJECTION.key, REJECTION]]);
  const agents = new Map<string, Record<string, unknown>>([['n1', { role: 'poller', head: 'c'.repeat(40), secretish: ENV_VALUE }]]);
  const st = buildClusterStatus({
    nodes: [node('n1', 'a'), node('n2', 'b')],
    jobs,
    rejections,
    statuses: [status(web, 0, 'healthy'), status(web, 1, 'healthy'), status(api, 0, 'healthy'), status(api, 1, 'unhealthy', 'GET /health → 404')],
    agents,
    poller: pollerOf(agents),
    now: Date.parse(AT) + 60_000,
  });
  return buildDashData(st, rejections, 42);
}
