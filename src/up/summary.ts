// The live summary `ozy up` prints while it runs (pure: status in, text
// out). On a terminal a dashboard is redrawn in place; otherwise (a pipe,
// a log file, a test) only changes are printed, one timestamped line each,
// so the output stays readable and small.
import type { ClusterStatus, InstanceRow } from '../agent/cluster-status';
import { table } from '../cli/table';
import { formatBytes, formatCpu } from '../schedule';

/** One line: nodes, jobs, instances by state, rejections. */
export function summaryLine(s: ClusterStatus): string {
  const alive = s.nodes.filter((n) => n.alive).length;
  const healthy = s.instances.filter((i) => i.state === 'healthy').length;
  const others = countBy(s.instances.filter((i) => i.state !== 'healthy').map((i) => i.state));
  const rest = [...others].map(([state, n]) => `${n} ${state}`).join(', ');
  return (
    `nodes ${alive}/${s.nodes.length} alive · jobs ${s.jobs.length} · ` +
    `instances ${healthy}/${s.instances.length} healthy${rest ? ` (${rest})` : ''} · ` +
    `rejections ${s.rejections.length}`
  );
}

export interface DashboardOptions {
  now: number;
  /** Problems of the processes `ozy up` supervises (an agent that exited...). */
  problems?: readonly string[];
  /** Instance rows shown at most (a big job would scroll everything away). Default 20. */
  maxInstances?: number;
}

/** The terminal dashboard, as lines. */
export function renderDashboard(s: ClusterStatus | undefined, opts: DashboardOptions): string[] {
  const time = new Date(opts.now).toTimeString().slice(0, 8);
  const out: string[] = [];
  for (const p of opts.problems ?? []) out.push(`! ${p}`);
  if (s === undefined) {
    out.push(`${time}  waiting for etcd…`);
    return out;
  }
  out.push(`${time}  ${summaryLine(s)}`);
  out.push('');
  const nodeRows = s.nodes.map((n) => [
    n.name,
    n.alive ? 'yes' : 'no',
    n.zone ?? '-',
    n.capacity ? `${formatBytes(n.allocated.memory)}/${formatBytes(n.capacity.memory)}` : formatBytes(n.allocated.memory),
    n.capacity ? `${formatCpu(n.allocated.cpu)}/${formatCpu(n.capacity.cpu)}` : formatCpu(n.allocated.cpu),
    String(n.instances),
    n.agent?.gitError ? `git error: ${n.agent.gitError}` : n.agent?.head ? n.agent.head.slice(0, 12) : '-',
  ]);
  out.push(...lines(table(['NODE', 'ALIVE', 'ZONE', 'MEMORY', 'CPU', 'INSTANCES', 'GIT'], nodeRows)));
  out.push('');
  const jobRows = s.jobs.map((j) => [j.name, `${j.healthy}/${j.desired}`, String(j.placed), String(j.pending), j.commit.slice(0, 12)]);
  out.push(...lines(table(['JOB', 'HEALTHY', 'PLACED', 'PENDING', 'COMMIT'], jobRows)));
  out.push('');
  const max = opts.maxInstances ?? 20;
  const shown = s.instances.slice(0, max);
  const instRows = shown.map((i) => [i.instance, i.node ?? '-', i.state, String(i.restarts), truncate(i.message ?? '', 60)]);
  out.push(...lines(table(['INSTANCE', 'NODE', 'STATE', 'RESTARTS', 'MESSAGE'], instRows)));
  if (s.instances.length > shown.length) out.push(`… and ${s.instances.length - shown.length} more (ozy status shows all)`);
  out.push('');
  if (s.rejections.length === 0) out.push('REJECTIONS  (none)');
  else {
    out.push('REJECTIONS');
    for (const r of s.rejections) out.push(`  ${r.key}: ${truncate(`${r.title}: ${r.detail}`, 160)}`);
  }
  return out;
}

/** What the change log remembers between two looks at the cluster. */
export interface Digest {
  summary: string;
  nodes: Map<string, string>;
  jobs: Map<string, string>;
  /** Instances in trouble: what was said of them (their why). */
  troubled: Map<string, string>;
  /** Restart count of every instance that restarted. */
  restarts: Map<string, number>;
  rejections: Map<string, string>;
  problems: Set<string>;
}

export function emptyDigest(): Digest {
  return { summary: '', nodes: new Map(), jobs: new Map(), troubled: new Map(), restarts: new Map(), rejections: new Map(), problems: new Set() };
}

/** Instance lines printed per look at most: a crash-looping job of 500 must not flood the log. */
const MAX_INSTANCE_LINES = 10;

/** Why an instance is in trouble (failed, exited, unhealthy, lost, a failing check while starting, no room), or undefined. */
function troubleOf(i: InstanceRow): string | undefined {
  const why = i.message ?? '';
  if (i.state === 'failed' || i.state === 'exited' || i.state === 'unhealthy') return `${i.state}: ${why || 'no reason given'}`;
  if (i.state === 'lost') return `lost: node ${i.node ?? '-'} is not alive`;
  if (i.state === 'starting' && why.includes('→')) return `starting: ${why}`;
  if (i.state === 'pending' && why !== '' && why !== 'placed by the next round') return `pending: ${why}`;
  return undefined;
}

/** The lines describing what changed since `prev`, and the new digest. */
export function changeLines(prev: Digest, s: ClusterStatus, opts: { now: number; problems?: readonly string[] }): { lines: string[]; digest: Digest } {
  const time = new Date(opts.now).toTimeString().slice(0, 8);
  const out: string[] = [];
  const next = emptyDigest();

  for (const p of opts.problems ?? []) {
    next.problems.add(p);
    if (!prev.problems.has(p)) out.push(`${time} ! ${p}`);
  }
  for (const n of s.nodes) {
    const text = `${n.alive ? 'alive' : 'dead'}${n.agent?.gitError ? `, git error: ${n.agent.gitError}` : ''}`;
    next.nodes.set(n.name, text);
    if (prev.nodes.get(n.name) !== text) out.push(`${time} node ${n.name}: ${text}`);
  }
  for (const name of prev.nodes.keys()) if (!next.nodes.has(name)) out.push(`${time} node ${name}: gone`);

  for (const j of s.jobs) {
    const states = countBy(s.instances.filter((i) => i.job === j.name).map((i) => i.state));
    const text = `${j.healthy}/${j.desired} healthy (${[...states].map(([k, n]) => `${n} ${k}`).join(', ') || 'no instances'}), commit ${j.commit.slice(0, 12)}`;
    next.jobs.set(j.name, text);
    if (prev.jobs.get(j.name) !== text) out.push(`${time} job ${j.name}: ${text}`);
  }
  for (const name of prev.jobs.keys()) if (!next.jobs.has(name)) out.push(`${time} job ${name}: deleted`);

  // Why, not only counts: an instance's trouble when it appears or changes, its restarts with their cause.
  const said: string[] = [];
  for (const i of s.instances) {
    const trouble = troubleOf(i);
    if (trouble !== undefined) {
      next.troubled.set(i.instance, trouble);
      if (prev.troubled.get(i.instance) !== trouble) said.push(`${time} instance ${i.instance}: ${truncate(trouble, 240)}`);
    } else if (prev.troubled.has(i.instance) && i.state === 'healthy') said.push(`${time} instance ${i.instance}: healthy again`);
    if (i.restarts > 0) {
      next.restarts.set(i.instance, i.restarts);
      const before = prev.restarts.get(i.instance) ?? 0;
      if (i.restarts > before) said.push(`${time} instance ${i.instance}: restarted (${i.restarts} in all)${i.lastRestart ? `: ${truncate(i.lastRestart.cause, 200)}` : ''}`);
    }
  }
  out.push(...said.slice(0, MAX_INSTANCE_LINES));
  if (said.length > MAX_INSTANCE_LINES) out.push(`${time} … and ${said.length - MAX_INSTANCE_LINES} more instance changes (ozy status JOB says why for each)`);

  for (const r of s.rejections) {
    const text = `${r.title}: ${r.detail} (commit ${r.commit.slice(0, 12)})`;
    next.rejections.set(r.key, text);
    if (prev.rejections.get(r.key) !== text) out.push(`${time} rejected ${r.key}: ${truncate(text, 240)}`);
  }
  for (const key of prev.rejections.keys()) if (!next.rejections.has(key)) out.push(`${time} rejection of ${key} cleared`);

  next.summary = summaryLine(s);
  if (out.length > 0 || next.summary !== prev.summary) out.push(`${time} cluster: ${next.summary}`);
  return { lines: out, digest: next };
}

function countBy(items: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(i, (m.get(i) ?? 0) + 1);
  return m;
}

function lines(text: string): string[] {
  return text.replace(/\n$/, '').split('\n');
}

function truncate(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length <= n ? one : `${one.slice(0, n - 1)}…`;
}
