// With etcd-watch.ts, the only modules that import etcd3. It adapts etcd3's
// raw RPC clients to the EtcdDriver interface, sets the connection policies
// (deadlines, retry, per-host breaker, reconnect backoff), TLS and etcd
// users (etcd-access.ts) and translates every etcd3/gRPC error into a
// StoreError, once, here (TLS and auth failures into EtcdAccessError with
// words a user can act on: access-errors.ts).
import {
  ClientClosedError,
  Etcd3,
  EtcdLeaseInvalidError,
  GRPCDeadlineExceededError,
  GRPCInvalidArgumentError,
  castGrpcError,
  isRecoverableError,
} from 'etcd3';
import type { ICompare, IKeyValue, IOptions, IRequestOp } from 'etcd3';
import { explainAccessFailure } from './access-errors';
import type { Compare, EtcdDriver, RangeResult, StoredKv, TxnOp, TxnResult, WatchHandle } from './driver';
import { checkAccess, tlsCredentials, type AccessSummary, type EtcdAccess } from './etcd-access';
import { openWatch } from './etcd-watch';
import {
  EtcdAccessError,
  EtcdRequestError,
  EtcdRequestRejectedError,
  EtcdUnavailableError,
  LeaseLostError,
  StoreClosedError,
  StoreError,
} from './errors';
import { prefixRangeEnd } from './keys';
import { probeTls } from './tls-probe';
import { RenewableWatchClients, sharedWatchClient, type WatchClients } from './watch-clients';

export interface EtcdDriverOptions {
  /** "http://host:port" URLs, or "https://..." for TLS. */
  endpoints: string[];
  /** Deadline of each unary call attempt, dialing included. */
  requestTimeoutMs: number;
  /** TLS (a CA, a client certificate) and an etcd user. Default: neither. */
  access?: EtcdAccess;
  /**
   * A key this client may read: currentRevision() counts it. Default "\0";
   * a user whose role covers only some prefixes needs a key inside one.
   */
  revisionKey?: string;
}

// etcd3 takes cockatiel policies. We only need `execute` (all etcd3 calls),
// so small structural implementations replace the defaults, whose 5 s
// circuit breaker would keep a single-endpoint agent offline for 5 s after
// every blip, and whose 30 s watch backoff would delay watch recovery.
type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;
type Backoff = NonNullable<FaultHandling['watchBackoff']>;
type Executable = (context: { signal: AbortSignal }) => PromiseLike<unknown> | unknown;

/** Thrown by the per-host breaker while a host is resting after repeated failures; says the last one. */
class HostSuspendedError extends Error {}

const BREAKER_FAILURES = 3;
const BREAKER_REST_MS = 1000;
const RETRY_PAUSE_MS = 50;
const PROBE_TIMEOUT_MS = 3_000;

function hostBreaker(): Policy {
  let failures = 0;
  let restUntil = 0;
  let lastFailure = '';
  const policy = {
    async execute(fn: Executable): Promise<unknown> {
      if (Date.now() < restUntil) throw new HostSuspendedError(`etcd endpoint is resting after repeated failures; the last: ${lastFailure}`);
      try {
        const result = await fn({ signal: new AbortController().signal });
        failures = 0;
        return result;
      } catch (err) {
        if (err instanceof Error && isRecoverableError(err) && ++failures >= BREAKER_FAILURES) {
          failures = 0;
          restUntil = Date.now() + BREAKER_REST_MS;
          lastFailure = err.message;
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

/**
 * The one place etcd3 and gRPC errors become StoreErrors. With `access`
 * (what the client was given), TLS and auth failures become EtcdAccessError;
 * `keys` (what the request touched) go into a permission error.
 */
export function translateEtcdError(err: unknown, what: string, leaseId?: string, access?: AccessSummary, keys?: string[]): StoreError {
  if (err instanceof StoreError) return err;
  if (!(err instanceof Error)) return new EtcdRequestError(`${what}: ${String(err)}`);
  const e = castGrpcError(err);
  const explained = access && explainAccessFailure(e.message, access, { what, ...(keys ? { keys } : {}) });
  if (explained) return new EtcdAccessError(explained, { cause: e });
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
  const access = opts.access ?? {};
  const summary = checkAccess(opts.endpoints, access);
  const credentials = tlsCredentials(access.tls);
  const newClient = (): Etcd3 =>
    new Etcd3({
      hosts: opts.endpoints,
      ...(credentials ? { credentials } : {}),
      ...(access.auth ? { auth: { username: access.auth.username, password: access.auth.password } } : {}),
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
  const client = newClient();
  // With users, watches need a client whose token can be renewed (watch-clients.ts).
  const watchClients: WatchClients<Etcd3> = access.auth ? new RenewableWatchClients(newClient) : sharedWatchClient(client);
  const revisionKey = Buffer.from(opts.revisionKey ?? '\0');
  const translate = (err: unknown, what: string, leaseId?: string, keys?: string[]): StoreError => translateEtcdError(err, what, leaseId, summary, keys);

  // gRPC does not always say why a TLS connection failed: ask with a handshake of our own (tls-probe.ts).
  const secure = opts.endpoints.every((e) => /^https:\/\//i.test(e));
  let probing: Promise<Array<string | undefined>> | undefined;
  const diagnose = async (e: StoreError, what: string): Promise<StoreError> => {
    if (!secure || !(e instanceof EtcdUnavailableError)) return e;
    probing ??= Promise.all(opts.endpoints.map((ep) => probeTls(ep, access.tls, Math.min(opts.requestTimeoutMs, PROBE_TIMEOUT_MS)))).finally(() => (probing = undefined));
    for (const why of await probing) {
      const explained = why === undefined ? undefined : explainAccessFailure(`Last error: ${why}`, summary, { what });
      if (explained) return new EtcdAccessError(explained, { cause: e });
    }
    return e;
  };

  async function call<T>(what: string, fn: () => Promise<T>, leaseId?: string, keys?: () => string[]): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw await diagnose(translate(err, what, leaseId, keys?.()), what);
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
      }, leaseOf(success), () => txnKeys(compares, success)),

    range: (key, ropts = {}) =>
      call(`get ${key}`, async (): Promise<RangeResult> => {
        const res = await client.kv.range(rangeRequest(key, ropts.prefix));
        return { revision: Number(res.header.revision), kvs: res.kvs.map(toStoredKv) };
      }, undefined, () => [key]),

    put: (key, value, lease) =>
      call(
        `put ${key}`,
        async () => {
          const res = await client.kv.put({ key: Buffer.from(key), value: Buffer.from(value), ...(lease ? { lease } : {}) });
          return Number(res.header.revision);
        },
        lease,
        () => [key],
      ),

    delete: (key, dopts = {}) =>
      call(`delete ${key}`, async () => Number((await client.kv.deleteRange(rangeRequest(key, dopts.prefix))).header.revision), undefined, () => [key]),

    currentRevision: () =>
      call('read revision', async () => Number((await client.kv.range({ key: revisionKey, count_only: true })).header.revision), undefined, () => [revisionKey.toString()]),

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
            stream.on('error', (err) => finish(translate(err, `keep lease ${id} alive`, id)));
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
        const e = translate(err, `revoke lease ${id}`, id);
        if (!(e instanceof LeaseLostError)) throw e; // already gone: that is what we wanted
      }
    },

    watch: (key, wopts, cb): WatchHandle => openWatch({ clients: watchClients, translate: (err, what) => translate(err, what, undefined, [key]), toStoredKv }, key, wopts, cb),

    close: () => {
      watchClients.close();
      client.close();
    },
  };
  return driver;
}

/** The keys a transaction compares and writes, for a permission error. */
function txnKeys(compares: Compare[], ops: TxnOp[]): string[] {
  return [...new Set([...compares.map((c) => c.key), ...ops.map((o) => o.key)])];
}

function leaseOf(ops: TxnOp[]): string | undefined {
  for (const op of ops) if (op.op === 'put' && op.lease) return op.lease;
  return undefined;
}
