// One agent polls git for the whole cluster and decides its changes; the
// others follow. Not a leader election: the claim is just an etcd key on a
// short lease of its own (TTL ≈ one poll interval), and nothing depends on
// who holds it for safety — every schedule write is still a guarded
// transaction, so two agents that both believe they hold it (a claim lapsing
// under a paused process) are as safe as two racing agents always were.
// What it buys: the git server sees one poller's requests per interval
// whatever the number of agents, and a change is decided by one agent
// instead of N racing the same transaction.
//
//   1. watch the claim key; when it is absent, wait a random moment (so N
//      followers do not all grant leases at once), then try to create it
//   2. holding it: onAcquired; its lease is kept alive like a node's
//   3. its lease lost (we were cut off or paused): onLost, back to 1
import type { Logger } from 'pino';
import type { ClusterStore, NodeSession, PollerClaim } from '../store';

export interface PollClaimOptions {
  node: string;
  agentId: string;
  /** The claim's lease TTL: how soon a dead poller is replaced. */
  ttlSeconds: number;
  log: Logger;
  onAcquired(): void;
  onLost(): void;
  /** Random source for the take-over jitter (tests pass a seeded one). */
  random?: () => number;
}

const RETRY_MS = 1_000;

export class PollClaim {
  private session: NodeSession | undefined;
  private holder: PollerClaim | null = null;
  private stopWatch: (() => Promise<void>) | undefined;
  private pending: NodeJS.Timeout | undefined;
  private trying = false;
  private stopped = false;
  private published: PollerClaim;
  private view = '';

  constructor(
    private readonly store: ClusterStore,
    private readonly opts: PollClaimOptions,
  ) {
    this.published = { node: opts.node, agentId: opts.agentId };
  }

  /**
   * Ours, as far as we can tell: etcd has not said the lease is gone, and a
   * whole TTL has not passed since the last renewal (cut off from etcd, the
   * claim may already be someone else's: stop polling git meanwhile).
   */
  get held(): boolean {
    return this.session !== undefined && !this.session.isLost() && !this.session.mayHaveExpired();
  }

  /** Who polls (as last seen): ourselves when held. */
  get poller(): PollerClaim | null {
    return this.held ? this.published : this.holder;
  }

  async start(): Promise<void> {
    const w = await this.store.watchPoller(
      (claim) => this.onClaimChanged(claim),
      (err) => this.opts.log.debug({ err: err.message }, 'poller watch interrupted'),
    );
    this.stopWatch = w.stop;
    this.onClaimChanged(w.current);
  }

  /** Gives the claim up at once (revoked, so a follower takes over without waiting for the TTL). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pending);
    await this.stopWatch?.();
    const s = this.session;
    this.session = undefined;
    await s?.revoke().catch(() => undefined);
  }

  /** Records what the poller's last fetch found, for `ozy status` (written when it changes). Only while held. */
  async publish(fields: { head?: string; gitError?: string }): Promise<void> {
    const view = JSON.stringify(fields);
    if (!this.session || view === this.view) return;
    await this.store.putPollerView(this.session, { agentId: this.opts.agentId, ...fields });
    this.view = view;
    this.published = { node: this.opts.node, agentId: this.opts.agentId, ...fields };
  }

  private onClaimChanged(claim: PollerClaim | null): void {
    if (this.stopped) return;
    if (claim && claim.agentId === this.opts.agentId) return;
    this.holder = claim;
    if (claim === null && !this.held) this.tryLater(this.jitterMs());
  }

  /** Spreads N followers' attempts over a quarter of the TTL; the first one's put cancels the rest. */
  private jitterMs(): number {
    return Math.floor((this.opts.random ?? Math.random)() * Math.min(1_000, (this.opts.ttlSeconds * 1000) / 4));
  }

  private tryLater(ms: number): void {
    if (this.pending || this.stopped) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.tryClaim();
    }, ms);
    this.pending.unref();
  }

  private async tryClaim(): Promise<void> {
    if (this.trying || this.held || this.stopped || this.holder !== null) return;
    this.trying = true;
    try {
      const res = await this.store.claimPoller({ node: this.opts.node, agentId: this.opts.agentId }, this.opts.ttlSeconds);
      if ('holder' in res) {
        this.holder = res.holder ?? null;
        // Held by someone whose key vanished between our attempt and the read: try again.
        if (this.holder === null) this.tryLater(this.jitterMs());
        return;
      }
      if (this.stopped) {
        await res.session.revoke().catch(() => undefined);
        return;
      }
      this.session = res.session;
      this.published = { node: this.opts.node, agentId: this.opts.agentId };
      this.view = '';
      res.session.on('lost', () => this.onLeaseLost(res.session));
      this.opts.log.info({ lease: res.session.leaseId }, 'polling git for the cluster');
      this.opts.onAcquired();
    } catch (err) {
      this.opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'claiming the poller failed; retrying');
      this.tryLater(RETRY_MS);
    } finally {
      this.trying = false;
    }
  }

  private onLeaseLost(session: NodeSession): void {
    if (this.session !== session) return;
    this.session = undefined;
    this.opts.log.warn({ lease: session.leaseId }, 'poll claim lost: following again');
    this.opts.onLost();
    if (this.holder === null) this.tryLater(this.jitterMs());
  }
}
