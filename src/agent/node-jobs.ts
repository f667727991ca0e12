// A node's view of the accepted jobs: the jobs with an instance on this
// node, kept from the job watch (a change elsewhere costs the node nothing
// but the watch event). Listed once at start, and again after history was
// compacted or the node had to fence (its watch may lag behind).
import type { Logger } from 'pino';
import { hasVolumesOn, type AcceptedJob } from '../model/cluster';
import type { CronState } from '../model/cron';
import type { ClusterStore } from '../store';
import { retryForever } from './retry';

export class NodeJobs {
  private readonly jobs = new Map<string, AcceptedJob>();
  /** Every accepted cron job (each agent keeps a node-cron task per cron job, and runs need their spec). */
  private readonly cron = new Map<string, AcceptedJob>();
  /** Every cron job's run state: small, and what this node runs to completion is in it. */
  private readonly runStates = new Map<string, CronState>();
  private stopRunsWatch: (() => Promise<void>) | undefined;
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
    /** A cron job or a run state changed (or a re-list replaced them). */
    private readonly onCron: () => void = () => undefined,
  ) {}

  /** Lists (retrying until etcd answers), then watches from the listing's revision on. */
  async start(): Promise<void> {
    const snap = await retryForever(this.log, 'read cluster', () => this.store.snapshot());
    this.replace(snap.jobs, snap.revision, snap.runs);
    this.stopWatch = await this.store.watchJobs(snap.revision + 1, {
      onChange: (ev) => {
        // Already in a newer listing (we re-listed after fencing while the watch lagged).
        if (ev.revision <= this.listedAt) return;
        const cronJob = ev.type === 'put' && ev.value?.spec.type === 'cron' ? ev.value : undefined;
        if (cronJob || this.cron.has(ev.name)) {
          if (cronJob) this.cron.set(ev.name, cronJob);
          else this.cron.delete(ev.name);
          this.onCron();
        }
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
        this.onCron();
        return revision;
      },
      onError: (err) => this.log.warn({ err: err.message }, 'job watch error'),
    });
    this.stopRunsWatch = await this.store.watchRuns(snap.revision + 1, {
      onChange: (ev) => {
        if (ev.revision <= this.listedAt) return;
        if (ev.type === 'put' && ev.value) this.runStates.set(ev.name, ev.value);
        else this.runStates.delete(ev.name);
        this.onCron();
      },
      onReset: async () => {
        this.log.warn('run watch history was compacted: re-listing');
        const revision = await this.relist();
        this.onChange(undefined, undefined);
        this.onCron();
        return revision;
      },
      onError: (err) => this.log.warn({ err: err.message }, 'run watch error'),
    });
  }

  async stop(): Promise<void> {
    const stop = this.stopWatch;
    const stopRuns = this.stopRunsWatch;
    this.stopWatch = undefined;
    this.stopRunsWatch = undefined;
    await stop?.();
    await stopRuns?.();
  }

  /** Every accepted cron job. */
  cronJobs(): IterableIterator<AcceptedJob> {
    return this.cron.values();
  }

  /** The cron job `name`, if accepted. */
  cronJob(name: string): AcceptedJob | undefined {
    return this.cron.get(name);
  }

  /** Every cron job's run state. */
  runs(): IterableIterator<CronState> {
    return this.runStates.values();
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
    this.replace(s.jobs, s.revision, s.runs);
    return s.revision;
  }

  private replace(jobs: Map<string, AcceptedJob>, revision: number, runs?: Map<string, CronState>): void {
    this.jobs.clear();
    this.cron.clear();
    for (const [k, v] of jobs) {
      if (runsOn(v, this.node)) this.jobs.set(k, v);
      if (v.spec.type === 'cron') this.cron.set(k, v);
    }
    if (runs) {
      this.runStates.clear();
      for (const [k, v] of runs) this.runStates.set(k, v);
    }
    this.listedAt = Math.max(this.listedAt, revision);
  }
}

/** The job runs here, or keeps persistent volumes here (which this node deletes once the job is gone). */
export function runsOn(job: AcceptedJob, node: string): boolean {
  return job.instances.some((p) => p.node === node) || hasVolumesOn(job, node);
}
