// One cron round (pure). From the cluster as one snapshot shows it:
//   1. runs of cron jobs that are gone are dropped (their nodes stop them)
//   2. instances on dead nodes end as "node lost" (then retried or failed)
//   3. pending runs past their startingDeadline are missed
//   4. the scheduled times that came since each job's cursor are claimed:
//      times older than startingDeadline came while no agent was up
//      (catchUp: one → one run for all of them, none → one `missed` record);
//      the others go through the concurrency policy (forbid → skipped,
//      replace → the active runs are replaced, allow → overlap)
//   5. pending runs are placed whole, oldest first, on what the services
//      and the other active runs leave free (same feasibility checks, same
//      accounting; spread over the nodes rather than packed: spreadRun)
// The caller commits the writes guarded by the schedule revision the
// snapshot had (ClusterStore.commitCron): whichever agents race, each
// scheduled time moves a job's cursor once, so it starts at most one run.
import type { AcceptedJob, NodeInfo } from '../model/cluster';
import type { ActiveRun, CronState, RunInstance, RunRecord } from '../model/cron';
import { runName } from '../model/cron';
import type { CronPolicy } from '../model/job';
import { MEMORY, describeDemand, explainPlacement, instanceDemand, makeRequest, placedState, placementProblem, type ClusterState, type PlacementRequest } from '../schedule';
import { fitsDefault } from '../schedule/checkers';
import { withRules } from '../plan/placement-rules';
import { recordOf, settle } from './run-state';
import { addRunLoad, cronPolicyOf, forEachRunPod } from './run-load';

/** A compiled schedule (cron/times.ts): unix seconds. */
export interface ScheduleTimes {
  /** The first scheduled second strictly after `afterSec`. */
  next(afterSec: number): number | undefined;
  /** The last scheduled second at or before `atOrBeforeSec`. */
  prev(atOrBeforeSec: number): number | undefined;
}

export interface CronRoundInput {
  nowMs: number;
  /** Live nodes. */
  nodes: readonly NodeInfo[];
  jobs: ReadonlyMap<string, AcceptedJob>;
  runs: ReadonlyMap<string, CronState>;
  /** The compiled schedule of a cron job (the caller caches them); undefined: it cannot be computed. */
  times(job: AcceptedJob): ScheduleTimes | undefined;
  /** Whether this round claims `job`'s due times (the rest is always done); default: every job. */
  claims?(job: string): boolean;
}

export type CronEvent =
  | { what: 'claimed' | 'caught-up' | 'skipped' | 'missed' | 'replaced' | 'retried' | 'failed' | 'succeeded' | 'dropped'; job: string; run: string; detail?: string }
  | { what: 'placed'; job: string; run: string; nodes: string[]; delayMs: number };

export interface CronRound {
  putRuns: CronState[];
  /** Jobs whose run state goes: the job is no longer a cron job. */
  deleteRuns: string[];
  history: Array<{ job: string; record: RunRecord }>;
  events: CronEvent[];
  /** When (wall ms) a pending run's startingDeadline passes: a round then has work even if nothing changes. */
  wakeAt?: number;
}

/** Scheduled times handled per job and round at most: an every-second job after a long stall catches up over several rounds. */
const MAX_TIMES_PER_ROUND = 120;
/** Missed times counted for the record's text, at most. */
const MAX_COUNTED = 10_000;

export function cronRound(input: CronRoundInput): CronRound {
  const now = input.nowMs;
  const nowIso = new Date(now).toISOString();
  const nowSec = Math.floor(now / 1000);
  const live = new Map(input.nodes.map((n) => [n.name, n.leaseId]));
  const out: CronRound = { putRuns: [], deleteRuns: [], history: [], events: [] };
  const states = new Map<string, CronState>();
  const changed = new Set<string>();

  for (const [name, state] of input.runs) {
    const job = input.jobs.get(name);
    if (!job || !cronPolicyOf(job)) {
      out.deleteRuns.push(name);
      for (const r of state.runs) out.events.push({ what: 'dropped', job: name, run: r.run });
    } else states.set(name, state);
  }

  for (const [name, job] of input.jobs) {
    const policy = cronPolicyOf(job);
    if (!policy) continue;
    // A new job's first run is its first scheduled time after it was accepted.
    const before = states.get(name) ?? { job: name, cursor: Math.floor(Date.parse(job.acceptedAt) / 1000), runs: [] };
    let state = retire(before, policy, live, now, nowIso, out);
    const times = input.claims?.(name) === false ? undefined : input.times(job);
    if (times) state = claimDue(state, job, policy, times, nowSec, nowIso, out);
    if (state !== before) changed.add(name);
    states.set(name, state);
  }

  // The newest ended run of each job, for `ozy status`.
  for (const { job, record } of out.history) {
    const s = states.get(job);
    if (s && (s.last === undefined || record.scheduledAt >= scheduledOf(s.last.run))) {
      states.set(job, { ...s, last: { run: record.run, result: record.result, finishedAt: record.finishedAt } });
      changed.add(job);
    }
  }
  placePending(input, states, changed, now, nowIso, out);
  for (const name of [...changed].sort()) out.putRuns.push(states.get(name)!);
  return out;
}

/** Steps 2 and 3: instances on dead nodes, and pending runs past their deadline. */
function retire(state: CronState, policy: CronPolicy, live: ReadonlyMap<string, string>, now: number, nowIso: string, out: CronRound): CronState {
  const runs: ActiveRun[] = [];
  let touched = false;
  // Its node is gone, or is back under another lease (it stopped the pod before registering anew).
  const isLost = (i: RunInstance): boolean => i.node !== null && i.exit === undefined && (!live.has(i.node) || (i.lease !== undefined && live.get(i.node) !== i.lease));
  for (let run of state.runs) {
    if (run.instances.some(isLost)) {
      touched = true;
      run = {
        ...run,
        instances: run.instances.map((i) => (isLost(i) ? { ...i, exit: { exitCodes: {}, reason: 'node lost', output: {}, finishedAt: nowIso } } : i)),
      };
      const s = settle(run, policy, nowIso);
      if (s.kind === 'done') {
        out.history.push({ job: state.job, record: s.record });
        out.events.push({ what: 'failed', job: state.job, run: run.run, detail: s.record.reason ?? undefined });
        continue;
      }
      if (s.kind === 'retry') out.events.push({ what: 'retried', job: state.job, run: run.run, detail: 'node lost' });
      run = s.run;
    }
    if (run.startedAt === undefined && run.pendingSince !== undefined && now > Date.parse(run.pendingSince) + policy.startingDeadlineMs) {
      touched = true;
      const why = `not started within startingDeadline ${formatMs(policy.startingDeadlineMs)}${run.waiting ? `: ${run.waiting}` : ''}`;
      out.history.push({ job: state.job, record: recordOf(run, 'missed', why, nowIso) });
      out.events.push({ what: 'missed', job: state.job, run: run.run, detail: why });
      continue;
    }
    runs.push(run);
  }
  return touched ? { ...state, runs } : state;
}

/** Step 4: the times that came since the cursor. */
function claimDue(state: CronState, job: AcceptedJob, policy: CronPolicy, times: ScheduleTimes, nowSec: number, nowIso: string, out: CronRound): CronState {
  const first = times.next(state.cursor);
  if (first === undefined || first > nowSec) return state;
  const name = state.job;
  let runs = state.runs;
  let cursor = state.cursor;
  // A time is live while it may still start: within startingDeadline of now.
  const cutoff = nowSec - Math.ceil(policy.startingDeadlineMs / 1000);
  if (first < cutoff) {
    // Nobody claimed these in time: no agent was up (a live agent claims at the time itself).
    const latest = times.prev(cutoff - 1)!;
    const count = countTimes(times, cursor, cutoff - 1);
    const missed = `${count >= MAX_COUNTED ? `at least ${count}` : count} scheduled time${count === 1 ? '' : 's'} passed while no agent was up`;
    const run = runName(name, latest);
    if (policy.catchUp === 'one') {
      const claimed = claimRun(runs, job, policy, run, latest, nowIso, nowIso, out, true);
      runs = claimed;
      out.events.push({ what: 'caught-up', job: name, run, detail: missed });
    } else {
      out.history.push({ job: name, record: skippedRecord(run, latest, 'missed', `${missed} (catchUp: none)`, nowIso) });
      out.events.push({ what: 'missed', job: name, run, detail: `${missed} (catchUp: none)` });
    }
    cursor = latest;
  }
  for (let n = 0, t = times.next(Math.max(cursor, cutoff - 1)); t !== undefined && t <= nowSec && n < MAX_TIMES_PER_ROUND; n++, t = times.next(t)) {
    const scheduledIso = new Date(t * 1000).toISOString();
    runs = claimRun(runs, job, policy, runName(name, t), t, scheduledIso, nowIso, out, false);
    cursor = t;
  }
  return { ...state, cursor, runs };
}

/** The concurrency policy, then a new pending run (or a skipped record). */
function claimRun(
  runs: ActiveRun[],
  job: AcceptedJob,
  policy: CronPolicy,
  run: string,
  atSec: number,
  pendingSince: string,
  nowIso: string,
  out: CronRound,
  catchUp: boolean,
): ActiveRun[] {
  const name = job.spec.name;
  const scheduledAt = new Date(atSec * 1000).toISOString();
  if (runs.length > 0 && policy.concurrency === 'forbid') {
    const why = `run ${runs.map((r) => r.run).join(', ')} was still active (concurrency: forbid)`;
    out.history.push({ job: name, record: skippedRecord(run, atSec, 'skipped', why, nowIso) });
    out.events.push({ what: 'skipped', job: name, run, detail: why });
    return runs;
  }
  if (runs.length > 0 && policy.concurrency === 'replace') {
    for (const old of runs) {
      out.history.push({ job: name, record: recordOf(old, 'replaced', `replaced by ${run} (concurrency: replace)`, nowIso) });
      out.events.push({ what: 'replaced', job: name, run: old.run, detail: run });
    }
    runs = [];
  }
  out.events.push({ what: 'claimed', job: name, run });
  const fresh: ActiveRun = {
    run,
    scheduledAt,
    claimedAt: nowIso,
    pendingSince,
    attempt: 0,
    specHash: job.specHash,
    instances: Array.from({ length: policy.instances }, () => ({ node: null })),
    ...(catchUp ? { catchUp: true as const } : {}),
  };
  return [...runs, fresh];
}

function skippedRecord(run: string, atSec: number, result: 'skipped' | 'missed', reason: string, nowIso: string): RunRecord {
  return {
    run,
    scheduledAt: new Date(atSec * 1000).toISOString(),
    startedAt: null,
    finishedAt: nowIso,
    node: null,
    result,
    exitCodes: {},
    reason,
    output: {},
  };
}

function countTimes(times: ScheduleTimes, afterSec: number, untilSec: number): number {
  let n = 0;
  for (let t = times.next(afterSec); t !== undefined && t <= untilSec && n < MAX_COUNTED; t = times.next(t)) n++;
  return n;
}

/** Step 5: every pending run, whole or not at all, oldest first. */
function placePending(input: CronRoundInput, states: Map<string, CronState>, changed: Set<string>, now: number, nowIso: string, out: CronRound): void {
  const pending: Array<{ job: AcceptedJob; run: ActiveRun; policy: CronPolicy }> = [];
  for (const [name, state] of states) {
    const job = input.jobs.get(name)!;
    const policy = cronPolicyOf(job)!;
    for (const run of state.runs) if (run.startedAt === undefined) pending.push({ job, run, policy });
  }
  if (pending.length === 0) return;
  const state = placedState(input.nodes, input.jobs);
  addRunLoad(state, input.jobs, states.values());
  const runPods = runPodsByNode(state, input.jobs, states.values());
  const leases = new Map(input.nodes.map((n) => [n.name, n.leaseId]));
  pending.sort((a, b) => cmp(a.run.pendingSince ?? a.run.scheduledAt, b.run.pendingSince ?? b.run.scheduledAt) || cmp(a.run.run, b.run.run));
  for (const { job, run, policy } of pending) {
    const name = job.spec.name;
    const req = withRules(makeRequest(state, name, instanceDemand(job.spec)), job.spec);
    const ids = spreadRun(state, req, run.instances.length, runPods);
    let next: ActiveRun;
    if (ids) {
      const nodes = ids.map((id) => state.names[id]!);
      const { pendingSince: _p, waiting: _w, ...rest } = run;
      next = { ...rest, startedAt: nowIso, instances: nodes.map((node) => ({ node, lease: leases.get(node)! })) };
      out.events.push({ what: 'placed', job: name, run: run.run, nodes, delayMs: now - Date.parse(run.pendingSince ?? run.scheduledAt) });
    } else {
      // Still pending: a round must come back when its deadline passes, even if nothing else changes.
      const deadline = Date.parse(run.pendingSince ?? run.scheduledAt) + policy.startingDeadlineMs + 1;
      out.wakeAt = out.wakeAt === undefined ? deadline : Math.min(out.wakeAt, deadline);
      const waiting = whyNotPlaced(state, req, run.instances.length, name);
      if (waiting === run.waiting) continue;
      next = { ...run, waiting };
    }
    const s = states.get(name)!;
    states.set(name, { ...s, runs: s.runs.map((r) => (r.run === run.run ? next : r)) });
    changed.add(name);
  }
}

/**
 * Run pods go where the fewest run pods already are (then the most free
 * memory), not best fit: a run is short, and what bounds a thousand runs
 * due together is how fast each node's engine creates containers, so they
 * are spread over every node's engine. Whole or nothing, like placeAll.
 */
function spreadRun(state: ClusterState, req: PlacementRequest, count: number, runPods: Int32Array): number[] | null {
  const placed: number[] = [];
  for (let i = 0; i < count; i++) {
    let best = -1;
    for (let node = 0; node < state.size; node++) {
      if (!fitsDefault(state, node, req, undefined)) continue;
      if (best < 0 || runPods[node]! < runPods[best]! || (runPods[node] === runPods[best] && state.free[MEMORY][node]! > state.free[MEMORY][best]!)) best = node;
    }
    if (best < 0) {
      for (const p of placed) {
        state.remove(p, req.job, req.demand);
        runPods[p]!--;
      }
      return null;
    }
    state.add(best, req.job, req.demand);
    runPods[best]!++;
    placed.push(best);
  }
  return placed;
}

/** Placed, unfinished run pods per node id. */
function runPodsByNode(state: ClusterState, jobs: ReadonlyMap<string, AcceptedJob>, states: Iterable<CronState>): Int32Array {
  const out = new Int32Array(state.size);
  forEachRunPod(jobs, states, (_job, node) => {
    const id = state.idOf(node);
    if (id !== undefined) out[id]!++;
  });
  return out;
}

function whyNotPlaced(state: ClusterState, req: ReturnType<typeof makeRequest>, count: number, job: string): string {
  const exp = explainPlacement(state, req, count);
  return placementProblem(exp, { job, scope: 'all', perInstance: describeDemand(req) }).problem.detail ?? 'no room';
}

/** A run's scheduled time as ISO, from its name (`<job>-<unix seconds>`). */
function scheduledOf(run: string): string {
  const sec = Number(run.slice(run.lastIndexOf('-') + 1));
  return Number.isFinite(sec) ? new Date(sec * 1000).toISOString() : '';
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
