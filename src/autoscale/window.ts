// The scale-down stabilization window (`scaleDownAfter`), per job: a lower
// count is applied only when every recommendation of the last window asked
// for at most that much, and the window has been watched whole (a poller
// that just took over, or a job that just appeared, waits a full window:
// it cannot know what was wanted before). Scale-up is never delayed.
// The maximum over the window is kept in a monotonic deque: O(1) per look.
export interface WindowEntry {
  at: number;
  wanted: number;
}

export class ScaleDownWindow {
  /** Recommendations in the window, `wanted` strictly decreasing from the front. */
  private readonly deque: WindowEntry[] = [];
  private readonly since: number;

  constructor(now: number) {
    this.since = now;
  }

  /**
   * Records `wanted` (the recommendation at `now`, monotonic ms) and returns
   * the count to have: `wanted` when it is not lower than `count`; else the
   * highest recommendation of the last `windowMs` (not above `count`) once
   * the window has been watched whole, and `count` before that.
   */
  next(count: number, wanted: number, now: number, windowMs: number): number {
    while (this.deque.length > 0 && this.deque[this.deque.length - 1]!.wanted <= wanted) this.deque.pop();
    this.deque.push({ at: now, wanted });
    while (this.deque.length > 1 && this.deque[0]!.at < now - windowMs) this.deque.shift();
    if (wanted >= count) return wanted;
    if (now - this.since < windowMs) return count;
    return Math.min(count, this.deque[0]!.wanted);
  }

  /**
   * While the latest recommendation is below `count`: when (monotonic ms)
   * scaling down will be allowed if nothing higher is wanted meanwhile, i.e.
   * when the last recommendation of at least `count` leaves the window.
   */
  scaleDownAt(count: number, windowMs: number): number | undefined {
    const last = this.deque[this.deque.length - 1];
    if (!last || last.wanted >= count) return undefined;
    let at = this.since + windowMs;
    for (const e of this.deque) if (e.wanted >= count) at = Math.max(at, e.at + windowMs);
    return at;
  }
}
