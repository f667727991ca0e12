// A wrapper around the store's etcd driver that counts what the client asks
// of etcd: requests, operations, bytes written and bytes read; lease calls
// (grants, keepalives, revokes); and what watches deliver (events, bytes). The store
// accepts a driver (StoreOptions.driver), so the real ClusterStore code runs
// unchanged against a real etcd while every call passes through here.
import type { Compare, EtcdDriver, RangeResult, StoredKv, TxnOp, TxnResult, WatchCallbacks, WatchHandle, WatchOptions } from '../../src/store/driver';
import { createEtcdDriver } from '../../src/store/etcd-driver';

export interface DriverCounts {
  /** Transactions sent (read-only snapshots included). */
  txns: number;
  /** Standalone requests outside transactions: range, put, delete. */
  requests: number;
  puts: number;
  deletes: number;
  ranges: number;
  compares: number;
  /** Keys + values of puts and keys of deletes. */
  bytesWritten: number;
  /** Keys + values returned by ranges. */
  bytesRead: number;
  /** The largest transaction seen: operations (compares included) and bytes of keys + values. */
  maxTxnOps: number;
  maxTxnBytes: number;
  /** Lease RPCs: grants, keepalive round trips, time-to-live reads, revokes. */
  leaseGrants: number;
  keepAlives: number;
  leaseReads: number;
  leaseRevokes: number;
  /** currentRevision() reads (a count-only range). */
  revisionReads: number;
  /** Watches opened (each is one create request on the watch stream). */
  watchesOpened: number;
  /** Events delivered by watches, and their keys + values. */
  watchEvents: number;
  watchBytes: number;
}

export function zeroCounts(): DriverCounts {
  return {
    txns: 0,
    requests: 0,
    puts: 0,
    deletes: 0,
    ranges: 0,
    compares: 0,
    bytesWritten: 0,
    bytesRead: 0,
    maxTxnOps: 0,
    maxTxnBytes: 0,
    leaseGrants: 0,
    keepAlives: 0,
    leaseReads: 0,
    leaseRevokes: 0,
    revisionReads: 0,
    watchesOpened: 0,
    watchEvents: 0,
    watchBytes: 0,
  };
}

/** Every request sent to etcd (unary calls, lease calls and watch creations; not watch events). */
export function totalRequests(c: DriverCounts): number {
  return c.txns + c.requests + c.leaseGrants + c.keepAlives + c.leaseReads + c.leaseRevokes + c.revisionReads + c.watchesOpened;
}

/** a − b, field by field (maxima: a's). */
export function diffCounts(a: DriverCounts, b: DriverCounts): DriverCounts {
  const out = zeroCounts();
  for (const k of Object.keys(out) as Array<keyof DriverCounts>) out[k] = k.startsWith('max') ? a[k] : a[k] - b[k];
  return out;
}

const kvBytes = (kvs: readonly StoredKv[]): number => kvs.reduce((s, kv) => s + Buffer.byteLength(kv.key) + kv.value.length, 0);

function opBytes(op: TxnOp): number {
  return op.op === 'put' ? Buffer.byteLength(op.key) + Buffer.byteLength(op.value) : Buffer.byteLength(op.key);
}

export class CountingDriver implements EtcdDriver {
  counts: DriverCounts = zeroCounts();

  constructor(private readonly inner: EtcdDriver) {}

  static connect(endpoints: string[], requestTimeoutMs = 10_000): CountingDriver {
    return new CountingDriver(createEtcdDriver({ endpoints, requestTimeoutMs }));
  }

  /** Current counts, then start from zero (maxima included). */
  reset(): DriverCounts {
    const c = this.counts;
    this.counts = zeroCounts();
    return c;
  }

  private countOps(ops: readonly TxnOp[]): number {
    let bytes = 0;
    for (const op of ops) {
      if (op.op === 'put') this.counts.puts++;
      else if (op.op === 'delete') this.counts.deletes++;
      else this.counts.ranges++;
      if (op.op !== 'range') {
        const b = opBytes(op);
        this.counts.bytesWritten += b;
        bytes += b;
      }
    }
    return bytes;
  }

  async txn(compares: Compare[], success: TxnOp[], failure?: TxnOp[]): Promise<TxnResult> {
    this.counts.txns++;
    this.counts.compares += compares.length;
    const ops = compares.length + Math.max(success.length, failure?.length ?? 0);
    const bytes = success.reduce((s, op) => s + (op.op === 'range' ? 0 : opBytes(op)), 0);
    this.counts.maxTxnOps = Math.max(this.counts.maxTxnOps, ops);
    this.counts.maxTxnBytes = Math.max(this.counts.maxTxnBytes, bytes);
    const res = await this.inner.txn(compares, success, failure);
    // Count the branch that ran.
    this.countOps(res.succeeded ? success : (failure ?? []));
    for (const kvs of res.results) this.counts.bytesRead += kvBytes(kvs);
    return res;
  }

  async range(key: string, opts?: { prefix?: boolean }): Promise<RangeResult> {
    this.counts.requests++;
    this.counts.ranges++;
    const res = await this.inner.range(key, opts);
    this.counts.bytesRead += kvBytes(res.kvs);
    return res;
  }

  put(key: string, value: string, lease?: string): Promise<number> {
    this.counts.requests++;
    this.countOps([{ op: 'put', key, value }]);
    return this.inner.put(key, value, lease);
  }

  delete(key: string, opts?: { prefix?: boolean }): Promise<number> {
    this.counts.requests++;
    this.countOps([{ op: 'delete', key }]);
    return this.inner.delete(key, opts);
  }

  currentRevision(): Promise<number> {
    this.counts.revisionReads++;
    return this.inner.currentRevision();
  }
  leaseGrant(ttlSeconds: number): Promise<{ id: string; ttlSeconds: number }> {
    this.counts.leaseGrants++;
    return this.inner.leaseGrant(ttlSeconds);
  }
  leaseKeepAliveOnce(id: string, timeoutMs: number): Promise<{ ttlSeconds: number }> {
    this.counts.keepAlives++;
    return this.inner.leaseKeepAliveOnce(id, timeoutMs);
  }
  leaseTimeToLive(id: string): Promise<{ ttlSeconds: number; grantedTtlSeconds: number; keys: string[] }> {
    this.counts.leaseReads++;
    return this.inner.leaseTimeToLive(id);
  }
  leaseRevoke(id: string): Promise<void> {
    this.counts.leaseRevokes++;
    return this.inner.leaseRevoke(id);
  }
  watch(key: string, opts: WatchOptions, callbacks: WatchCallbacks): WatchHandle {
    this.counts.watchesOpened++;
    return this.inner.watch(key, opts, {
      ...callbacks,
      onConnected: (revision) => callbacks.onConnected(revision),
      onCanceled: (reason) => callbacks.onCanceled(reason),
      onDisconnected: (err) => callbacks.onDisconnected(err),
      onEvents: (events, revision) => {
        this.counts.watchEvents += events.length;
        for (const ev of events) this.counts.watchBytes += Buffer.byteLength(ev.kv.key) + ev.kv.value.length;
        callbacks.onEvents(events, revision);
      },
    });
  }
  close(): void {
    this.inner.close();
  }
}
