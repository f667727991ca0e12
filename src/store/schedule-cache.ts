// The schedule as the deciding agent sees it, kept in memory from one etcd
// watch instead of read every round (issue: an idle round read 3.8 MiB).
//
//   1. list once (ClusterStore.snapshot: one read-only txn at one revision)
//   2. watch the schedule's key range (keys.scheduleRange) from the next
//      revision; etcd delivers all events of a revision in one response, and
//      a scheduling transaction writes its jobs, rejections and the guard key
//      at one revision, so the cache is always at a whole revision: the guard
//      revision it shows matches the jobs it shows (invariant 3)
//   3. history compacted away (the watch is cancelled): list again
// snapshot() hands out copies, so a decision's view never moves under it.
import type { AcceptedJob, NodeInfo, Rejection } from '../model/cluster';
import type { CronState } from '../model/cron';
import { decodeAcceptedJob, decodeCronState, decodeScheduleMark, type Decoded, type ScheduleMark } from './codec';
import type { ClusterSnapshot } from './cluster-store';
import type { EtcdDriver, StoredKv, WatchEvent, WatchHandle } from './driver';
import { CorruptValueError } from './errors';
import { keyName, type KeyLayout } from './keys';
import { decodeKnownZones, decodeNamedNode, decodeNamedRejection, decodeReportsMark } from './named-decoders';

export type ScheduleCacheChange = 'nodes' | 'jobs' | 'rejections' | 'schedule' | 'reports' | 'runs';

export interface ScheduleCacheHandlers {
  /** The cache moved to a new revision; `what` says which parts changed. */
  onChange(what: ReadonlySet<ScheduleCacheChange>, revision: number): void;
  /** Transient trouble (a broken stream, a failed re-list); the cache carries on. */
  onError?(err: Error): void;
  onCorrupt?(err: CorruptValueError): void;
}

const RELIST_RETRY_MIN_MS = 100;
const RELIST_RETRY_MAX_MS = 2_000;

export class ScheduleCache {
  private revisionSeen = 0;
  /** The last revision that changed what a decision reads (the reports mark does not). */
  private inputsRev = 0;
  /** The last revision that only cron runs changed. */
  private runsRev = 0;
  /** The last revision that changed the nodes or the known zones (no guard covers them: see Brain.tick). */
  private nodesRev = 0;
  private scheduleRev = 0;
  private mark: ScheduleMark | undefined;
  private reportsRev = 0;
  private readonly nodes = new Map<string, NodeInfo>();
  private zones: string[] = [];
  private readonly jobs = new Map<string, AcceptedJob>();
  private readonly rejections = new Map<string, Rejection>();
  private readonly runs = new Map<string, CronState>();
  private readonly runRevs = new Map<string, number>();
  private handle: WatchHandle | undefined;
  private closed = false;
  private relisting = false;
  private waiters = new Set<() => void>();

  constructor(
    private readonly driver: EtcdDriver,
    private readonly keys: KeyLayout,
    private readonly list: () => Promise<ClusterSnapshot>,
    private readonly handlers: ScheduleCacheHandlers,
  ) {}

  /** Lists, then watches; resolves once the first listing is in. */
  async open(): Promise<void> {
    this.replace(await this.list());
    this.watchFrom(this.revisionSeen + 1);
  }

  async close(): Promise<void> {
    this.closed = true;
    const h = this.handle;
    this.handle = undefined;
    await h?.cancel();
    for (const w of this.waiters) w();
  }

  /** The revision the cache reflects (every change up to it is in). */
  get revision(): number {
    return this.revisionSeen;
  }

  /** mod_revision of the guard key: what a commit decided on this view must compare. */
  get scheduleRevision(): number {
    return this.scheduleRev;
  }

  /** Live nodes in the view (the agent's metrics; no copy). */
  get nodeCount(): number {
    return this.nodes.size;
  }

  /** Current rejections (the agent's metrics; no copy). */
  get rejectionCount(): number {
    return this.rejections.size;
  }

  /** The cached state, copied: no etcd read. */
  /** The accepted jobs as they stand, without copying (the autoscaler reads them every second). */
  acceptedJobs(): ReadonlyMap<string, AcceptedJob> {
    return this.jobs;
  }

  snapshot(): ClusterSnapshot {
    return {
      revision: this.revisionSeen,
      inputsRevision: this.inputsRev,
      runsRevision: this.runsRev,
      nodesRevision: this.nodesRev,
      scheduleRevision: this.scheduleRev,
      reportsRevision: this.reportsRev,
      ...(this.mark ? { schedule: this.mark } : {}),
      nodes: [...this.nodes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      zones: this.zones.slice(),
      jobs: new Map(this.jobs),
      rejections: new Map(this.rejections),
      runs: new Map(this.runs),
      runRevisions: new Map(this.runRevs),
      corrupt: [],
    };
  }

  /** Resolves true once `ready()` holds, false after `timeoutMs` (or when closed). */
  waitUntil(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!ready() && !this.closed) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(ready());
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(ready());
      }, timeoutMs);
      timer.unref();
      this.waiters.add(check);
    });
  }

  /** Lists again now (e.g. the cache lags behind a failed guard for too long). */
  async relist(): Promise<void> {
    const snap = await this.list();
    if (snap.revision < this.revisionSeen) return; // the watch is already further
    this.replace(snap);
    this.notify(new Set(['nodes', 'jobs', 'rejections', 'schedule', 'reports', 'runs']));
  }

  private watchFrom(fromRevision: number): void {
    if (this.closed) return;
    const range = this.keys.scheduleRange;
    this.handle = this.driver.watch(range.start, { prefix: false, rangeEnd: range.end, fromRevision }, {
      onConnected: () => undefined,
      onEvents: (events) => this.apply(events),
      onCanceled: () => {
        this.handle = undefined;
        void this.recover();
      },
      onDisconnected: (err) => this.handlers.onError?.(err),
    });
  }

  /** The watch was cancelled (compaction): list again and watch from there. */
  private async recover(): Promise<void> {
    if (this.relisting) return;
    this.relisting = true;
    let pause = RELIST_RETRY_MIN_MS;
    while (!this.closed) {
      try {
        this.replace(await this.list());
        this.notify(new Set(['nodes', 'jobs', 'rejections', 'schedule', 'reports', 'runs']));
        this.watchFrom(this.revisionSeen + 1);
        break;
      } catch (err) {
        this.handlers.onError?.(err instanceof Error ? err : new Error(String(err)));
        await new Promise((r) => setTimeout(r, pause).unref());
        pause = Math.min(pause * 2, RELIST_RETRY_MAX_MS);
      }
    }
    this.relisting = false;
  }

  private replace(s: ClusterSnapshot): void {
    this.revisionSeen = s.revision;
    this.inputsRev = s.revision;
    this.runsRev = s.revision;
    // A listing does not say when the nodes last changed: assume at its revision.
    this.nodesRev = s.revision;
    this.scheduleRev = s.scheduleRevision;
    this.mark = s.schedule;
    this.reportsRev = s.reportsRevision;
    this.nodes.clear();
    for (const n of s.nodes) this.nodes.set(n.name, n);
    this.zones = (s.zones ?? []).slice();
    this.jobs.clear();
    for (const [k, v] of s.jobs) this.jobs.set(k, v);
    this.rejections.clear();
    for (const [k, v] of s.rejections) this.rejections.set(k, v);
    this.runs.clear();
    for (const [k, v] of s.runs) this.runs.set(k, v);
    this.runRevs.clear();
    for (const [k, v] of s.runRevisions ?? []) this.runRevs.set(k, v);
  }

  /** One watch response: every event of the revisions it covers, applied together. */
  private apply(events: WatchEvent[]): void {
    if (this.closed) return;
    const changed = new Set<ScheduleCacheChange>();
    let revision = this.revisionSeen;
    for (const ev of events) {
      const rev = ev.kv.modRevision;
      // Already in a listing that was taken after this event (a re-list raced the stream).
      if (rev <= this.revisionSeen) continue;
      revision = Math.max(revision, rev);
      const what = this.applyOne(ev);
      if (what) changed.add(what);
    }
    if (revision === this.revisionSeen) return;
    this.revisionSeen = revision;
    // A cron write (runs/ and the guard key) changes only what running runs
    // hold: the brain looks at it when something waits for room (runsRevision).
    const cronOnly = changed.has('runs') && [...changed].every((c) => c === 'runs' || c === 'schedule' || c === 'reports');
    if (cronOnly) this.runsRev = revision;
    else if ([...changed].some((c) => c !== 'reports')) this.inputsRev = revision;
    if (changed.has('nodes')) this.nodesRev = revision;
    this.notify(changed);
  }

  private applyOne(ev: WatchEvent): ScheduleCacheChange | undefined {
    const k = this.keys;
    const { key } = ev.kv;
    const put = ev.type === 'put';
    let name: string | undefined;
    if ((name = keyName(k.jobsPrefix, key)) !== undefined) {
      return this.setOrDelete(this.jobs, name, put ? decodeAcceptedJob(ev.kv.value, name) : undefined, ev.kv) ? 'jobs' : undefined;
    }
    if ((name = keyName(k.nodesPrefix, key)) !== undefined) {
      return this.setOrDelete(this.nodes, name, put ? decodeNamedNode(name, ev.kv) : undefined, ev.kv) ? 'nodes' : undefined;
    }
    if ((name = keyName(k.rejectionsPrefix, key)) !== undefined) {
      return this.setOrDelete(this.rejections, name, put ? decodeNamedRejection(name, ev.kv) : undefined, ev.kv) ? 'rejections' : undefined;
    }
    if ((name = keyName(k.runsPrefix, key)) !== undefined) {
      const changed = this.setOrDelete(this.runs, name, put ? decodeCronState(ev.kv.value, name) : undefined, ev.kv);
      if (this.runs.has(name)) this.runRevs.set(name, ev.kv.modRevision);
      else this.runRevs.delete(name);
      return changed ? 'runs' : undefined;
    }
    if (key === k.schedule) {
      this.scheduleRev = put ? ev.kv.modRevision : 0;
      const d = put ? decodeScheduleMark(ev.kv.value) : undefined;
      if (d && !d.ok) this.handlers.onCorrupt?.(new CorruptValueError(key, d.reason));
      this.mark = d?.ok ? d.value : undefined;
      return 'schedule';
    }
    if (key === k.knownZones) {
      // Homes of spread: zones jobs depend on it: a decision input like the nodes.
      this.zones = put ? decodeKnownZones(ev.kv.value) : [];
      return 'nodes';
    }
    if (key === k.reports) {
      this.reportsRev = put ? decodeReportsMark(ev.kv.value) : 0;
      return 'reports';
    }
    return undefined; // e.g. the poller key: not part of a decision
  }

  private setOrDelete<T>(map: Map<string, T>, name: string, decoded: Decoded<T> | undefined, kv: StoredKv): boolean {
    if (decoded === undefined) return map.delete(name);
    if (!decoded.ok) {
      // A corrupt value is skipped, as a listing skips it: the entry is gone from the view.
      this.handlers.onCorrupt?.(new CorruptValueError(kv.key, decoded.reason));
      return map.delete(name);
    }
    map.set(name, decoded.value);
    return true;
  }

  private notify(what: ReadonlySet<ScheduleCacheChange>): void {
    for (const w of [...this.waiters]) w();
    // Only the poller key moved (e.g. our own head update): nothing a decision reads.
    if (what.size === 0) return;
    try {
      this.handlers.onChange(what, this.revisionSeen);
    } catch (err) {
      this.handlers.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
