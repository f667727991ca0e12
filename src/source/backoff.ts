// How long to wait before retrying a push that lost a race. Jitter keeps
// agents that lost the same race from colliding again in lockstep.

/** Attempt 1 waits about baseMs, then doubling, capped at maxMs; the wait is drawn from [½, 1] of that. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.5 + random() / 2));
}
