// A node's view of the accepted jobs: the jobs with an instance on this
// node, kept from the job watch (a change elsewhere costs the node nothing
// but the watch event). Listed once at start, and again after history was
// compacted or the node had to fence (its watch may lag behind).
import type { Logger } from 'pino';
import { hasVolumesOn, type AcceptedJob } from '../model/cluster';
import type { ClusterStore } from '../store';
import { retryForever } from './retry';

export class NodeJobs {
  private readonly jobs = new Map<string, AcceptedJob>();
  /** Revision of the last full listing of jobs: older watch changes are already in it. */
  private listedAt = 0;
  private stopWatch: (() => Promise<void>) | undefined;

  constructor(
    private readonly store: ClusterStore,
    private readonly node: string,
    private readonly log: Logger,
    /**
     * One of this node's jobs changed: what the view held before and holds
     * now (both undefined when a re-list replaced the whole view).
     */
    private readonly onChange: (before: AcceptedJob | undefined, after: AcceptedJob | undefined) => void,
  ) {}

  /** Lists (retrying until etcd answers), then watches from the listing's revision on. */
  async start(): Promise<void> {
    const snap = await retryForever(this.log, 'read cluster', () => this.store.snapshot());
    this.replace(snap.jobs, snap.revision);
    this.stopWatch = await this.store.watchJobs(snap.revision + 1, {
      onChange: (ev) => {
        // Already in a newer listing (we re-listed after fencing while the watch lagged).
        if (ev.revision <= this.listedAt) return;
        // Only jobs with an instance here are kept: a change elsewhere costs this node nothing.
        const before = this.jobs.get(ev.name);
        const mine = ev.type === 'put' && ev.value && runsOn(ev.value, this.node) ? ev.value : undefined;
        if (!mine && !before) return;
        if (mine) this.jobs.set(ev.name, mine);
        else this.jobs.delete(ev.name);
        this.onChange(before, mine);
      },
      onReset: async () => {
        // History was compacted away: re-list; the watch resumes right after the listing.
        this.log.warn('job watch history was compacted: re-listing jobs');
        const revision = await this.relist();
        this.onChange(undefined, undefined);
        return revision;
      },
      onError: (err) => this.log.warn({ err: err.message }, 'job watch error'),
    });
  }

  async stop(): Promise<void> {
    const stop = this.stopWatch;
    this.stopWatch = undefined;
    await stop?.();
  }

  /** This node's jobs. */
  values(): IterableIterator<AcceptedJob> {
    return this.jobs.values();
  }

  get size(): number {
    return this.jobs.size;
  }

  /** Replaces the view with a fresh listing; returns its revision. */
  async relist(): Promise<number> {
    const s = await this.store.snapshot();
    this.replace(s.jobs, s.revision);
    return s.revision;
  }

  private replace(jobs: Map<string, AcceptedJob>, revision: number): void {
    this.jobs.clear();
    for (const [k, v] of jobs) if (runsOn(v, this.node)) this.jobs.set(k, v);
    this.listedAt = Math.max(this.listedAt, revision);
  }
}

/** The job runs here, or keeps persistent volumes here (which this node deletes once the job is gone). */
export function runsOn(job: AcceptedJob, node: string): boolean {
  return job.instances.some((p) => p.node === node) || hasVolumesOn(job, node);
}
