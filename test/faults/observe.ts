// What the fault suite looks at after (and during) a fault: etcd's view
// (nodes, placements, statuses, DNS) and the container engine's (every
// container carrying this test's node prefix), and the checks over them:
//   invariantViolations  must hold at every moment (capacity, one node per instance)
//   duplicates           instances running on two nodes at once
//   convergenceProblems  empty once every accepted instance is healthy where it is placed
// The background sampler that measures duplicates and lost instances
// throughout a scenario is sampler.ts.
import type { AcceptedJob, InstanceStatus, NodeInfo } from '../../src/model/cluster';
import { instanceName } from '../../src/model/cluster';
import { dnsKey } from '../../src/network/dns';
import { allocatedByNode } from '../../src/schedule';
import type { DnsRecord } from '../../src/store';
import { request } from '../harness/podman';
import type { FaultCluster } from './fault-cluster';

export const DNS_ZONE = 'ozy.local';

export interface ContainerRow {
  id: string;
  node: string;
  instance: string;
  job: string;
  container: string;
  running: boolean;
  ip?: string;
}

export interface ClusterView {
  /** Epoch ms when the view was read. */
  at: number;
  revision: number;
  nodes: NodeInfo[];
  jobs: Map<string, AcceptedJob>;
  statuses: InstanceStatus[];
  dns: Map<string, DnsRecord>;
  containers: ContainerRow[];
}

interface ListedContainer {
  Id: string;
  State?: string;
  Labels?: Record<string, string>;
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

/** Every container labelled with a node of this test (one API call: the whole engine's view). */
export async function listContainers(socketPath: string, prefix: string): Promise<ContainerRow[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: ['ozy.node'] }));
  const res = await request(socketPath, 'GET', `/containers/json?all=true&filters=${filters}`);
  if (res.status !== 200) throw new Error(`container list: HTTP ${res.status} ${res.body.slice(0, 200)}`);
  const rows: ContainerRow[] = [];
  for (const c of JSON.parse(res.body) as ListedContainer[]) {
    const l = c.Labels ?? {};
    const node = l['ozy.node'] ?? '';
    if (!node.startsWith(`${prefix}-`)) continue;
    const ip = Object.values(c.NetworkSettings?.Networks ?? {}).map((n) => n.IPAddress).find((a) => a);
    rows.push({
      id: c.Id,
      node,
      instance: l['ozy.instance'] ?? '',
      job: l['ozy.job'] ?? '',
      container: l['ozy.container'] ?? '',
      running: c.State === 'running',
      ...(ip ? { ip } : {}),
    });
  }
  return rows.sort((a, b) => a.instance.localeCompare(b.instance) || a.node.localeCompare(b.node));
}

/** etcd's view, and the engine's unless `containers` is false (polling the engine costs it CPU). */
export async function readView(c: FaultCluster, opts: { containers?: boolean } = {}): Promise<ClusterView> {
  const [snap, statuses, dns, containers] = await Promise.all([
    c.store.snapshot(),
    c.store.listInstanceStatus(),
    c.store.listDnsRecords(),
    opts.containers === false ? [] : listContainers(c.podman.socketPath, c.podman.prefix),
  ]);
  return { at: Date.now(), revision: snap.revision, nodes: snap.nodes, jobs: snap.jobs, statuses, dns, containers };
}

/** Every instance of every accepted job: name, job, placement. */
export function instancesOf(jobs: Map<string, AcceptedJob>): Array<{ instance: string; job: AcceptedJob; node: string | null }> {
  const out: Array<{ instance: string; job: AcceptedJob; node: string | null }> = [];
  for (const job of jobs.values()) {
    job.instances.forEach((p, ordinal) => out.push({ instance: instanceName(job.spec.name, ordinal), job, node: p.node }));
  }
  return out.sort((a, b) => a.instance.localeCompare(b.instance));
}

/** Invariants 1 and 2 (etcd side): no live node over capacity; an instance never has two placements. */
export function invariantViolations(v: ClusterView): string[] {
  const out: string[] = [];
  const allocated = allocatedByNode(v.jobs.values());
  for (const n of v.nodes) {
    const a = allocated.get(n.name);
    if (!a) continue;
    for (const r of ['memory', 'disk', 'cpu'] as const) {
      if (a[r] > n.capacity[r]) out.push(`node ${n.name} over capacity: ${r} ${a[r]} > ${n.capacity[r]}`);
    }
  }
  const seen = new Set<string>();
  for (const i of instancesOf(v.jobs)) {
    if (seen.has(i.instance)) out.push(`instance ${i.instance} placed twice`);
    seen.add(i.instance);
  }
  return out;
}

/** Instances with running containers on more than one node (invariant 2, engine side). */
export function duplicates(v: ClusterView): string[] {
  const nodesOf = new Map<string, Set<string>>();
  for (const c of v.containers) {
    if (!c.running) continue;
    const s = nodesOf.get(c.instance) ?? new Set<string>();
    s.add(c.node);
    nodesOf.set(c.instance, s);
  }
  return [...nodesOf].filter(([, s]) => s.size > 1).map(([i, s]) => `${i} runs on ${[...s].sort().join(' and ')}`);
}

/**
 * Empty when the cluster has converged: every instance placed on a live
 * node, healthy there (status of that node, current spec), its containers
 * running there and nowhere else, and its DNS record pointing at that copy.
 */
export function convergenceProblems(v: ClusterView): string[] {
  const out: string[] = [];
  const alive = new Set(v.nodes.map((n) => n.name));
  const statusOf = new Map(v.statuses.map((s) => [`${s.node}/${s.instance}`, s]));
  const byInstance = new Map<string, ContainerRow[]>();
  for (const c of v.containers) byInstance.set(c.instance, [...(byInstance.get(c.instance) ?? []), c]);
  const wanted = new Set<string>();
  for (const { instance, job, node } of instancesOf(v.jobs)) {
    wanted.add(instance);
    if (node === null) {
      out.push(`${instance} pending`);
      continue;
    }
    if (!alive.has(node)) {
      out.push(`${instance} placed on dead node ${node}`);
      continue;
    }
    const s = statusOf.get(`${node}/${instance}`);
    if (s?.state !== 'healthy' || s.specHash !== job.specHash) out.push(`${instance} on ${node} is ${s ? `${s.state} (${s.specHash === job.specHash ? 'current' : 'old'} spec)` : 'without status'}`);
    const cs = byInstance.get(instance) ?? [];
    const here = cs.filter((c) => c.node === node && c.running);
    const elsewhere = cs.filter((c) => c.node !== node);
    if (here.length !== job.spec.containers.length) out.push(`${instance}: ${here.length}/${job.spec.containers.length} containers running on ${node}`);
    if (elsewhere.length > 0) out.push(`${instance}: containers left on ${[...new Set(elsewhere.map((c) => c.node))].join(', ')}`);
    const rec = v.dns.get(dnsKey(DNS_ZONE, job.spec.name, instance));
    const owner = here.find((c) => c.container === job.spec.containers[0]?.name);
    if (!rec) out.push(`${instance}: no DNS record`);
    else if (owner?.ip && rec.host !== owner.ip) out.push(`${instance}: DNS record points at ${rec.host}, the copy on ${node} is ${owner.ip}`);
  }
  for (const c of v.containers) if (!wanted.has(c.instance)) out.push(`${c.instance}: container of an instance nobody wants on ${c.node}`);
  return [...new Set(out)];
}

/** Differences between the accepted jobs and `expect` (job → instance count). */
export function expectedJobsProblems(v: ClusterView, expect: Record<string, number>): string[] {
  const out: string[] = [];
  for (const [name, n] of Object.entries(expect)) {
    const j = v.jobs.get(name);
    if (!j) out.push(`job ${name} not accepted`);
    else if (j.instances.length !== n) out.push(`job ${name} has ${j.instances.length} instances, expected ${n}`);
  }
  for (const name of v.jobs.keys()) if (!(name in expect)) out.push(`unexpected job ${name}`);
  return out;
}

/** Container ids by instance (to show that nothing was recreated). */
export function containerIds(v: ClusterView, filter: (c: ContainerRow) => boolean = () => true): Map<string, string> {
  return new Map(v.containers.filter(filter).map((c) => [`${c.node}/${c.instance}/${c.container}`, c.id]));
}

/** Restart counts from the status keys, by node/instance. */
export function restartCounts(v: ClusterView): Map<string, number> {
  return new Map(v.statuses.map((s) => [`${s.node}/${s.instance}`, s.restarts]));
}

/** `FIGURE name=value` on stdout: what a benchmark harness greps for. */
export function figure(name: string, value: number | string): void {
  console.log(`FIGURE ${name}=${typeof value === 'number' ? Math.round(value) : value}`);
}

/** Sorted copy of a number list's summary: median, p90, max. */
export function summary(values: number[]): { n: number; median: number; p90: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { n: s.length, median: at(0.5), p90: at(0.9), max: s[s.length - 1] ?? NaN };
}

/**
 * Reads views for a scenario and keeps every invariant violation it ever
 * saw (a probe that throws inside waitFor would only be retried), so the
 * scenario can assert none happened at any point it looked.
 */
export class Observer {
  readonly violations: string[] = [];
  reads = 0;

  constructor(private readonly c: FaultCluster) {}

  async view(opts: { containers?: boolean } = {}): Promise<ClusterView> {
    const v = await readView(this.c, opts);
    this.reads++;
    for (const p of invariantViolations(v)) this.violations.push(`${new Date(v.at).toISOString()} ${p}`);
    return v;
  }

  /**
   * Waits until the cluster has converged with no duplicates, and the
   * accepted jobs are exactly `expect` (job → instances); returns that view.
   */
  async converged(what: string, expect: Record<string, number>, timeoutMs = 30_000): Promise<ClusterView> {
    const deadline = Date.now() + timeoutMs;
    let last: string[] = [];
    for (;;) {
      try {
        const v = await this.view();
        last = [...expectedJobsProblems(v, expect), ...convergenceProblems(v), ...duplicates(v).map((d) => `duplicate: ${d}`)];
        if (last.length === 0) return v;
      } catch (err) {
        last = [`cannot read the cluster: ${(err as Error).message}`];
      }
      if (Date.now() > deadline) throw new Error(`${what}: not converged after ${timeoutMs} ms: ${last.slice(0, 12).join('; ')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * Waits until `probe(view)` returns a value; returns it. The view is etcd's
   * only (cheap, polled every 50 ms) unless `containers` is set.
   */
  async until<T>(what: string, probe: (v: ClusterView) => T | undefined | false, timeoutMs = 30_000, opts: { containers?: boolean } = {}): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastErr = '';
    for (;;) {
      try {
        const got = probe(await this.view({ containers: opts.containers ?? false }));
        if (got !== undefined && got !== false) return got;
      } catch (err) {
        lastErr = `: last error ${(err as Error).message}`;
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The node where `instance` is placed and reported healthy (current spec, live node), if any. */
export function healthyOn(v: ClusterView, instance: string): string | undefined {
  const placed = instancesOf(v.jobs).find((i) => i.instance === instance);
  if (!placed?.node || !v.nodes.some((n) => n.name === placed.node)) return undefined;
  const s = v.statuses.find((x) => x.node === placed.node && x.instance === instance);
  return s?.state === 'healthy' && s.specHash === placed.job.specHash ? placed.node : undefined;
}

/** Instances placed on `node`. */
export function placedOn(v: ClusterView, node: string): string[] {
  return instancesOf(v.jobs).filter((i) => i.node === node).map((i) => i.instance);
}

/** Instances placed on a node before that are placed elsewhere (or nowhere) now. */
export function moved(before: ClusterView, now: ClusterView): string[] {
  const was = new Map(instancesOf(before.jobs).map((i) => [i.instance, i.node]));
  return instancesOf(now.jobs)
    .filter((i) => was.get(i.instance) && was.get(i.instance) !== i.node)
    .map((i) => `${i.instance}: ${was.get(i.instance)} → ${i.node ?? 'nowhere'}`);
}

/**
 * Containers that ran before and are gone or were replaced (another id) now,
 * and instances whose restart count grew: what "nothing stopped, nothing
 * restarted" scenarios count.
 */
export function restartedOrRecreated(before: ClusterView, now: ClusterView): string[] {
  const ids = containerIds(now);
  const out = [...containerIds(before, (x) => x.running)].filter(([k, id]) => ids.get(k) !== id).map(([k]) => `${k} ${ids.has(k) ? 'recreated' : 'gone'}`);
  const counts = restartCounts(now);
  for (const [k, n] of restartCounts(before)) {
    const m = counts.get(k);
    if (m !== undefined && m > n) out.push(`${k} restarted ${m - n} times`);
  }
  return out;
}
