// Cron runs as etcd holds them (docs/cron.md).
//
//   <prefix>/runs/<job>           CronState: the claim cursor and the active runs.
//                                 Inside the schedule range, so every decision
//                                 sees the capacity runs hold; every write of it
//                                 bumps the guard key.
//   <prefix>/history/<job>/<run>  RunRecord: a finished (or missed, skipped,
//                                 replaced) run, with its output tail. Outside
//                                 the schedule range: decisions never read it.

/** What `ozy runs` says of a run. 'pending' is a claimed run not placed yet. */
export type RunResult = 'pending' | 'running' | 'succeeded' | 'failed' | 'missed' | 'skipped' | 'replaced';

/** One pod of a run: `<run>-<ordinal>`. */
export interface RunInstance {
  /** Where it runs; null while the run waits for room. */
  node: string | null;
  /**
   * The node's lease when the pod was placed there. A node that comes back
   * under a new lease stopped everything of the old one (invariant 7), so a
   * pod placed under another lease is lost, even if no round saw the node go.
   */
  lease?: string;
  /** Set by its node once every container has exited (or it was stopped). */
  exit?: InstanceExit;
}

export interface InstanceExit {
  /** Container name → exit code. */
  exitCodes: Record<string, number>;
  /** Why it failed ('exit code 3', 'OOM killed', 'activeDeadline', 'node lost', 'image pull: …'); absent on success. */
  reason?: string;
  /** Container name → the last 4 KiB of its output (stdout and stderr interleaved). */
  output: Record<string, string>;
  finishedAt: string;
}

/** A claimed run that has not finished. */
export interface ActiveRun {
  /** `<job>-<unix seconds of scheduledAt>`. */
  run: string;
  /** ISO 8601 UTC. */
  scheduledAt: string;
  /** When an agent claimed it (ISO). */
  claimedAt: string;
  /** When every instance had a node (ISO); absent while pending. */
  startedAt?: string;
  /**
   * Since when it waits for room (ISO): its scheduled time, or when a
   * catch-up run was claimed or a failed run was retried. startingDeadline
   * counts from here. Absent once placed.
   */
  pendingSince?: string;
  /** Why it is not placed yet, from the last try (e.g. "no live node has 512MiB of memory free"). */
  waiting?: string;
  /** 0 for the first try; a retry of a failed run increments it. */
  attempt: number;
  /** The accepted spec hash the run was claimed under (the node runs the job's current spec). */
  specHash: string;
  /** One per pod of the run, ordinal = index. */
  instances: RunInstance[];
  /** Runs once for every time missed while no agent was up (catchUp: one). */
  catchUp?: true;
  /** Set when a node stops it for its activeDeadline; the node then reports the exit. */
  deadline?: true;
}

/** Value of `<prefix>/runs/<job>`. */
export interface CronState {
  job: string;
  /** Unix seconds: every scheduled time up to and including it was handled (claimed, skipped or missed). */
  cursor: number;
  runs: ActiveRun[];
  /** The last run that ended (for `ozy status`, which does not read the history). */
  last?: { run: string; result: RunResult; finishedAt: string | null };
}

/** Value of `<prefix>/history/<job>/<run>`; also an entry of `ozy runs --json`. */
export interface RunRecord {
  run: string;
  scheduledAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** The node of its first instance (null when it never ran). */
  node: string | null;
  result: RunResult;
  /** Container → exit code; with several pods per run, `<instance>/<container>`. */
  exitCodes: Record<string, number>;
  reason: string | null;
  /** Same keys as exitCodes: the last 4 KiB of output. */
  output: Record<string, string>;
  /** Present on the one run that stood for every time missed while no agent was up (catchUp: one). */
  catchUp?: true;
}

/** How much output is kept per container. */
export const OUTPUT_TAIL_BYTES = 4096;

export function runName(job: string, scheduledAtSec: number): string {
  return `${job}-${scheduledAtSec}`;
}

export function runInstanceName(run: string, ordinal: number): string {
  return `${run}-${ordinal}`;
}
