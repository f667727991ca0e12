// What one instance shows the cluster: its status key and its DNS record.
//
// The supervisor states what it wants published; this writes the difference
// through the sink, one write at a time and in order. Every change of state
// is written (pending → pulling → starting...), even when it lasted less
// than a write; a newer status of the same state replaces a queued one, and
// during an outage only the last few transitions are kept. A failed write (etcd
// unreachable, lease lost) is logged and tried again on the next kick:
// losing etcd must never hold up supervision, let alone stop a container
// (invariant 5), so nothing here throws and kick() never waits.
//
// It also knows whether what it wrote routes traffic to the instance (a DNS
// record, or a status with ingress endpoints): a drain (withdraw, then
// flush) waits for `ozy ingress` to catch up only when something did.
import type { Logger } from 'pino';
import type { InstanceStatus } from '../model/cluster';
import type { DnsRecord } from '../network/dns';

/** What the node agent writes; the agent wires it to the ClusterStore and the node's lease. */
export interface NodeStatusSink {
  putStatus(s: InstanceStatus): Promise<void>;
  deleteStatus(instance: string): Promise<void>;
  putDns(key: string, rec: { host: string; port: number; ttl: number }): Promise<void>;
  deleteDns(key: string): Promise<void>;
}

/** `unknown`: leave the key as it is (an adopted instance, before its first verdict). */
export type DnsWish = { kind: 'unknown' } | { kind: 'absent' } | { kind: 'present'; record: DnsRecord };

const DELETED = '(deleted)';
/** Queued state transitions kept while writes fail; older ones are dropped. */
const MAX_QUEUED = 8;

export class StatusPublisher {
  /** Statuses to write, oldest first, each of a different state than the one before. */
  private queue: InstanceStatus[] = [];
  private wantDeleted = false;
  /** Comparison key of what was last written: JSON without updatedAt, DELETED, or undefined (nothing yet). */
  private wroteStatus: string | undefined;
  private wantDns: DnsWish = { kind: 'unknown' };
  private wroteDns: string | undefined;
  private chain: Promise<boolean> = Promise.resolve(true);
  private busy = 0;
  private lastError: string | undefined;
  /** What is written routes traffic here (a DNS record / endpoints); unknown counts as yes. */
  private dnsRoutes: boolean;
  private statusRoutes: boolean;
  /** Routes were published since the last withdraw(): what it withdrew may have been seen. */
  private routedSinceWithdraw = false;

  /**
   * `fresh`: nothing was published for this instance before (a new pod, not
   * an adopted one or containers found by label), so until it writes, no
   * DNS record or endpoints of it exist.
   */
  constructor(
    private readonly sink: NodeStatusSink,
    readonly instance: string,
    readonly dnsKey: string,
    private readonly log: Logger,
    opts: { fresh?: boolean } = {},
  ) {
    this.dnsRoutes = opts.fresh !== true;
    this.statusRoutes = opts.fresh !== true;
  }

  setStatus(status: InstanceStatus): void {
    this.wantDeleted = false;
    const last = this.queue.length - 1;
    if (last >= 0 && this.queue[last]!.state === status.state) this.queue[last] = status;
    else this.queue.push(status);
    if (this.queue.length > MAX_QUEUED) this.queue.shift();
  }

  setDns(wish: DnsWish): void {
    this.wantDns = wish;
  }

  /**
   * Takes the instance out of traffic (the first step of a drain): its DNS
   * record goes and, when given, `status` (the last one, without endpoints)
   * replaces what is queued. Write it with flush(); then `routed` says
   * whether traffic may have been routed here by what was withdrawn.
   */
  withdraw(status?: InstanceStatus): void {
    this.routedSinceWithdraw = this.dnsRoutes || this.statusRoutes;
    if (status !== undefined && !this.wantDeleted) this.queue = [status];
    this.wantDns = { kind: 'absent' };
  }

  /** Since the last withdraw(): a DNS record or endpoints were (or may have been) published. */
  get routed(): boolean {
    return this.routedSinceWithdraw;
  }

  /** The instance is gone: delete its status and DNS record. */
  retire(): void {
    this.queue = [];
    this.wantDeleted = true;
    this.wantDns = { kind: 'absent' };
  }

  /** Something differs from what was last written. */
  get dirty(): boolean {
    return this.statusOp() !== undefined || this.dnsOp() !== undefined;
  }

  /** Starts writing the difference unless a write is under way; never waits, never throws. */
  kick(): void {
    if (this.busy === 0 && this.dirty) void this.flush();
  }

  /** Writes the difference after any write under way; true when everything wanted is written. */
  flush(): Promise<boolean> {
    this.busy++;
    this.chain = this.chain.then(() => this.writeAll()).finally(() => this.busy--);
    return this.chain;
  }

  /** Resolves once no write is under way (without retrying failures). */
  async idle(): Promise<void> {
    await this.chain;
  }

  private async writeAll(): Promise<boolean> {
    try {
      // Take an instance out of DNS before anything else, put it in last.
      const dns = this.dnsOp();
      if (dns?.kind === 'delete') {
        await this.sink.deleteDns(this.dnsKey);
        this.wroteDns = DELETED;
        this.dnsRoutes = false;
      }
      for (let st = this.statusOp(); st !== undefined; st = this.statusOp()) {
        if (st.kind === 'delete') {
          await this.sink.deleteStatus(this.instance);
          this.wroteStatus = DELETED;
          this.statusRoutes = false;
        } else {
          await this.sink.putStatus(st.status);
          this.wroteStatus = st.key;
          this.statusRoutes = hasEndpoints(st.status);
          if (this.statusRoutes) this.routedSinceWithdraw = true;
          // Unless a newer status of the same state took its place meanwhile.
          if (this.queue[0] === st.status) this.queue.shift();
        }
      }
      const dnsAfter = this.dnsOp();
      if (dnsAfter?.kind === 'put') {
        await this.sink.putDns(this.dnsKey, dnsAfter.record);
        this.wroteDns = dnsAfter.key;
        this.dnsRoutes = true;
        this.routedSinceWithdraw = true;
      }
      if (this.lastError !== undefined) this.log.info({ instance: this.instance }, 'status writes work again');
      this.lastError = undefined;
      return !this.dirty;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // One line per distinct failure, not one per retry.
      if (message !== this.lastError) this.log.warn({ instance: this.instance, err: message }, 'writing instance status/DNS failed; will retry');
      this.lastError = message;
      return false;
    }
  }

  private statusOp(): { kind: 'delete' } | { kind: 'put'; status: InstanceStatus; key: string } | undefined {
    if (this.wantDeleted) return this.wroteStatus === DELETED ? undefined : { kind: 'delete' };
    // Drop what is already written (the same status, only a newer timestamp).
    while (this.queue.length > 0) {
      const status = this.queue[0]!;
      const key = statusKey(status);
      if (key !== this.wroteStatus) return { kind: 'put', status, key };
      this.queue.shift();
    }
    return undefined;
  }

  private dnsOp(): { kind: 'delete' } | { kind: 'put'; record: DnsRecord; key: string } | undefined {
    const w = this.wantDns;
    if (w.kind === 'unknown') return undefined;
    if (w.kind === 'absent') return this.wroteDns === DELETED ? undefined : { kind: 'delete' };
    const key = JSON.stringify(w.record);
    return key === this.wroteDns ? undefined : { kind: 'put', record: w.record, key };
  }
}

function hasEndpoints(s: InstanceStatus): boolean {
  return s.endpoints !== undefined && Object.keys(s.endpoints).length > 0;
}

function statusKey(s: InstanceStatus): string {
  const { updatedAt: _ignored, ...rest } = s;
  return JSON.stringify(rest);
}
