// What a finished cron run pod reports (pure): its exit codes, the reason
// it failed, and the tail of each container's output (DESIGN.md "Cron
// jobs"; the record is model/cron.ts InstanceExit). The executor
// (run-executor.ts) gathers the facts from the engine; this file only
// judges them.
import { OUTPUT_TAIL_BYTES, type InstanceExit } from '../model/cron';

/** The exit code recorded for a container that never ran (a failed start) or vanished before we saw it exit. */
export const NEVER_RAN = -1;

/** The reason of a run stopped at its activeDeadline (the name etcd and `ozy runs` show). */
export const DEADLINE_REASON = 'activeDeadline';

/** One container of a run pod once nothing of it runs any more. */
export interface ExitedContainer {
  name: string;
  exitCode: number;
  oomKilled: boolean;
  /**
   * Never seen to exit, its exit code NEVER_RAN: 'missing' (removed by
   * someone else, or never created by an agent that died mid-start) or
   * 'never started' (created, not started).
   */
  lost?: 'missing' | 'never started';
  /** Its output, already cut to the tail (utf8Tail). */
  output: string;
}

/**
 * The last `maxBytes` bytes of `buf` as text, cut on a UTF-8 character
 * boundary at both ends: a character split by the cut is dropped rather
 * than shown as U+FFFD, so the result never exceeds `maxBytes` bytes.
 */
export function utf8Tail(buf: Buffer, maxBytes: number = OUTPUT_TAIL_BYTES): string {
  let start = Math.max(0, buf.length - maxBytes);
  // Continuation bytes (10xxxxxx) belong to a character that began before the cut.
  while (start < buf.length && isContinuation(buf[start]!)) start++;
  return buf.subarray(start, start + completeLength(buf.subarray(start))).toString('utf8');
}

/**
 * How a finished pod ended, containers in start order. The reason names the
 * first container that failed (start order: usually the one the others
 * waited for); every exit code is in exitCodes anyway. A pod stopped at its
 * deadline fails for that reason whatever its containers' codes.
 */
export function runExit(containers: readonly ExitedContainer[], opts: { deadline: boolean; finishedAt: string }): InstanceExit {
  const exit: InstanceExit = { exitCodes: {}, output: {}, finishedAt: opts.finishedAt };
  for (const c of containers) {
    exit.exitCodes[c.name] = c.exitCode;
    exit.output[c.name] = c.output;
  }
  const reason = opts.deadline ? DEADLINE_REASON : firstFailure(containers);
  if (reason !== undefined) exit.reason = reason;
  return exit;
}

/** Why a pod could not start, as PodStartError says it (runtime/errors.ts). */
export interface StartFailure {
  /** The container whose step failed. */
  container: string;
  step: 'pull' | 'secrets' | 'volumes' | 'create' | 'start' | 'ready';
  /** The registry's message for a pull, else the cause's message. */
  message: string;
}

/**
 * A pod that never ran: every container gets NEVER_RAN and no output. A
 * failed pull says `image pull: <the registry's message>`; other steps name
 * the container and the step.
 */
export function startFailureExit(containers: readonly string[], failure: StartFailure, finishedAt: string): InstanceExit {
  const reason = failure.step === 'pull' ? `image pull: ${failure.message}` : `container "${failure.container}": ${failure.step} failed: ${failure.message}`;
  return { ...neverRan(containers, finishedAt), reason };
}

/** A run whose activeDeadline had passed before its pod could start here: it is not started at all. */
export function deadlineBeforeStartExit(containers: readonly string[], finishedAt: string): InstanceExit {
  return { ...neverRan(containers, finishedAt), reason: DEADLINE_REASON };
}

function neverRan(containers: readonly string[], finishedAt: string): InstanceExit {
  const exitCodes: Record<string, number> = {};
  for (const name of containers) exitCodes[name] = NEVER_RAN;
  return { exitCodes, output: {}, finishedAt };
}

function firstFailure(containers: readonly ExitedContainer[]): string | undefined {
  for (const c of containers) {
    if (c.lost !== undefined) return `container "${c.name}": ${c.lost}`;
    if (c.oomKilled) return `container "${c.name}": OOM killed`;
    if (c.exitCode !== 0) return `container "${c.name}": exit code ${c.exitCode}`;
  }
  return undefined;
}

function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

/** `buf` (starting on a character boundary) without an incomplete character at its end (output cut mid-write). */
function completeLength(buf: Buffer): number {
  // The last lead byte lies within the last 4 bytes; if its character needs more bytes than are left, drop it.
  for (let i = buf.length - 1; i >= Math.max(0, buf.length - 4); i--) {
    const b = buf[i]!;
    if (isContinuation(b)) continue;
    const need = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + need <= buf.length ? buf.length : i;
  }
  return buf.length;
}
