// A node's lease and the loop that keeps it alive.
//
// etcd3's Lease class cannot attach to an existing lease id (it always
// grants a new one) and declares the lease lost after 2×TTL without contact
// even when etcd would still honour it (leases are reset to their full TTL
// when etcd restarts or changes leader). So the keepalive is ours:
//  - one LeaseKeepAlive round trip every TTL/3 (the Go client's cadence);
//  - transient failures (etcd down, partition) are retried every ≤500 ms,
//    forever: only etcd saying the lease is gone (TTL ≤ 0, "lease not
//    found") makes the session 'lost';
//  - lastRenewedAt() is the time the last successful keepalive was *sent*,
//    so `now - lastRenewedAt > ttl` is a safe "I may have lost my lease"
//    test for an agent that cannot reach etcd and must fence itself.
import type { EtcdDriver } from './driver';
import { LeaseLostError, StoreError, EtcdUnavailableError } from './errors';

export interface Clock {
  now(): number;
  /** Runs `fn` once after `ms`; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A keepalive timer alone must not keep a finished process alive.
    t.unref();
    return () => clearTimeout(t);
  },
};

export interface SessionEvents {
  /** etcd says the lease is gone: stop acting as this node (fence). */
  lost: (err: LeaseLostError) => void;
  renewed: (info: { at: number; ttlSeconds: number }) => void;
  /** A keepalive failed for a transient reason; it keeps retrying. */
  renewFailed: (err: StoreError) => void;
}

export interface NodeSession {
  readonly node: string;
  readonly leaseId: string;
  readonly ttlSeconds: number;
  /** True when registerNode re-attached to the lease of a previous agent process. */
  readonly resumed: boolean;
  /** Epoch ms when the last successful keepalive was sent. */
  lastRenewedAt(): number;
  /** True when more than the TTL has passed since the last renewal: etcd may have dropped the lease. */
  mayHaveExpired(now?: number): boolean;
  isLost(): boolean;
  /** Subscribes; returns the unsubscribe function. */
  on<E extends keyof SessionEvents>(event: E, handler: SessionEvents[E]): () => void;
  /** One keepalive now. Rejects with LeaseLostError when the lease is gone, a retryable StoreError otherwise. */
  renewNow(): Promise<void>;
  /** Stops the keepalive and revokes the lease: every key attached to it disappears now. */
  revoke(): Promise<void>;
  /** Stops the keepalive without revoking, like a crash: the keys live until the TTL runs out. */
  release(): Promise<void>;
}

const MAX_RETRY_MS = 500;
const MIN_ATTEMPT_MS = 500;
const MAX_ATTEMPT_MS = 2_000;

type State = 'alive' | 'lost' | 'ended';

export class LeaseSession implements NodeSession {
  private state: State = 'alive';
  private lastRenewed: number;
  private cancelTimer: (() => void) | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly handlers: { [E in keyof SessionEvents]: Set<SessionEvents[E]> } = {
    lost: new Set(),
    renewed: new Set(),
    renewFailed: new Set(),
  };

  constructor(
    private readonly driver: EtcdDriver,
    readonly node: string,
    readonly leaseId: string,
    readonly ttlSeconds: number,
    readonly resumed: boolean,
    /** When the lease was last known to be renewed (grant or keepalive send time). */
    renewedAt: number,
    private readonly clock: Clock = systemClock,
    private readonly onEnd: (s: LeaseSession) => void = () => undefined,
  ) {
    this.lastRenewed = renewedAt;
  }

  /** Keepalive cadence: a third of the TTL. */
  get intervalMs(): number {
    return (this.ttlSeconds * 1000) / 3;
  }

  private get retryMs(): number {
    return Math.min(MAX_RETRY_MS, this.intervalMs);
  }

  private get attemptTimeoutMs(): number {
    return Math.max(MIN_ATTEMPT_MS, Math.min(this.intervalMs, MAX_ATTEMPT_MS));
  }

  /** Starts the keepalive loop; the first round runs after `firstDelayMs`. */
  start(firstDelayMs = this.intervalMs): void {
    this.schedule(firstDelayMs);
  }

  lastRenewedAt(): number {
    return this.lastRenewed;
  }

  mayHaveExpired(now: number = this.clock.now()): boolean {
    return now - this.lastRenewed > this.ttlSeconds * 1000;
  }

  isLost(): boolean {
    return this.state === 'lost';
  }

  on<E extends keyof SessionEvents>(event: E, handler: SessionEvents[E]): () => void {
    const set = this.handlers[event] as Set<SessionEvents[E]>;
    set.add(handler);
    return () => set.delete(handler);
  }

  renewNow(): Promise<void> {
    if (this.state === 'lost') return Promise.reject(new LeaseLostError(this.leaseId));
    if (this.state === 'ended') return Promise.reject(new LeaseLostError(this.leaseId, `lease ${this.leaseId} was released by this agent`));
    this.inFlight ??= this.keepAliveOnce().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  async revoke(): Promise<void> {
    const wasAlive = this.state === 'alive';
    this.end('ended');
    if (wasAlive) await this.driver.leaseRevoke(this.leaseId);
  }

  async release(): Promise<void> {
    this.end('ended');
  }

  /**
   * The lease is gone according to etcd (keepalive, or a put that named it).
   * Idempotent; fires 'lost' once. Not fired after revoke()/release().
   */
  markLost(err: LeaseLostError = new LeaseLostError(this.leaseId)): void {
    if (this.state !== 'alive') return;
    this.end('lost');
    this.emit('lost', err);
  }

  private end(state: Exclude<State, 'alive'>): void {
    if (this.state !== 'alive') return;
    this.state = state;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.onEnd(this);
  }

  private schedule(ms: number): void {
    if (this.state !== 'alive') return;
    this.cancelTimer?.();
    this.cancelTimer = this.clock.setTimer(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    this.cancelTimer = undefined;
    try {
      await this.renewNow();
      this.schedule(this.intervalMs);
    } catch (err) {
      // LeaseLostError already ended the session; anything else is transient.
      if (!(err instanceof LeaseLostError)) this.schedule(this.retryMs);
    }
  }

  private async keepAliveOnce(): Promise<void> {
    const sentAt = this.clock.now();
    let ttl: number;
    try {
      ({ ttlSeconds: ttl } = await this.driver.leaseKeepAliveOnce(this.leaseId, this.attemptTimeoutMs));
    } catch (err) {
      if (err instanceof LeaseLostError) {
        this.markLost(err);
        throw err;
      }
      const e = err instanceof StoreError ? err : new EtcdUnavailableError(String(err), { cause: err });
      if (this.state === 'alive') this.emit('renewFailed', e);
      throw e;
    }
    if (this.state !== 'alive') return;
    if (ttl <= 0) {
      const lost = new LeaseLostError(this.leaseId);
      this.markLost(lost);
      throw lost;
    }
    this.lastRenewed = Math.max(this.lastRenewed, sentAt);
    this.emit('renewed', { at: sentAt, ttlSeconds: ttl });
  }

  private emit<E extends keyof SessionEvents>(event: E, arg: Parameters<SessionEvents[E]>[0]): void {
    for (const h of [...this.handlers[event]]) {
      try {
        (h as (a: typeof arg) => void)(arg);
      } catch {
        // A failing listener must not stop the keepalive loop.
      }
    }
  }
}
