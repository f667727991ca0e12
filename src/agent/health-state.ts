// Health-check thresholds and restart back-off, as pure functions.
// Seed: "require two consecutive 200 status codes to switch to healthy, and
// two consecutive non-200 status codes to switch to unhealthy".

export type Health = 'unknown' | 'healthy' | 'unhealthy';

export interface HealthState {
  health: Health;
  /** Consecutive successes / failures since the last change of result. */
  successes: number;
  failures: number;
}

export const INITIAL_HEALTH: HealthState = { health: 'unknown', successes: 0, failures: 0 };

export function recordProbe(
  s: HealthState,
  ok: boolean,
  thresholds: { healthyThreshold: number; unhealthyThreshold: number },
): HealthState {
  if (ok) {
    const successes = s.successes + 1;
    const health = successes >= thresholds.healthyThreshold ? 'healthy' : s.health;
    return { health, successes, failures: 0 };
  }
  const failures = s.failures + 1;
  const health = failures >= thresholds.unhealthyThreshold ? 'unhealthy' : s.health;
  return { health, successes: 0, failures };
}

export type RestartPolicy = 'always' | 'on-failure' | 'never';

/** Why a container stopped serving, as the restart policy sees it. */
export type StopCause = { kind: 'exited'; exitCode: number } | { kind: 'unhealthy' };

export function shouldRestart(policy: RestartPolicy, cause: StopCause): boolean {
  if (policy === 'never') return false;
  if (policy === 'always') return true;
  // on-failure: a non-zero exit or a failed health check.
  return cause.kind === 'unhealthy' || cause.exitCode !== 0;
}

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;

/** Delay before restart number `restarts` (0-based): 1s, 2s, 4s … capped at 60s. */
export function restartDelayMs(restarts: number, base = BACKOFF_BASE_MS, max = BACKOFF_MAX_MS): number {
  return Math.min(max, base * 2 ** Math.min(restarts, 30));
}
