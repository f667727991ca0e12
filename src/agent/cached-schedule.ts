// The brain's StorePort on top of the watch-fed ScheduleCache: snapshots
// come from memory (an idle round reads nothing from etcd); commits go to
// etcd and then wait for the cache to show what happened, so the next
// decision is taken on the state the commit produced (or lost to).
import type { ClusterStore, ScheduleCache } from '../store';
import type { ScheduleWrites, Snapshot, StorePort } from './ports';

/** How long the watch may lag behind a commit before the cache lists again. */
const CATCH_UP_MS = 3_000;

export class CachedSchedule implements StorePort {
  constructor(
    private readonly store: ClusterStore,
    private readonly cache: ScheduleCache,
  ) {}

  async snapshot(): Promise<Snapshot> {
    return this.cache.snapshot();
  }

  async commitSchedule(
    guardRevision: number,
    writes: ScheduleWrites,
    meta: { commit: string; by: string },
  ): Promise<{ ok: true; revision: number } | { ok: false }> {
    const res = await this.store.commitSchedule(guardRevision, writes, meta);
    // Won: our own writes must be in the view before anything is decided on it.
    // Lost: someone else's guard bump is on its way; decide again once it is in.
    const caughtUp = res.ok
      ? () => this.cache.revision >= res.revision
      : () => this.cache.scheduleRevision !== guardRevision;
    if (!(await this.cache.waitUntil(caughtUp, CATCH_UP_MS))) await this.cache.relist();
    return res;
  }

  markReportsPushed(scheduleRevision: number): Promise<void> {
    return this.store.markReportsPushed(scheduleRevision);
  }
}
