// The dashboard's view of the cluster, fed by etcd watches: one listing per
// prefix, then only changes (never a full re-read per request or per change).
//
//   1. open the schedule cache (nodes, jobs, rejections, cron runs: one
//      watch over the schedule range) and mirrors of the instance statuses,
//      the agents' reports and the CPU records
//   2. on any change, rebuild the rows (`ozy status`'s, agent/cluster-status.ts)
//      at most once per `minRebuildMs`: a burst of changes is one rebuild
//   3. compare each section's fingerprint with the last one; tell the
//      listeners (the SSE clients) which sections changed and at which revision
// Requests read `data` as it stands: no etcd round trip on the request path.
import { buildClusterStatus } from '../agent/cluster-status';
import { nextRunAt } from '../cron/next-run';
import type { InstanceStatus } from '../model/cluster';
import type { ClusterStore, CpuMirror, Mirror, ScheduleCache } from '../store';
import { buildDashData, pollerOf, SECTIONS, sectionFingerprints, type DashData, type Section } from './model';
import type { ChangeEvent } from './sse';

export interface ViewOptions {
  /** Least time between two rebuilds (default 100 ms). */
  minRebuildMs?: number;
  /** Rebuild this often even without changes: next cron runs and waiting times move with the clock (default 30 s). */
  clockRefreshMs?: number;
  onError?(err: Error): void;
  /** After each rebuild: how long it took and which sections changed (logged at debug). */
  onRebuild?(ms: number, changed: readonly Section[]): void;
  now?(): number;
}

export class DashboardView {
  private cache?: ScheduleCache;
  private statuses?: Mirror<InstanceStatus>;
  private agents?: Mirror<Record<string, unknown>>;
  private cpu?: CpuMirror;
  private current: DashData | undefined;
  private fingerprints: Record<Section, string> | undefined;
  private readonly versions = Object.fromEntries(SECTIONS.map((s) => [s, 0])) as Record<Section, number>;
  private readonly listeners = new Set<(ev: ChangeEvent) => void>();
  private timer: NodeJS.Timeout | undefined;
  private clock: NodeJS.Timeout | undefined;
  private lastRebuild = 0;
  private closed = false;
  /** Mirrors notify while the others are still opening: no rebuild before all are in. */
  private opened = false;
  /** Rebuild time of the last rebuild, ms (logged, and read by the benchmark). */
  lastRebuildMs = 0;
  rebuilds = 0;

  constructor(
    private readonly store: ClusterStore,
    private readonly opts: ViewOptions = {},
  ) {}

  async open(): Promise<void> {
    const onError = (err: Error): void => this.opts.onError?.(err);
    const changed = (): void => this.schedule();
    [this.cache, this.statuses, this.agents, this.cpu] = await Promise.all([
      this.store.openScheduleCache({ onChange: changed, onError }),
      this.store.mirrorInstanceStatus({ onChange: changed, onError }),
      this.store.mirrorAgentStatus({ onChange: changed, onError }),
      this.store.openCpuMirror({ onChange: changed, onError }),
    ]);
    this.opened = true;
    this.rebuild();
    const every = this.opts.clockRefreshMs ?? 30_000;
    this.clock = setInterval(() => this.schedule(), every);
    this.clock.unref();
  }

  /** The data as of the last rebuild. */
  get data(): DashData {
    if (!this.current) throw new Error('the dashboard view is not open');
    return this.current;
  }

  /** Per section, a number that grows when the section changes (the page compares them). */
  get sectionVersions(): Readonly<Record<Section, number>> {
    return this.versions;
  }

  get revision(): number {
    return this.current?.summary.revision ?? 0;
  }

  subscribe(fn: (ev: ChangeEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.clock) clearInterval(this.clock);
    this.listeners.clear();
    // The store's close() stops its caches and mirrors too; closing ours first frees them early.
    await Promise.all([this.cache?.close(), this.statuses?.close(), this.agents?.close(), this.cpu?.close()]);
  }

  /** A rebuild soon: now if the last one is old enough, else when it is; several calls are one. */
  private schedule(): void {
    if (this.closed || !this.opened || this.timer) return;
    const now = Date.now();
    const wait = Math.max(0, this.lastRebuild + (this.opts.minRebuildMs ?? 100) - now);
    // setTimeout even for 0: the mirrors of one etcd revision notify one after another.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      try {
        this.rebuild();
      } catch (err) {
        this.opts.onError?.(err instanceof Error ? err : new Error(String(err)));
      }
    }, wait);
    this.timer.unref();
  }

  private rebuild(): void {
    const t0 = performance.now();
    this.lastRebuild = Date.now();
    const cache = this.cache!;
    const snap = cache.snapshot();
    const agents = new Map(this.agents!.values);
    const revision = Math.max(snap.revision, this.statuses!.revision, this.agents!.revision, this.cpu!.revision);
    const status = buildClusterStatus({
      nodes: snap.nodes,
      jobs: snap.jobs,
      rejections: snap.rejections,
      statuses: [...this.statuses!.values.values()],
      agents,
      poller: pollerOf(agents),
      ...(snap.schedule ? { schedule: snap.schedule } : {}),
      ...(snap.zones ? { zones: snap.zones } : {}),
      runs: snap.runs,
      nextRunAt,
      cpu: this.cpu!.records(),
      now: (this.opts.now ?? Date.now)(),
    });
    const data = buildDashData(status, snap.rejections, revision);
    const prints = sectionFingerprints(data);
    const changed = SECTIONS.filter((s) => this.fingerprints?.[s] !== prints[s]);
    for (const s of changed) this.versions[s]++;
    this.current = data;
    this.fingerprints = prints;
    this.lastRebuildMs = performance.now() - t0;
    this.rebuilds++;
    this.opts.onRebuild?.(this.lastRebuildMs, changed);
    if (changed.length === 0) return;
    const ev: ChangeEvent = { revision, changed: [...changed] };
    for (const fn of this.listeners) fn(ev);
  }
}
