// The stabilization windows of an autoscaled job (docs/autoscaling.md).
//   - Scale-down (`scaleDownAfter`): a lower count is applied only when every
//     recommendation of the last window asked for at most that much, and the
//     window has been watched whole (a poller that just took over, or a job
//     that just appeared, waits a full window: it cannot know what was
//     wanted before).
//   - Scale-up: to the lowest count asked for over a short window (a few
//     seconds, two CPU samples): one sample over the band — a burst, a
//     sampling stall — is not a reason to start an instance; load that
//     lasts is. Kubernetes' behavior.scaleUp.stabilizationWindowSeconds does
//     the same with the minimum.
// Each extreme is kept in a monotonic deque: O(1) per look.
export interface WindowEntry {
  at: number;
  wanted: number;
}

export class ScaleDownWindow {
  /** Recommendations in the down window, `wanted` strictly decreasing from the front. */
  private readonly highs: WindowEntry[] = [];
  /** Recommendations in the up window, `wanted` strictly increasing from the front. */
  private readonly lows: WindowEntry[] = [];
  private readonly since: number;

  constructor(now: number) {
    this.since = now;
  }

  /**
   * Records `wanted` (the recommendation at `now`, monotonic ms) and returns
   * the count to have: above `count`, the lowest recommendation of the last
   * `upWindowMs` once that much has been watched (else `count`); below it,
   * the highest recommendation of the last `windowMs` (not above `count`)
   * once the window has been watched whole, and `count` before that.
   */
  next(count: number, wanted: number, now: number, windowMs: number, upWindowMs = 0): number {
    while (this.highs.length > 0 && this.highs[this.highs.length - 1]!.wanted <= wanted) this.highs.pop();
    this.highs.push({ at: now, wanted });
    while (this.highs.length > 1 && this.highs[0]!.at < now - windowMs) this.highs.shift();
    while (this.lows.length > 0 && this.lows[this.lows.length - 1]!.wanted >= wanted) this.lows.pop();
    this.lows.push({ at: now, wanted });
    while (this.lows.length > 1 && this.lows[0]!.at < now - upWindowMs) this.lows.shift();
    if (wanted >= count) {
      if (now - this.since < upWindowMs) return count;
      return Math.max(count, this.lows[0]!.wanted);
    }
    if (now - this.since < windowMs) return count;
    return Math.min(count, this.highs[0]!.wanted);
  }

  /**
   * While the latest recommendation is below `count`: when (monotonic ms)
   * scaling down will be allowed if nothing higher is wanted meanwhile, i.e.
   * when the last recommendation of at least `count` leaves the window.
   */
  scaleDownAt(count: number, windowMs: number): number | undefined {
    const last = this.highs[this.highs.length - 1];
    if (!last || last.wanted >= count) return undefined;
    let at = this.since + windowMs;
    for (const e of this.highs) if (e.wanted >= count) at = Math.max(at, e.at + windowMs);
    return at;
  }
}
