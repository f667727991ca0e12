// What happens to an active run when its pods end (pure): the node reports
// each instance's exit (or the round records "node lost"); once every
// instance has one, the run either goes back to pending for a retry or
// becomes a history record. Shared by the cron round and the node's report,
// so both judge a finished run the same way.
import type { ActiveRun, CronState, InstanceExit, RunRecord, RunResult } from '../model/cron';
import { runInstanceName } from '../model/cron';
import type { CronPolicy } from '../model/job';

export type Settled =
  /** Some instance is still pending or running. */
  | { kind: 'active'; run: ActiveRun }
  /** Failed with retries left: the same run, pending again, next attempt. */
  | { kind: 'retry'; run: ActiveRun }
  | { kind: 'done'; record: RunRecord };

/** Judge `run` after an exit was recorded. */
export function settle(run: ActiveRun, policy: CronPolicy, nowIso: string): Settled {
  if (run.instances.some((i) => i.exit === undefined)) return { kind: 'active', run };
  const failure = run.instances.find((i) => i.exit?.reason !== undefined)?.exit?.reason;
  if (failure !== undefined && run.attempt < policy.retries) {
    const { startedAt: _s, waiting: _w, deadline: _d, ...rest } = run;
    return {
      kind: 'retry',
      run: { ...rest, attempt: run.attempt + 1, pendingSince: nowIso, instances: run.instances.map(() => ({ node: null })) },
    };
  }
  const result: RunResult = failure === undefined ? 'succeeded' : 'failed';
  const reason = failure === undefined ? null : run.attempt > 0 ? `${failure} (attempt ${run.attempt + 1} of ${policy.retries + 1})` : failure;
  return { kind: 'done', record: recordOf(run, result, reason, lastFinish(run) ?? nowIso) };
}

/**
 * A history record of `run` ending as `result`. Exit codes and output are
 * keyed by container, or `<instance>/<container>` when a run has several pods.
 */
export function recordOf(run: ActiveRun, result: RunResult, reason: string | null, finishedAt: string | null): RunRecord {
  const exitCodes: Record<string, number> = {};
  const output: Record<string, string> = {};
  const several = run.instances.length > 1;
  run.instances.forEach((inst, ordinal) => {
    if (!inst.exit) return;
    const prefix = several ? `${runInstanceName(run.run, ordinal)}/` : '';
    for (const [c, code] of Object.entries(inst.exit.exitCodes)) exitCodes[prefix + c] = code;
    for (const [c, text] of Object.entries(inst.exit.output)) output[prefix + c] = text;
  });
  return {
    run: run.run,
    scheduledAt: run.scheduledAt,
    startedAt: run.startedAt ?? null,
    finishedAt,
    node: run.instances.find((i) => i.node !== null)?.node ?? null,
    result,
    exitCodes,
    reason,
    output,
    ...(run.catchUp ? { catchUp: true as const } : {}),
  };
}

function lastFinish(run: ActiveRun): string | undefined {
  let last: string | undefined;
  for (const i of run.instances) if (i.exit && (last === undefined || i.exit.finishedAt > last)) last = i.exit.finishedAt;
  return last;
}

export type ExitApplied =
  | { kind: 'applied'; state: CronState; settled: Settled }
  /** The run, instance or attempt is gone or already has its exit: nothing to write. */
  | { kind: 'stale' };

/** Record that instance `ordinal` of `runName` (attempt `attempt`) on `node` exited. */
export function applyExit(
  state: CronState,
  runName: string,
  ordinal: number,
  attempt: number,
  node: string,
  exit: InstanceExit,
  policy: CronPolicy,
  nowIso: string,
): ExitApplied {
  const idx = state.runs.findIndex((r) => r.run === runName);
  const run = state.runs[idx];
  const inst = run?.instances[ordinal];
  if (!run || !inst || run.attempt !== attempt || inst.node !== node || inst.exit !== undefined) return { kind: 'stale' };
  const instances = run.instances.slice();
  instances[ordinal] = { node, exit };
  const settled = settle({ ...run, instances }, policy, nowIso);
  const runs = state.runs.slice();
  if (settled.kind !== 'done') {
    runs[idx] = settled.run;
    return { kind: 'applied', state: { ...state, runs }, settled };
  }
  runs.splice(idx, 1);
  const { record } = settled;
  const newer = state.last === undefined || state.last.run === record.run || (state.last.finishedAt ?? '') <= (record.finishedAt ?? '');
  const last = newer ? { run: record.run, result: record.result, finishedAt: record.finishedAt } : state.last;
  return { kind: 'applied', state: { ...state, runs, ...(last ? { last } : {}) }, settled };
}
