// The only module that imports etcd3. It adapts etcd3's raw RPC clients to
// the EtcdDriver interface, sets the connection policies (deadlines, retry,
// per-host breaker, reconnect backoff) and translates every etcd3/gRPC error
// into a StoreError, once, here.
import {
  ClientClosedError,
  Etcd3,
  EtcdLeaseInvalidError,
  GRPCDeadlineExceededError,
  GRPCInvalidArgumentError,
  castGrpcError,
  isRecoverableError,
} from 'etcd3';
import type { ICompare, IKeyValue, IOptions, IRequestOp, IWatchResponse } from 'etcd3';
import type { Compare, EtcdDriver, RangeResult, StoredKv, TxnOp, TxnResult, WatchHandle } from './driver';
import {
  EtcdRequestError,
  EtcdRequestRejectedError,
  EtcdUnavailableError,
  LeaseLostError,
  StoreClosedError,
  StoreError,
} from './errors';
import { prefixRangeEnd } from './keys';

export interface EtcdDriverOptions {
  /** "http://host:port" URLs. */
  endpoints: string[];
  /** Deadline of each unary call attempt, dialing included. */
  requestTimeoutMs: number;
}

// etcd3 takes cockatiel policies. We only need `execute` (all etcd3 calls),
// so small structural implementations replace the defaults, whose 5 s
// circuit breaker would keep a single-endpoint agent offline for 5 s after
// every blip, and whose 30 s watch backoff would delay watch recovery.
type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;
type Backoff = NonNullable<FaultHandling['watchBackoff']>;
type Executable = (context: { signal: AbortSignal }) => PromiseLike<unknown> | unknown;

/** Thrown by the per-host breaker while a host is resting after repeated failures. */
class HostSuspendedError extends Error {}

const BREAKER_FAILURES = 3;
const BREAKER_REST_MS = 1000;
const RETRY_PAUSE_MS = 50;

function hostBreaker(): Policy {
  let failures = 0;
  let restUntil = 0;
  const policy = {
    async execute(fn: Executable): Promise<unknown> {
      if (Date.now() < restUntil) throw new HostSuspendedError('etcd endpoint is resting after repeated failures');
      try {
        const result = await fn({ signal: new AbortController().signal });
        failures = 0;
        return result;
      } catch (err) {
        if (err instanceof Error && isRecoverableError(err) && ++failures >= BREAKER_FAILURES) {
          failures = 0;
          restUntil = Date.now() + BREAKER_REST_MS;
        }
        throw err;
      }
    },
  };
  return policy as unknown as Policy;
}

/** Each retry goes to the next endpoint; a timeout is not retried against the only one. */
function retryAcrossHosts(hosts: number): Policy {
  const attempts = hosts === 1 ? 2 : hosts + 1;
  const policy = {
    async execute(fn: Executable): Promise<unknown> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn({ signal: new AbortController().signal });
        } catch (err) {
          const transient = err instanceof HostSuspendedError || (err instanceof Error && isRecoverableError(err));
          const pointless = hosts === 1 && err instanceof GRPCDeadlineExceededError;
          if (!transient || pointless || attempt >= attempts) throw err;
          await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
        }
      }
    },
  };
  return policy as unknown as Policy;
}

function cappedBackoff(durationMs: number, maxMs: number): Backoff {
  const backoff = { duration: durationMs, next: () => cappedBackoff(Math.min(durationMs * 2, maxMs), maxMs) };
  return backoff as unknown as Backoff;
}

/** The one place etcd3 and gRPC errors become StoreErrors. */
export function translateEtcdError(err: unknown, what: string, leaseId?: string): StoreError {
  if (err instanceof StoreError) return err;
  if (!(err instanceof Error)) return new EtcdRequestError(`${what}: ${String(err)}`);
  const e = castGrpcError(err);
  if (e instanceof EtcdLeaseInvalidError) return new LeaseLostError(leaseId ?? 'unknown', `${what}: ${e.message}`, { cause: e });
  if (e instanceof ClientClosedError) return new StoreClosedError();
  if (e instanceof HostSuspendedError || isRecoverableError(e)) {
    return new EtcdUnavailableError(`${what}: ${e.message}`, { cause: e });
  }
  if (e instanceof GRPCInvalidArgumentError) return new EtcdRequestRejectedError(`${what}: ${e.message}`, { cause: e });
  return new EtcdRequestError(`${what}: ${e.message}`, { cause: e });
}

function toStoredKv(kv: IKeyValue): StoredKv {
  return {
    key: kv.key.toString(),
    value: kv.value ?? Buffer.alloc(0),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    lease: String(kv.lease ?? '0'),
  };
}

function rangeRequest(key: string, prefix: boolean | undefined): { key: Buffer; range_end?: Buffer } {
  const k = Buffer.from(key);
  return prefix ? { key: k, range_end: prefixRangeEnd(k) } : { key: k };
}

function toCompare(c: Compare): ICompare {
  const key = Buffer.from(c.key);
  switch (c.target) {
    case 'mod':
      return { key, target: 'Mod', result: 'Equal', mod_revision: c.equals };
    case 'create':
      return { key, target: 'Create', result: 'Equal', create_revision: c.equals };
    case 'version':
      return { key, target: 'Version', result: 'Equal', version: c.equals };
    case 'lease':
      return { key, target: 'Lease', result: 'Equal', lease: c.equals };
    case 'value':
      return { key, target: 'Value', result: 'Equal', value: Buffer.from(c.equals) };
  }
}

function toRequestOp(op: TxnOp): IRequestOp {
  switch (op.op) {
    case 'put':
      return { request_put: { key: Buffer.from(op.key), value: Buffer.from(op.value), ...(op.lease ? { lease: op.lease } : {}) } };
    case 'delete':
      return { request_delete_range: { key: Buffer.from(op.key) } };
    case 'range':
      return { request_range: rangeRequest(op.key, op.prefix) };
  }
}

export function createEtcdDriver(opts: EtcdDriverOptions): EtcdDriver {
  const client = new Etcd3({
    hosts: opts.endpoints,
    // Streams (watch, keepalive) carry their own deadlines; unary calls get one per attempt.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + opts.requestTimeoutMs }),
    grpcOptions: {
      // A snapshot of many large jobs can exceed gRPC's 4 MiB default.
      'grpc.max_receive_message_length': -1,
      // Detect a silently dead connection under a watch (etcd permits pings every 5 s).
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      // Reconnect promptly once etcd is back (the default backoff grows to 120 s).
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1_000,
      'grpc.use_local_subchannel_pool': 1,
      'grpc.enable_http_proxy': 0,
    },
    faultHandling: {
      host: () => hostBreaker(),
      global: retryAcrossHosts(opts.endpoints.length),
      watchBackoff: cappedBackoff(100, 2_000),
    },
  });

  async function call<T>(what: string, fn: () => Promise<T>, leaseId?: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateEtcdError(err, what, leaseId);
    }
  }

  const driver: EtcdDriver = {
    txn: (compares, success, failure = []) =>
      call('txn', async (): Promise<TxnResult> => {
        const res = await client.kv.txn({
          compare: compares.map(toCompare),
          success: success.map(toRequestOp),
          failure: failure.map(toRequestOp),
        });
        return {
          succeeded: res.succeeded,
          revision: Number(res.header.revision),
          results: (res.responses ?? []).map((r) => (r.response_range ? r.response_range.kvs.map(toStoredKv) : [])),
        };
      }, leaseOf(success)),

    range: (key, ropts = {}) =>
      call(`get ${key}`, async (): Promise<RangeResult> => {
        const res = await client.kv.range(rangeRequest(key, ropts.prefix));
        return { revision: Number(res.header.revision), kvs: res.kvs.map(toStoredKv) };
      }),

    put: (key, value, lease) =>
      call(
        `put ${key}`,
        async () => {
          const res = await client.kv.put({ key: Buffer.from(key), value: Buffer.from(value), ...(lease ? { lease } : {}) });
          return Number(res.header.revision);
        },
        lease,
      ),

    delete: (key, dopts = {}) =>
      call(`delete ${key}`, async () => Number((await client.kv.deleteRange(rangeRequest(key, dopts.prefix))).header.revision)),

    currentRevision: () =>
      call('read revision', async () => Number((await client.kv.range({ key: Buffer.from([0]), count_only: true })).header.revision)),

    leaseGrant: (ttlSeconds) =>
      call('grant lease', async () => {
        const res = await client.leaseClient.leaseGrant({ TTL: ttlSeconds, ID: 0 });
        if (res.error) throw new EtcdRequestError(`grant lease: ${res.error}`);
        return { id: String(res.ID), ttlSeconds: Number(res.TTL) };
      }),

    leaseKeepAliveOnce: (id, timeoutMs) =>
      call(
        `keep lease ${id} alive`,
        async () => {
          const stream = await client.leaseClient.leaseKeepAlive({ deadline: Date.now() + timeoutMs });
          return new Promise<{ ttlSeconds: number }>((resolve, reject) => {
            let settled = false;
            const finish = (err: Error | undefined, ttl?: number) => {
              if (settled) return;
              settled = true;
              clearTimeout(guard);
              if (err) {
                stream.cancel();
                reject(err);
              } else {
                stream.end();
                resolve({ ttlSeconds: ttl ?? 0 });
              }
            };
            // gRPC enforces the deadline; this guard only covers a stream that never settles.
            const guard = setTimeout(() => finish(new EtcdUnavailableError('lease keepalive timed out')), timeoutMs + 500);
            stream.on('data', (res) => finish(undefined, Number(res.TTL)));
            stream.on('error', (err) => finish(translateEtcdError(err, `keep lease ${id} alive`, id)));
            stream.on('end', () => finish(new EtcdUnavailableError('lease keepalive stream ended without an answer')));
            stream.write({ ID: id });
          });
        },
        id,
      ),

    leaseTimeToLive: (id) =>
      call(
        `read lease ${id}`,
        async () => {
          const res = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
          return {
            ttlSeconds: Number(res.TTL),
            grantedTtlSeconds: Number(res.grantedTTL),
            keys: (res.keys ?? []).map((k) => k.toString()),
          };
        },
        id,
      ),

    leaseRevoke: async (id) => {
      try {
        await client.leaseClient.leaseRevoke({ ID: id });
      } catch (err) {
        const e = translateEtcdError(err, `revoke lease ${id}`, id);
        if (!(e instanceof LeaseLostError)) throw e; // already gone: that is what we wanted
      }
    },

    watch: (key, wopts, cb): WatchHandle => {
      let builder = client.watch();
      builder = wopts.rangeEnd !== undefined ? builder.inRange({ start: key, end: wopts.rangeEnd }) : wopts.prefix ? builder.prefix(key) : builder.key(key);
      if (wopts.fromRevision > 0) builder = builder.startRevision(String(wopts.fromRevision));
      const watcher = builder.watcher();
      watcher.on('connected', (res: IWatchResponse) => cb.onConnected(Number(res.header.revision)));
      watcher.on('data', (res: IWatchResponse) => {
        const events = (res.events ?? []).map((ev) => ({
          type: ev.type === 'Delete' ? ('delete' as const) : ('put' as const),
          kv: toStoredKv(ev.kv),
        }));
        if (events.length > 0) cb.onEvents(events, Number(res.header.revision));
      });
      watcher.on('disconnected', (err: Error) => cb.onDisconnected(translateEtcdError(err, `watch ${key}`)));
      // etcd3 reports a server-side cancellation (e.g. compaction) as 'error'; it drops the watcher.
      watcher.on('error', (err: Error) => cb.onCanceled(err.message));
      return {
        cancel: async () => {
          // Detaching waits for etcd's acknowledgement; do not hang on a dead connection.
          await Promise.race([watcher.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 2_000).unref())]);
        },
      };
    },

    close: () => client.close(),
  };
  return driver;
}

function leaseOf(ops: TxnOp[]): string | undefined {
  for (const op of ops) if (op.op === 'put' && op.lease) return op.lease;
  return undefined;
}
