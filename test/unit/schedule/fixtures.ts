// Builders for scheduler and plan tests: specs, nodes and cluster views
// with just the fields that matter, plus a seeded PRNG.
import { versionOf, type AcceptedJob, type NodeInfo, type Rejection } from '../../../src/model/cluster';
import { specHash } from '../../../src/model/hash';
import { DEFAULT_UPDATE, type ContainerSpec, type DesiredJob, type JobSpec, type UpdatePolicy } from '../../../src/model/job';
import type { ClusterView, DecideInput, InvalidEntry } from '../../../src/plan';

export const Ki = 1024;
export const Mi = 1024 * Ki;
export const Gi = 1024 * Mi;

export interface PodShape {
  memory?: number;
  cpu?: number;
  disk?: number;
  sharedDisk?: number;
  hostPorts?: number[];
  image?: string;
}

export function container(shape: PodShape, name = 'app'): ContainerSpec {
  return {
    name,
    image: shape.image ?? 'busybox:1',
    restart: 'always',
    environment: [],
    ports: (shape.hostPorts ?? []).map((p) => ({ host: p, container: p, protocol: 'tcp' as const })),
    dependsOn: [],
    memory: shape.memory ?? 0,
    cpu: shape.cpu ?? 0,
    volumes: [
      ...(shape.disk ? [{ type: 'local' as const, path: '/data/local', space: shape.disk }] : []),
      ...(shape.sharedDisk ? [{ type: 'shared' as const, path: '/data/shared', space: shape.sharedDisk }] : []),
    ],
  };
}

export function spec(name: string, numInstances: number, shape: PodShape): JobSpec {
  return { name, numInstances, containers: [container(shape)] };
}

export function desired(name: string, numInstances: number, shape: PodShape): DesiredJob {
  const s = spec(name, numInstances, shape);
  return { spec: s, specHash: specHash(s), file: `jobs/${name}.yaml` };
}

/** `d` with an update policy (the rest of the policy at its defaults). */
export function withUpdate(d: DesiredJob, update: Partial<UpdatePolicy>): DesiredJob {
  const s: JobSpec = { ...d.spec, update: { ...DEFAULT_UPDATE, ...update } };
  return { ...d, spec: s, specHash: specHash(s) };
}

export function node(name: string, cap: { memory?: number; cpu?: number; disk?: number }, zone?: string): NodeInfo {
  return {
    name,
    address: `10.0.0.${name.length}`,
    ...(zone ? { zone } : {}),
    labels: {},
    capacity: { memory: cap.memory ?? 8 * Gi, cpu: cap.cpu ?? 4000, disk: cap.disk ?? 100 * Gi },
    agentId: `agent-${name}`,
    leaseId: '1',
    startedAt: '2024-01-01T00:00:00.000Z',
  };
}

/** An accepted job with placements given as node names (null: pending). */
export function accepted(d: DesiredJob, nodes: Array<string | null>, since = '2024-01-01T00:00:00.000Z'): AcceptedJob {
  return {
    spec: { ...d.spec, numInstances: nodes.length },
    specHash: nodes.length === d.spec.numInstances ? d.specHash : specHash({ ...d.spec, numInstances: nodes.length }),
    commit: 'c0',
    file: d.file,
    acceptedAt: since,
    instances: nodes.map((n) => ({ node: n, since })),
  };
}

export function view(nodes: NodeInfo[], jobs: AcceptedJob[] = [], rejections: Rejection[] = []): ClusterView {
  return {
    nodes,
    jobs: new Map(jobs.map((j) => [j.spec.name, j])),
    rejections: new Map(rejections.map((r) => [r.key, r])),
  };
}

export const NOW = new Date('2024-06-01T12:00:00.000Z');

export function input(desiredJobs: DesiredJob[], cluster: ClusterView, extra: Partial<DecideInput> = {}): DecideInput {
  return {
    desired: desiredJobs,
    invalid: [] as InvalidEntry[],
    cluster,
    commit: 'c1',
    now: NOW,
    deletionGuard: { maxDeleteShare: 0.5, allowDeleteAll: false },
    ...extra,
  };
}

export { prng } from '../../harness/random';

export function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}

/** Per live node: summed demand of the accepted instances on it, and host ports seen twice. */
export function checkCluster(nodes: readonly NodeInfo[], jobs: Iterable<AcceptedJob>): { overCapacity: string[]; portClashes: string[]; onDeadNodes: string[] } {
  const alive = new Map(nodes.map((n) => [n.name, n]));
  const used = new Map<string, { memory: number; disk: number; cpu: number; ports: Set<string> }>();
  const portClashes: string[] = [];
  const onDeadNodes: string[] = [];
  for (const j of jobs) {
    for (const [ordinal, p] of j.instances.entries()) {
      if (p.node === null) continue;
      if (!alive.has(p.node)) {
        onDeadNodes.push(`${j.spec.name}-${ordinal}@${p.node}`);
        continue;
      }
      const u = used.get(p.node) ?? { memory: 0, disk: 0, cpu: 0, ports: new Set<string>() };
      // The version this instance runs (a rolling update pins older ones).
      const spec = versionOf(j, p).spec;
      for (const c of spec.containers) {
        u.memory += c.memory;
        u.cpu += c.cpu;
        for (const v of c.volumes) if (v.type === 'local') u.disk += v.space;
      }
      const ports = new Set(spec.containers.flatMap((c) => c.ports.filter((x) => x.host !== undefined).map((x) => `${x.host}/${x.protocol}`)));
      for (const port of ports) {
        if (u.ports.has(port)) portClashes.push(`${p.node}:${port}`);
        u.ports.add(port);
      }
      used.set(p.node, u);
    }
  }
  const overCapacity: string[] = [];
  for (const [name, u] of used) {
    const cap = (alive.get(name) as NodeInfo).capacity;
    if (u.memory > cap.memory || u.disk > cap.disk || u.cpu > cap.cpu) overCapacity.push(name);
  }
  return { overCapacity, portClashes, onDeadNodes };
}

/** The cluster view after a decision's writes were committed. */
export function applyDecision(before: ClusterView, d: import('../../../src/plan').Decision, nodes = before.nodes): ClusterView {
  const jobs = new Map(before.jobs);
  for (const name of d.deleteJobs) jobs.delete(name);
  for (const j of d.putJobs) jobs.set(j.spec.name, j);
  const rejections = new Map(before.rejections);
  for (const key of d.deleteRejections) rejections.delete(key);
  for (const r of d.putRejections) rejections.set(r.key, r);
  return { nodes, jobs, rejections, ...(before.zones ? { zones: before.zones } : {}) };
}
