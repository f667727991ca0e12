// The poller's side of an agent: the poll claim (agent/poll-claim.ts) and,
// while this agent holds it, the watch-fed schedule (ScheduleCache behind
// CachedSchedule) and the brain loop that fetches git and decides for the
// cluster — every --poll, and at once when the schedule changes (a node
// joins or dies). Without the claim it only watches the claim key.
// Knows nothing of containers: `ozy agent` wires it next to its node loop,
// and the scale simulation (bench/scale.ts) runs it as is for N agents.
import type { Logger } from 'pino';
import type { ClusterStore, ScheduleCache, ScheduleCacheChange } from '../store';
import { Brain, type BrainOptions, type RoundResult } from './brain';
import { CachedSchedule } from './cached-schedule';
import type { GitPort, StorePort } from './ports';
import { PollClaim } from './poll-claim';
import { Loop } from './loop';
import { retryForever } from './retry';
import { RolloutObserver } from './rollout-observer';

/**
 * While a rolling update runs, the brain decides this often even when git and
 * etcd are quiet: batches advance on the instances' health.
 */
export const ROLLOUT_TICK_MS = 1000;

export interface PollerRoleOptions {
  node: string;
  agentId: string;
  /** --poll: git is fetched at most once per interval; the claim's TTL follows it. */
  pollMs: number;
  brain: Omit<BrainOptions, 'node' | 'log'>;
  log: Logger;
  /** After each round, before the claim and the status are published (e.g. kick the node loop on a commit); `seconds` it took. */
  onRound?(result: RoundResult, seconds: number): void;
  /** A round threw (etcd away...): it is retried on the next tick. */
  onRoundError?(seconds: number): void;
  /** Publish the agent's status record (agentStatus()): after each round and when polling stops. */
  publishStatus(): Promise<void>;
  /** This agent took up (cache) or gave up (undefined) the poller's work: the cron driver runs its rounds on the cache. */
  onDriving?(cache: ScheduleCache | undefined): void | Promise<void>;
  /** Every change of the watch-fed schedule while polling (the cron driver follows it). */
  onScheduleChange?(what: ReadonlySet<ScheduleCacheChange>): void;
  /** Random source of the claim's take-over jitter. */
  random?: () => number;
}

/** What `ozy status` shows of an agent's role (the agent adds its timestamp). */
export interface PollerStatus {
  role: 'poller' | 'follower';
  head: string | null;
  gitError: string | null;
  lastRound: RoundResult['kind'] | null;
  agentId: string;
}

/**
 * The poll claim's lease TTL: a dead poller is replaced within about one poll
 * interval, but never under 3 s, so a short stall of the poller's event loop
 * (a cold first render, a long GC) does not cost it the claim: the keepalive
 * runs every TTL/3 and survives a stall of up to 2/3 of the TTL.
 */
export function claimTtlSeconds(pollMs: number): number {
  return Math.max(3, Math.ceil(pollMs / 1000));
}

export class PollerRole {
  readonly brain: Brain;
  readonly claim: PollClaim;
  private readonly brainLoop: Loop;
  /** While we hold the poll claim: the watch-fed schedule the brain decides on. */
  private driving: { cache: ScheduleCache; port: CachedSchedule } | undefined;
  /** Serialises taking up and giving up the poller's work. */
  private roleChange: Promise<void> = Promise.resolve();
  private lastFetchAt = -Infinity;
  private rolloutTimer: NodeJS.Timeout | undefined;
  private lastRoundKind?: RoundResult['kind'];
  private stopped = false;

  constructor(
    private readonly store: ClusterStore,
    git: GitPort,
    private readonly opts: PollerRoleOptions,
  ) {
    const { log } = opts;
    const observer = new RolloutObserver((refs) => store.readInstanceStatuses(refs));
    this.brain = new Brain(git, this.drivingPort(), {
      ...opts.brain,
      node: opts.node,
      log: log.child({ loop: 'brain' }),
      observeRollouts: (jobs) => observer.observe(jobs),
    });
    this.brainLoop = new Loop('brain', opts.pollMs, () => this.round(), log);
    this.claim = new PollClaim(store, {
      node: opts.node,
      agentId: opts.agentId,
      ttlSeconds: claimTtlSeconds(opts.pollMs),
      log: log.child({ loop: 'poll-claim' }),
      onAcquired: () => this.changeRole(() => this.startDriving()),
      onLost: () => this.changeRole(() => this.stopDriving()),
      ...(opts.random ? { random: opts.random } : {}),
    });
  }

  /** True while this agent polls git and decides (it holds the claim and its schedule cache is open). */
  get polling(): boolean {
    return this.driving !== undefined;
  }

  /** The schedule cache of the current term as poller (undefined while following). */
  get cache(): ScheduleCache | undefined {
    return this.driving?.cache;
  }

  get lastRound(): RoundResult['kind'] | undefined {
    return this.lastRoundKind;
  }

  /** Starts watching the claim (and polling once it is ours). */
  start(): Promise<void> {
    return this.claim.start();
  }

  /** Gives the claim up (revoked: a follower takes over at once) and stops polling. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.claim.stop();
    await this.changeRole(() => this.stopDriving());
  }

  /** Decide now (while polling), e.g. after the node registered anew. */
  kick(): void {
    this.brainLoop.kick();
  }

  agentStatus(): PollerStatus {
    const polling = this.polling;
    return {
      role: polling ? 'poller' : 'follower',
      head: polling ? (this.brain.head ?? null) : null,
      gitError: polling ? (this.brain.gitError ?? null) : null,
      lastRound: polling ? (this.lastRoundKind ?? null) : null,
      agentId: this.opts.agentId,
    };
  }

  /** Role changes run one after another (a claim lost while it was being taken up waits). */
  private changeRole(step: () => Promise<void>): Promise<void> {
    this.roleChange = this.roleChange.then(step).catch((err: unknown) => {
      this.opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'changing the poller role failed');
    });
    return this.roleChange;
  }

  private async startDriving(): Promise<void> {
    if (this.stopped || this.driving || !this.claim.held) return;
    // Every change of the schedule's keys (a node joining or dying, another agent's
    // commit) is a reason to decide again; our own commits come back as idle rounds.
    const cache = await retryForever(this.opts.log, 'list the schedule', () =>
      this.store.openScheduleCache({
        onChange: (what) => {
          // A cron write (runs/ and the guard key) is the cron driver's business, not git's.
          if (!isCronOnly(what)) this.brainLoop.kick();
          this.opts.onScheduleChange?.(what);
        },
        onError: (err) => this.opts.log.warn({ err: err.message }, 'schedule watch error'),
      }),
    );
    if (this.stopped || !this.claim.held) {
      await cache.close();
      return;
    }
    this.driving = { cache, port: new CachedSchedule(this.store, cache) };
    this.lastFetchAt = -Infinity;
    this.brainLoop.start();
    await this.opts.onDriving?.(cache);
  }

  /** The next round of a rolling update, unless something kicks the loop first. */
  private tickSoon(): void {
    if (this.rolloutTimer !== undefined) return;
    this.rolloutTimer = setTimeout(() => {
      this.rolloutTimer = undefined;
      if (this.driving) this.brainLoop.kick();
    }, ROLLOUT_TICK_MS);
    this.rolloutTimer.unref();
  }

  private async stopDriving(): Promise<void> {
    clearTimeout(this.rolloutTimer);
    this.rolloutTimer = undefined;
    const d = this.driving;
    if (!d) return;
    await this.opts.onDriving?.(undefined);
    await this.brainLoop.stop();
    this.driving = undefined;
    await d.cache.close();
    await this.opts.publishStatus().catch(() => undefined);
  }

  /** The brain's store: the watch-fed schedule of the current term as poller. */
  private drivingPort(): StorePort {
    const port = (): CachedSchedule => {
      if (!this.driving) throw new Error('not the poller: no schedule to decide on');
      return this.driving.port;
    };
    return {
      snapshot: () => port().snapshot(),
      commitSchedule: (guard, writes, meta) => port().commitSchedule(guard, writes, meta),
      markReportsPushed: (revision) => port().markReportsPushed(revision),
    };
  }

  private async round(): Promise<void> {
    // Cut off from etcd for a whole claim TTL: the claim may be another agent's by now.
    if (!this.claim.held) return;
    // Git is fetched once per poll interval, however often cluster changes kick the loop.
    const now = performance.now();
    const fetch = now - this.lastFetchAt >= this.opts.pollMs * 0.9;
    if (fetch) this.lastFetchAt = now;
    let result: RoundResult;
    try {
      result = await this.brain.tick({ fetch });
    } catch (err) {
      this.opts.onRoundError?.((performance.now() - now) / 1000);
      throw err;
    }
    this.lastRoundKind = result.kind;
    if (this.brain.rollouts) this.tickSoon();
    this.opts.onRound?.(result, (performance.now() - now) / 1000);
    await this.claim.publish({ ...(this.brain.head ? { head: this.brain.head } : {}), ...(this.brain.gitError ? { gitError: this.brain.gitError } : {}) });
    await this.opts.publishStatus();
  }
}

/** Only cron runs changed (and the guard key they bump). */
export function isCronOnly(what: ReadonlySet<ScheduleCacheChange>): boolean {
  return what.has('runs') && [...what].every((c) => c === 'runs' || c === 'schedule' || c === 'reports');
}
