// What `ozy status` shows, built purely from what etcd holds.
import { volumeWait } from '../plan/persistent';
import type { AcceptedJob, InstanceStatus, NodeInfo, Rejection } from '../model/cluster';
import { placementName, versionOf } from '../model/cluster';
import { rolloutProgress } from '../plan/rollout';
import { homeZone, knownZones, zonesOf } from '../plan/placement-rules';
import type { Resources } from '../model/job';
import { allocatedByNode, describeDemand, explainPlacement, instanceDemand, makeRequest, placedState, placementProblem } from '../schedule';
import type { CronState } from '../model/cron';
import type { CronPolicy } from '../model/job';
import { addRunLoad, runLoadByNode } from '../cron/run-load';
import { withRules } from '../plan/placement-rules';
import type { AutoscalePolicy, NodeCpu } from '../model/autoscale';
import { recommend } from '../autoscale/recommend';

export interface AgentReport {
  /** The tip of git the cluster last judged (a follower shows its poller's). */
  head?: string | null;
  gitError?: string | null;
  role?: 'poller' | 'follower';
  /** For a follower: the node that polls git for it. */
  poller?: string;
  lastRoundAt?: string;
  [k: string]: unknown;
}

export interface NodeRow {
  name: string;
  alive: boolean;
  zone?: string;
  address?: string;
  labels: Record<string, string>;
  capacity?: Resources;
  allocated: Resources;
  /** Same as allocated (DESIGN.md's word for it). */
  used: Resources;
  instances: number;
  agent?: AgentReport;
}

export interface JobRow {
  name: string;
  commit: string;
  /** The hash of the pod spec accepted (instances an update has not reached run an older one). */
  specHash: string;
  file: string;
  acceptedAt: string;
  desired: number;
  placed: number;
  pending: number;
  healthy: number;
  /** `running`, `updating 2/5 to <commit>`, `reverting 1/5 to <commit>`, `update halted …` (a failed update without autoRevert). */
  rollout: string;
  /** The rolling update under way, if any. */
  update?: { kind: 'update' | 'revert' | 'move'; commit: string; done: number; total: number; batch: string[]; blocked?: string; halted: boolean };
  /** The last failed update, while the job's file still asks for it. */
  failedUpdate?: { commit: string; instance: string; reason: string; reverted: boolean };
  /** 'service' (default), 'daemon' or 'cron'. */
  type: 'service' | 'daemon' | 'cron';
  /** Cron jobs only. */
  cron?: CronRow;
  /** Autoscaled jobs only. */
  autoscale?: AutoscaleRow;
}

/** An autoscaled job: bounds, target, what its instances measure and what that asks for. */
export interface AutoscaleRow {
  min: number;
  max: number;
  /** The count kept in etcd (placed and pending). */
  count: number;
  /** Target average CPU, percent of the pod's CPU limit. */
  targetPercent: number;
  /** Average measured use of the counted instances (healthy, measured, not updating), percent; null when none. */
  measuredPercent: number | null;
  /** Instances whose measurement counted. */
  counted: number;
  /** The count the measurement asks for now, within the bounds (a lower one waits out scaleDownAfter first). */
  wants: number;
  /** More wanted than fit: some instances pending. */
  capped: boolean;
  /** `steady`, `scaling up to N`, `scale-down to N wanted (after 5m of it)`, `capped by capacity (k of n placed)`. */
  state: string;
}

export interface InstanceRow {
  instance: string;
  job: string;
  node: string | null;
  state: string;
  /** healthy / unhealthy from the health checks; unknown before a verdict or when not running. */
  health: 'healthy' | 'unhealthy' | 'unknown';
  message?: string;
  restarts: number;
  /** The latest restart's cause and time, when it restarted. */
  lastRestart?: { cause: string; at: string };
  /** Pending only: why each node cannot take it (`memory: 1Gi free, needs 2Gi`), when some node was ruled out. */
  nodeReasons?: Record<string, string>;
  /** Since when the instance has had this placement (pending: how long it has waited). */
  since: string;
  /** Pending only: seconds it has waited (`message` says why). */
  waitingSeconds?: number;
  /** The spec hash it runs (an older one while a rolling update has not reached it). */
  spec: string;
  /** Its node's zone, when the node is live and has one. */
  zone?: string;
  /** spread: zones: "away from zone c" while it runs outside its home zone. */
  away?: string;
}

/** A cron job's schedule and its last ended run (`ozy runs JOB` has them all). */
export interface CronRow {
  schedule: string;
  timeZone: string;
  /** The next scheduled time (ISO), null when the schedule never comes again. */
  nextRunAt: string | null;
  /** Runs claimed and not ended (pending or running). */
  active: number;
  lastRun: { run: string; result: string; finishedAt: string | null } | null;
}

/** An active cron run (pending: waiting for room; running: placed). */
export interface RunRow {
  job: string;
  run: string;
  state: 'pending' | 'running';
  /** Nodes of its pods (empty while pending). */
  nodes: string[];
  scheduledAt: string;
  /** Pending: since when it waits; running: when it was placed. */
  since: string;
  /** Pending: how long it has waited, in seconds, and why it is not placed. */
  waitingSeconds?: number;
  reason?: string;
  attempt: number;
}

export interface RejectionRow {
  key: string;
  commit: string;
  type: string;
  title: string;
  detail: string;
  at: string;
}

export interface ClusterStatus {
  /** Who polls git for the cluster and what it last found (followers show the same in their agent row). */
  git?: { poller: string; head: string | null; gitError: string | null };
  nodes: NodeRow[];
  jobs: JobRow[];
  instances: InstanceRow[];
  /** Active cron runs, oldest first. */
  runs: RunRow[];
  rejections: RejectionRow[];
  schedule?: { commit: string; at: string; by: string };
}

/** What `ozy status` says of a job's updates. */
function rolloutOf(job: AcceptedJob): Pick<JobRow, 'rollout' | 'update' | 'failedUpdate'> {
  const failed = job.failedUpdate
    ? { failedUpdate: { commit: job.failedUpdate.commit, instance: job.failedUpdate.instance, reason: job.failedUpdate.reason, reverted: job.failedUpdate.reverted } }
    : {};
  const r = job.rollout;
  if (!r) return { rollout: job.failedUpdate ? `running (update to ${job.failedUpdate.commit.slice(0, 12)} failed, reverted)` : 'running', ...failed };
  const { done, total } = rolloutProgress(job);
  const batch = r.batch.map((i) => placementName(job.spec.name, job.instances[i]!, i));
  const update = { kind: r.kind, commit: r.commit, done, total, batch, halted: r.halted === true, ...(r.blocked ? { blocked: r.blocked } : {}) };
  const spread = job.spec.placement?.spread;
  const moving = spread === 'zones' ? 'going home' : spread === 'nodes' ? 'spreading' : 'rebalancing';
  const verb = r.kind === 'revert' ? 'reverting' : r.kind === 'move' ? moving : 'updating';
  // The full commit: `updating 2/5 to <commit>` matches whatever prefix a reader has.
  let rollout = r.halted ? `update halted at ${done}/${total} (${job.failedUpdate?.instance ?? '?'} failed)` : `${verb} ${done}/${total} to ${r.commit}`;
  if (r.blocked && !r.halted) rollout += ` (blocked: ${r.blocked})`;
  return { rollout, update, ...failed };
}

export function buildClusterStatus(input: {
  nodes: NodeInfo[];
  jobs: Map<string, AcceptedJob>;
  rejections: Map<string, Rejection>;
  statuses: InstanceStatus[];
  agents: Map<string, Record<string, unknown>>;
  poller?: { node: string; head?: string; gitError?: string } | null;
  schedule?: { commit: string; at: string; by: string };
  /** Every zone a node ever registered with (homes of spread: zones jobs). */
  zones?: string[];
  /** Cron jobs' run states. */
  runs?: ReadonlyMap<string, CronState>;
  /** A cron job's next scheduled time after `nowMs` (ISO), null if none (cron/times.ts). */
  nextRunAt?(policy: CronPolicy, nowMs: number): string | null;
  /** Every node's CPU record (autoscaled jobs' instances). */
  cpu?: ReadonlyMap<string, NodeCpu>;
  /** Wall clock for "waited for" (default Date.now). */
  now?: number;
}): ClusterStatus {
  const now = input.now ?? Date.now();
  const runStates = input.runs ?? new Map<string, CronState>();
  const waitReasons = pendingReasons(input.nodes, input.jobs, runStates);
  const poller = input.poller ?? undefined;
  const alive = new Map(input.nodes.map((n) => [n.name, n]));
  const known = knownZones(input.zones, input.nodes);
  const allocated = allocatedByNode(input.jobs.values());
  for (const [node, r] of runLoadByNode(input.jobs, runStates.values())) {
    const u = allocated.get(node) ?? { memory: 0, disk: 0, cpu: 0 };
    allocated.set(node, { memory: u.memory + r.memory, disk: u.disk + r.disk, cpu: u.cpu + r.cpu });
  }
  const statusBy = new Map(input.statuses.map((s) => [s.instance, s]));
  const perNode = new Map<string, number>();

  const instances: InstanceRow[] = [];
  const jobs: JobRow[] = [];
  for (const job of [...input.jobs.values()].sort((a, b) => a.spec.name.localeCompare(b.spec.name))) {
    let placed = 0;
    let pending = 0;
    let healthy = 0;
    const zones = zonesOf(job.spec, known);
    job.instances.forEach((p, ordinal) => {
      const name = placementName(job.spec.name, p, ordinal);
      const s = statusBy.get(name);
      const runs = versionOf(job, p).specHash;
      const reported = s && s.node === p.node && s.specHash === runs ? s : undefined;
      let state: string;
      if (p.node === null) state = 'pending';
      else if (!alive.has(p.node)) state = 'lost';
      else state = reported?.state ?? 'pending';
      if (p.node === null) pending++;
      else {
        placed++;
        perNode.set(p.node, (perNode.get(p.node) ?? 0) + 1);
      }
      if (state === 'healthy') healthy++;
      const zone = p.node === null ? undefined : alive.get(p.node)?.zone;
      const home = homeZone(zones, ordinal);
      const away = home !== undefined && p.node !== null && alive.has(p.node) && zone !== home ? { away: `away from zone ${home}` } : {};
      instances.push({
        instance: name,
        job: job.spec.name,
        node: p.node,
        state,
        health: state === 'healthy' ? 'healthy' : state === 'unhealthy' ? 'unhealthy' : 'unknown',
        ...(reported?.message ? { message: reported.message } : {}),
        ...(p.node === null ? pendingWhy(volumeWait(job, ordinal), waitReasons.get(job.spec.name)) : {}),
        restarts: reported?.restarts ?? 0,
        ...(reported?.lastRestart ? { lastRestart: reported.lastRestart } : {}),
        since: p.since,
        ...(p.node === null ? { waitingSeconds: Math.max(0, Math.round((now - Date.parse(p.since)) / 1000)) } : {}),
        spec: runs,
        ...(zone !== undefined ? { zone } : {}),
        ...away,
      });
    });
    jobs.push({
      name: job.spec.name,
      commit: job.commit,
      specHash: job.specHash,
      file: job.file,
      acceptedAt: job.acceptedAt,
      desired: job.instances.length,
      placed,
      pending,
      healthy,
      ...rolloutOf(job),
      type: job.spec.type ?? 'service',
      ...(job.spec.type === 'cron' && job.spec.cron ? { rollout: 'scheduled', cron: cronRow(job.spec.cron, runStates.get(job.spec.name), input.nextRunAt, now) } : {}),
      ...(job.spec.autoscale ? { autoscale: autoscaleRow(job, job.spec.autoscale, input.cpu, pending) } : {}),
    });
  }
  const runs = runRows(runStates.values(), now);

  const names = new Set([...alive.keys(), ...allocated.keys()]);
  const nodes: NodeRow[] = [...names].sort().map((name) => {
    const n = alive.get(name);
    const own = input.agents.get(name) as AgentReport | undefined;
    // A follower does not fetch: its view of git is the poller's.
    const agent = own && own.role === 'follower' && poller ? { ...own, head: poller.head ?? null, gitError: poller.gitError ?? null, poller: poller.node } : own;
    return {
      name,
      alive: n !== undefined,
      ...(n?.zone ? { zone: n.zone } : {}),
      ...(n ? { address: n.address, capacity: n.capacity } : {}),
      labels: n?.labels ?? {},
      allocated: allocated.get(name) ?? { memory: 0, disk: 0, cpu: 0 },
      used: allocated.get(name) ?? { memory: 0, disk: 0, cpu: 0 },
      instances: perNode.get(name) ?? 0,
      ...(agent ? { agent } : {}),
    };
  });

  const rejections = [...input.rejections.values()]
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((r) => ({ key: r.key, commit: r.commit, type: r.problem.type, title: r.problem.title, detail: r.problem.detail, at: r.at }));

  const git = poller ? { git: { poller: poller.node, head: poller.head ?? null, gitError: poller.gitError ?? null } } : {};
  return { ...git, nodes, jobs, instances, runs, rejections, ...(input.schedule ? { schedule: input.schedule } : {}) };
}

function autoscaleRow(job: AcceptedJob, policy: AutoscalePolicy, cpu: ReadonlyMap<string, NodeCpu> | undefined, pending: number): AutoscaleRow {
  const rec = recommend(job, policy, (instance, node) => cpu?.get(node)?.instances[instance]);
  const count = job.instances.length;
  let state = 'steady';
  if (pending > 0) state = `capped by capacity (${count - pending} of ${count} placed)`;
  else if (rec.wanted > count) state = `scaling up to ${rec.wanted}`;
  else if (rec.wanted < count) state = `scale-down to ${rec.wanted} wanted (after ${formatMs(policy.scaleDownAfterMs)} of it)`;
  return {
    min: policy.min,
    max: policy.max,
    count,
    targetPercent: policy.cpuPercent,
    measuredPercent: rec.averagePercent === undefined ? null : Math.round(rec.averagePercent * 10) / 10,
    counted: rec.counted,
    wants: rec.wanted,
    capped: pending > 0,
    state,
  };
}

function formatMs(ms: number): string {
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

function cronRow(policy: CronPolicy, state: CronState | undefined, nextRunAt: ((p: CronPolicy, nowMs: number) => string | null) | undefined, now: number): CronRow {
  return {
    schedule: policy.schedule,
    timeZone: policy.timeZone,
    nextRunAt: nextRunAt ? nextRunAt(policy, now) : null,
    active: state?.runs.length ?? 0,
    lastRun: state?.last ?? null,
  };
}

function runRows(states: Iterable<CronState>, now: number): RunRow[] {
  const rows: RunRow[] = [];
  for (const s of states) {
    for (const r of s.runs) {
      const pending = r.startedAt === undefined;
      const since = pending ? (r.pendingSince ?? r.scheduledAt) : r.startedAt!;
      rows.push({
        job: s.job,
        run: r.run,
        state: pending ? 'pending' : 'running',
        nodes: r.instances.flatMap((i) => (i.node !== null && i.exit === undefined ? [i.node] : [])),
        scheduledAt: r.scheduledAt,
        since,
        ...(pending ? { waitingSeconds: Math.max(0, Math.round((now - Date.parse(since)) / 1000)), reason: r.waiting ?? 'not placed yet' } : {}),
        attempt: r.attempt,
      });
    }
  }
  return rows.sort((a, b) => (a.since < b.since ? -1 : a.since > b.since ? 1 : a.run < b.run ? -1 : 1));
}

/**
 * Why each job with pending instances has them, as the scheduler would say it
 * now: what the accepted instances and running runs leave free, explained for
 * the job's pending count (schedule/explain.ts).
 */
/** Why a pending instance waits: its volume, else the placement's explanation (with the per-node reasons). */
function pendingWhy(volume: string | undefined, placement: PendingReason | undefined): { message: string; nodeReasons?: Record<string, string> } {
  if (volume !== undefined) return { message: volume };
  if (!placement) return { message: 'waiting for room' };
  return Object.keys(placement.nodes).length > 0 ? { message: placement.message, nodeReasons: placement.nodes } : { message: placement.message };
}

interface PendingReason {
  message: string;
  nodes: Record<string, string>;
}

function pendingReasons(nodes: readonly NodeInfo[], jobs: ReadonlyMap<string, AcceptedJob>, runs: ReadonlyMap<string, CronState>): Map<string, PendingReason> {
  const out = new Map<string, PendingReason>();
  const waiting = [...jobs.values()].filter((j) => j.instances.some((p) => p.node === null));
  if (waiting.length === 0) return out;
  const state = placedState(nodes, jobs);
  addRunLoad(state, jobs, runs.values());
  for (const job of waiting) {
    const pending = job.instances.filter((p) => p.node === null).length;
    const req = withRules(makeRequest(state, job.spec.name, instanceDemand(job.spec)), job.spec);
    const exp = explainPlacement(state, req, pending);
    if (exp.fit >= pending) {
      out.set(job.spec.name, { message: 'placed by the next round', nodes: {} });
      continue;
    }
    const { problem } = placementProblem(exp, { job: job.spec.name, scope: 'pending', perInstance: describeDemand(req) });
    // The problem's per-node reasons are capped (a large cluster is not listed node by node).
    const shown = (problem.nodes ?? {}) as Record<string, string>;
    out.set(job.spec.name, { message: problem.detail ?? 'no room', nodes: shown });
  }
  return out;
}
