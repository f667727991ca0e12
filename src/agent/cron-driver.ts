// Cron on every agent (docs/cron.md). Each agent keeps a node-cron task per
// cron job (cron-tasks.ts). When a job's time comes:
//   - the poller (it holds the watch-fed schedule) runs a cron round at once;
//   - every other agent waits `backupDelayMs`, reads the job's cursor, and if
//     the time is still unclaimed (the poller died, or is cut off) runs the
//     round itself on a fresh snapshot.
// Whoever runs it, the round commits guarded by the schedule revision it read
// (store/cron-store.ts), so a scheduled time is claimed at most once however
// many agents race, and not lost while one agent lives. The poller also runs
// a round whenever the schedule changes in a way runs care about (a node
// died, a run ended, a job changed), when a pending run's deadline passes,
// and every `safetyMs` in case a tick was lost.
import type { Logger } from 'pino';
import type { AcceptedJob } from '../model/cluster';
import type { CronPolicy } from '../model/job';
import { cronRound, type CronEvent, type CronRound, type ScheduleTimes } from '../cron/round';
import { cronPolicyOf } from '../cron/run-load';
import type { ClusterSnapshot, ClusterStore, ScheduleCache, ScheduleCacheChange } from '../store';
import { encodeValue } from '../store/codec';
import { CronTasks } from './cron-tasks';
import { Loop } from './loop';

export interface CronDriverOptions {
  log: Logger;
  /** A job's compiled schedule (cron/next-run.ts scheduleTimes, which caches per expression and zone); undefined when it cannot. */
  compile(policy: CronPolicy): ScheduleTimes | undefined;
  /** Wall clock (ms). */
  now?: () => number;
  /** How long a non-poller waits before checking that a due time was claimed. Default 2000 ms. */
  backupDelayMs?: number;
  /** The poller's round period when nothing kicks it. Default 10 s. */
  safetyMs?: number;
  /** Every event of every committed round (logs, benchmarks). */
  onEvents?(events: readonly CronEvent[]): void;
}

const MAX_ATTEMPTS = 8;
/** How long to wait for the watch to show a commit (ours or the winner's). */
const CATCH_UP_MS = 3_000;

export class CronDriver {
  private readonly tasks: CronTasks;
  private readonly loop: Loop;
  private readonly now: () => number;
  private cache: ScheduleCache | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private backupTimer: NodeJS.Timeout | undefined;
  /** Due times a follower checks after backupDelayMs: job → latest time (unix s). */
  private readonly backups = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly store: ClusterStore,
    private readonly opts: CronDriverOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.tasks = new CronTasks((jobs, at) => this.due(jobs, at));
    this.loop = new Loop('cron', opts.safetyMs ?? 10_000, () => this.pollerRound(), opts.log);
  }

  /** The accepted cron jobs changed (from the job watch every agent has). */
  setJobs(jobs: Iterable<AcceptedJob>): void {
    if (!this.stopped) this.tasks.sync(jobs);
  }

  /** This agent became the poller: rounds run on its watch-fed schedule. */
  attach(cache: ScheduleCache): void {
    this.cache = cache;
    this.loop.start();
  }

  /** No longer the poller. */
  async detach(): Promise<void> {
    this.cache = undefined;
    clearTimeout(this.wakeTimer);
    await this.loop.stop();
  }

  /** The poller's schedule changed: runs care about nodes, jobs and runs. */
  onScheduleChange(what: ReadonlySet<ScheduleCacheChange>): void {
    if (this.cache && (what.has('nodes') || what.has('jobs') || what.has('runs'))) this.loop.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.tasks.stop();
    clearTimeout(this.backupTimer);
    await this.detach();
  }

  /** A node-cron task fired for `jobs`. */
  private due(jobs: ReadonlySet<string>, atMs: number): void {
    if (this.cache) {
      this.loop.kick();
      return;
    }
    const at = Math.floor(atMs / 1000);
    for (const job of jobs) this.backups.set(job, Math.max(at, this.backups.get(job) ?? 0));
    if (this.backupTimer === undefined) {
      this.backupTimer = setTimeout(() => {
        this.backupTimer = undefined;
        void this.checkBackups().catch((err: unknown) => this.opts.log.warn({ err: errText(err) }, 'cron backup check failed'));
      }, this.opts.backupDelayMs ?? 2_000);
      this.backupTimer.unref();
    }
  }

  /** A follower: were the times that came claimed? If not, claim them. */
  private async checkBackups(): Promise<void> {
    const due = [...this.backups];
    this.backups.clear();
    if (due.length === 0 || this.cache || this.stopped) return;
    const snap = await this.store.snapshot();
    const unclaimed = due.filter(([job, at]) => (snap.runs.get(job)?.cursor ?? 0) < at && snap.jobs.has(job));
    if (unclaimed.length === 0) return;
    this.opts.log.warn({ jobs: unclaimed.map(([j]) => j) }, 'scheduled times not claimed in time: claiming them');
    await this.decideAndCommit(async (fresh) => (fresh ? this.store.snapshot() : snap));
  }

  private async pollerRound(): Promise<void> {
    const cache = this.cache;
    if (!cache) return;
    await this.decideAndCommit(async () => cache.snapshot(), cache);
  }

  /** Decide on a snapshot, commit, and on a lost race decide again on a newer one. */
  private async decideAndCommit(read: (fresh: boolean) => Promise<ClusterSnapshot>, cache?: ScheduleCache): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const t0 = performance.now();
      const snap = await read(attempt > 0);
      // Nothing was ever scheduled: there are no cron jobs, and no mark to keep.
      if (!snap.schedule) return;
      const t1 = performance.now();
      const round = cronRound({
        nowMs: this.now(),
        nodes: snap.nodes,
        jobs: snap.jobs,
        runs: snap.runs,
        times: (job) => this.timesOf(job),
      });
      this.armWake(round.wakeAt);
      if (!hasWrites(round)) return;
      const t2 = performance.now();
      const res = await this.store.cron.commit(snap.scheduleRevision, encodeValue(snap.schedule), round, snap.runRevisions ?? new Map());
      // Won: our writes must be in the view before the next round; lost: what beat us must be.
      if (cache && !(await cache.waitUntil(() => cache.revision >= res.revision, CATCH_UP_MS))) await cache.relist();
      this.opts.log.debug(
        { attempt, ok: res.ok, readMs: Math.round(t1 - t0), decideMs: Math.round(t2 - t1), commitMs: Math.round(performance.now() - t2), runs: round.putRuns.length, records: round.history.length },
        'cron round',
      );
      // What landed is done (a round cut short is completed by the next one, on a fresh view).
      this.report(round.events.filter((e) => res.appliedJobs.has(e.job)));
      await this.trim(round, snap.jobs, res.appliedJobs);
      if (res.ok) return;
    }
    this.opts.log.warn('cron round lost the race too often; the next tick tries again');
  }

  private report(events: readonly CronEvent[]): void {
    const { log } = this.opts;
    for (const e of events) {
      if (e.what === 'placed' || e.what === 'claimed') log.debug(e, `run ${e.what}`);
      else log.info(e, `run ${e.what}`);
    }
    this.opts.onEvents?.(events);
  }

  /** Records beyond each job's history bounds go once the round that added them is in. */
  private async trim(round: CronRound, jobs: ReadonlyMap<string, AcceptedJob>, applied: ReadonlySet<string>): Promise<void> {
    const touched = new Set(round.history.map((h) => h.job).filter((j) => applied.has(j)));
    for (const name of touched) {
      const job = jobs.get(name);
      const policy = job ? cronPolicyOf(job) : undefined;
      if (policy) await this.store.cron.trimHistory(name, policy.history);
    }
  }

  private armWake(at: number | undefined): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    if (at === undefined || !this.cache) return;
    this.wakeTimer = setTimeout(() => this.loop.kick(), Math.max(0, at - this.now()));
    this.wakeTimer.unref();
  }

  private timesOf(job: AcceptedJob): ScheduleTimes | undefined {
    const policy = cronPolicyOf(job);
    return policy ? this.opts.compile(policy) : undefined;
  }
}

function hasWrites(r: CronRound): boolean {
  return r.putRuns.length > 0 || r.deleteRuns.length > 0 || r.history.length > 0;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
