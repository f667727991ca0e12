// What the dashboard serves, built purely from `ozy status`'s rows
// (agent/cluster-status.ts) and the stored rejections. Only derived fields
// leave this module: no job spec, so no environment value (plain or secret)
// can reach the page or its API, and an agent's own report is cut down to
// the fields the page shows.
import type { ClusterStatus, InstanceRow, JobRow, NodeRow, RunRow } from '../agent/cluster-status';
import type { Rejection } from '../model/cluster';
import type { Resources } from '../model/job';

/** The parts of the page that change independently; SSE says which moved. */
export const SECTIONS = ['summary', 'nodes', 'jobs', 'instances', 'rejections', 'runs'] as const;
export type Section = (typeof SECTIONS)[number];

export interface DashNode {
  name: string;
  alive: boolean;
  zone: string | null;
  address: string | null;
  capacity: Resources | null;
  allocated: Resources;
  instances: number;
  /** The agent's git view and role (followers show their poller's). */
  agent: { role: string | null; head: string | null; gitError: string | null; } | null;
}

/** A job as the page lists it: counts, commit, update progress, cron and autoscale state. */
export interface DashJob {
  name: string;
  type: JobRow['type'];
  commit: string;
  file: string;
  acceptedAt: string;
  desired: number;
  placed: number;
  pending: number;
  healthy: number;
  /** `running`, `updating 2/5 to <commit>`, `scheduled` (cron)... */
  rollout: string;
  update: { kind: string; commit: string; done: number; total: number; halted: boolean; blocked: string | null } | null;
  failedUpdate: { commit: string; instance: string; reason: string; reverted: boolean } | null;
  cron: { schedule: string; timeZone: string; nextRunAt: string | null; active: number; lastRun: { run: string; result: string; finishedAt: string | null } | null } | null;
  autoscale: { count: number; min: number; max: number; targetPercent: number; measuredPercent: number | null; wants: number; state: string } | null;
  /** Has a rejection report (its newest desired state was not accepted). */
  rejected: boolean;
  /** What the jobs filter `state` matches: healthy, degraded, pending, updating, cron. */
  status: JobStatus;
}

export type JobStatus = 'healthy' | 'degraded' | 'pending' | 'updating' | 'idle';
export const JOB_STATES: readonly JobStatus[] = ['healthy', 'degraded', 'pending', 'updating', 'idle'];

export interface DashInstance {
  instance: string;
  job: string;
  node: string | null;
  zone: string | null;
  state: string;
  health: InstanceRow['health'];
  /** Why: the health check's result, the exit, the pull error, why it is pending. */
  message: string | null;
  restarts: number;
  /** The latest restart's cause and time (agents that record it). */
  lastRestart: { cause: string; at: string } | null;
  /** Pending: why each node cannot take it (capped by the scheduler's explanation). */
  nodeReasons: Record<string, string> | null;
  since: string;
  spec: string;
  away: string | null;
}

/** Fields of `ozy status`'s instance rows that arrive with the "why, everywhere" work; read defensively until then. */
type WhyFields = { lastRestart?: unknown; nodeReasons?: unknown };

/** A rejection report, rendered as problem details (RFC 9457). */
export interface DashRejection {
  key: string;
  commit: string;
  at: string;
  /** The problem type: a URL into docs/errors.md (only http(s) URLs are kept). */
  type: string | null;
  /** The anchor of the type URL ("insufficient-memory"), shown as the link text. */
  code: string;
  title: string;
  detail: string;
  job: string | null;
  file: string | null;
  /** The failing fields: JSON pointers into the job file, with their message. */
  errors: Array<{ pointer: string; message: string }>;
}

/** A cron run: active (pending/running) or the last ended one of each cron job. */
export interface DashRun {
  job: string;
  run: string;
  state: string;
  /** When it started waiting or running (active), or finished (ended). */
  at: string | null;
  nodes: string[];
  reason: string | null;
  attempt: number;
}

export interface DashSummary {
  revision: number;
  nodes: { total: number; alive: number };
  jobs: { total: number; healthy: number; degraded: number; pending: number; updating: number; rejected: number };
  instances: { total: number; healthy: number; pending: number; unhealthy: number; other: number };
  rejections: number;
  activeRuns: number;
  /** The last committed schedule: who, for which commit, when. */
  schedule: { commit: string; at: string; by: string } | null;
  git: { poller: string; head: string | null; gitError: string | null } | null;
}

/** Everything the API answers from, at one point of the watch. */
export interface DashData {
  summary: DashSummary;
  nodes: DashNode[];
  /** Sorted by name. */
  jobs: DashJob[];
  /** By job, in ordinal order; every instance in `allInstances`. */
  instancesByJob: ReadonlyMap<string, DashInstance[]>;
  allInstances: DashInstance[];
  rejections: DashRejection[];
  runs: DashRun[];
}

export function buildDashData(status: ClusterStatus, rejections: ReadonlyMap<string, Rejection>, revision: number): DashData {
  const rejectedKeys = new Set(rejections.keys());
  const jobs = status.jobs.map((j) => dashJob(j, rejectedKeys.has(j.name)));
  const allInstances = status.instances.map(dashInstance);
  const instancesByJob = new Map<string, DashInstance[]>();
  for (const i of allInstances) {
    const list = instancesByJob.get(i.job);
    if (list) list.push(i);
    else instancesByJob.set(i.job, [i]);
  }
  const nodes = status.nodes.map(dashNode);
  const rej = [...rejections.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(dashRejection);
  const runs = dashRuns(status.runs, status.jobs);
  const count = (pred: (j: DashJob) => boolean): number => jobs.reduce((n, j) => n + (pred(j) ? 1 : 0), 0);
  const inst = { total: allInstances.length, healthy: 0, pending: 0, unhealthy: 0, other: 0 };
  for (const i of allInstances) {
    if (i.state === 'healthy') inst.healthy++;
    else if (i.state === 'pending') inst.pending++;
    else if (i.state === 'unhealthy') inst.unhealthy++;
    else inst.other++;
  }
  const summary: DashSummary = {
    revision,
    nodes: { total: nodes.length, alive: nodes.filter((n) => n.alive).length },
    jobs: {
      total: jobs.length,
      healthy: count((j) => j.status === 'healthy'),
      degraded: count((j) => j.status === 'degraded'),
      pending: count((j) => j.status === 'pending'),
      updating: count((j) => j.status === 'updating'),
      rejected: count((j) => j.rejected),
    },
    instances: inst,
    rejections: rej.length,
    activeRuns: status.runs.length,
    schedule: status.schedule ? { commit: status.schedule.commit, at: status.schedule.at, by: status.schedule.by } : null,
    git: status.git ?? null,
  };
  return { summary, nodes, jobs, instancesByJob, allInstances, rejections: rej, runs };
}

function jobStatus(j: JobRow): JobStatus {
  if (j.update && !j.update.halted) return 'updating';
  if (j.pending > 0) return 'pending';
  if (j.desired === 0) return 'idle';
  return j.healthy >= j.desired ? 'healthy' : 'degraded';
}

function dashJob(j: JobRow, rejected: boolean): DashJob {
  return {
    name: j.name,
    type: j.type,
    commit: j.commit,
    file: j.file,
    acceptedAt: j.acceptedAt,
    desired: j.desired,
    placed: j.placed,
    pending: j.pending,
    healthy: j.healthy,
    rollout: j.rollout,
    update: j.update
      ? { kind: j.update.kind, commit: j.update.commit, done: j.update.done, total: j.update.total, halted: j.update.halted, blocked: j.update.blocked ?? null }
      : null,
    failedUpdate: j.failedUpdate ? { commit: j.failedUpdate.commit, instance: j.failedUpdate.instance, reason: j.failedUpdate.reason, reverted: j.failedUpdate.reverted } : null,
    cron: j.cron
      ? { schedule: j.cron.schedule, timeZone: j.cron.timeZone, nextRunAt: j.cron.nextRunAt, active: j.cron.active, lastRun: j.cron.lastRun ? { ...j.cron.lastRun } : null }
      : null,
    autoscale: j.autoscale
      ? { count: j.autoscale.count, min: j.autoscale.min, max: j.autoscale.max, targetPercent: j.autoscale.targetPercent, measuredPercent: j.autoscale.measuredPercent, wants: j.autoscale.wants, state: j.autoscale.state }
      : null,
    rejected,
    status: jobStatus(j),
  };
}

export function dashInstance(i: InstanceRow): DashInstance {
  const why = i as InstanceRow & WhyFields;
  const lr = why.lastRestart as { cause?: unknown; at?: unknown } | undefined;
  const reasons = why.nodeReasons;
  return {
    instance: i.instance,
    job: i.job,
    node: i.node,
    zone: i.zone ?? null,
    state: i.state,
    health: i.health,
    message: i.message ?? null,
    restarts: i.restarts,
    lastRestart: lr && typeof lr.cause === 'string' && typeof lr.at === 'string' ? { cause: lr.cause, at: lr.at } : null,
    nodeReasons:
      reasons && typeof reasons === 'object' && !Array.isArray(reasons)
        ? Object.fromEntries(Object.entries(reasons as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'))
        : null,
    since: i.since,
    spec: i.spec,
    away: i.away ?? null,
  };
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function dashNode(n: NodeRow): DashNode {
  const a = n.agent;
  return {
    name: n.name,
    alive: n.alive,
    zone: n.zone ?? null,
    address: n.address ?? null,
    capacity: n.capacity ?? null,
    allocated: n.allocated,
    instances: n.instances,
    // Whitelisted: the agent's record may grow fields the page has no business shipping.
    agent: a ? { role: str(a.role), head: str(a.head), gitError: str(a.gitError) } : null,
  };
}

/** Only http(s) URLs become links: a `javascript:` type would run in the page. */
export function safeHttpUrl(u: unknown): string | null {
  if (typeof u !== 'string') return null;
  try {
    const url = new URL(u);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

export function dashRejection(r: Rejection): DashRejection {
  const p = r.problem;
  const type = safeHttpUrl(p.type);
  const hash = type ? new URL(type).hash.slice(1) : '';
  return {
    key: r.key,
    commit: r.commit,
    at: r.at,
    type,
    code: hash || 'problem',
    title: typeof p.title === 'string' ? p.title : '',
    detail: typeof p.detail === 'string' ? p.detail : '',
    job: str(p.job),
    file: str(p.file),
    errors: Array.isArray(p.errors)
      ? p.errors.filter((e) => typeof e?.pointer === 'string' && typeof e?.message === 'string').map((e) => ({ pointer: e.pointer, message: e.message }))
      : [],
  };
}

/** Active runs first (oldest first), then each cron job's last ended run, newest first. */
function dashRuns(active: readonly RunRow[], jobs: readonly JobRow[]): DashRun[] {
  const out: DashRun[] = active.map((r) => ({ job: r.job, run: r.run, state: r.state, at: r.since, nodes: r.nodes, reason: r.reason ?? null, attempt: r.attempt }));
  const ended: DashRun[] = [];
  for (const j of jobs) {
    const last = j.cron?.lastRun;
    if (last) ended.push({ job: j.name, run: last.run, state: last.result, at: last.finishedAt, nodes: [], reason: null, attempt: 0 });
  }
  ended.sort((a, b) => ((a.at ?? '') < (b.at ?? '') ? 1 : (a.at ?? '') > (b.at ?? '') ? -1 : 0));
  return [...out, ...ended];
}

/**
 * A fingerprint per section, so a rebuild that changed nothing visible
 * (an agent's lease renewal, a status rewritten with the same state)
 * sends no event, and one that did names only the sections to refetch.
 */
export function sectionFingerprints(d: DashData): Record<Section, string> {
  const { revision: _revision, ...summary } = d.summary;
  void _revision;
  return {
    summary: JSON.stringify(summary),
    nodes: JSON.stringify(d.nodes),
    jobs: JSON.stringify(d.jobs),
    instances: JSON.stringify(d.allInstances),
    rejections: JSON.stringify(d.rejections),
    runs: JSON.stringify(d.runs),
  };
}

/** The git poller as its own agent record says (the poller writes its head there; followers show it). */
export function pollerOf(agents: ReadonlyMap<string, Record<string, unknown>>): { node: string; head?: string; gitError?: string } | null {
  for (const [node, a] of agents) {
    if (a.role !== 'poller') continue;
    return { node, ...(typeof a.head === 'string' ? { head: a.head } : {}), ...(typeof a.gitError === 'string' ? { gitError: a.gitError } : {}) };
  }
  return null;
}
