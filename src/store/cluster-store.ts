// ClusterStore: everything Ozymandias keeps in etcd, in the layout of
// docs/architecture.md. Nodes register under a lease; the schedule (jobs +
// placements + rejections) changes only through transactions guarded by the
// `/schedule` key's mod revision (invariant 3); per-node keys (status, agent
// status, DNS records) hang on the node's lease so they vanish with it.
import type { NodeCpu } from '../model/autoscale';
import type { AcceptedJob, InstanceStatus, NodeInfo, Rejection } from '../model/cluster';
import type { CronState } from '../model/cron';
import { MAX_TXN_PAYLOAD_BYTES } from './chunks';
import {
  decodeAcceptedJob,
  decodeCronState,
  decodeDnsRecord,
  decodeInstanceStatus,
  decodeNodeCpu,
  decodeNodeInfo,
  decodeObject,
  decodeScheduleMark,
  dnsRecordProblem,
  encodeValue,
  nodeCpuProblem,
  type Decoded,
  type DnsRecord,
  type ScheduleMark,
} from './codec';
import type { EtcdDriver, StoredKv, TxnOp, TxnResult, WatchHandle } from './driver';
import type { EtcdAuth, EtcdTls } from './etcd-access';
import { createEtcdDriver } from './etcd-driver';
import {
  CorruptValueError,
  InvalidStoreArgumentError,
  LeaseLostError,
  NodeAlreadyRegisteredError,
  StoreClosedError,
  ValueTooLargeError,
} from './errors';
import { KeyLayout, keyName } from './keys';
import { decodeNamedNode, decodeNamedRejection, decodeNamedStatus, decodeKnownZones, decodeReportsMark } from './named-decoders';
import { LeaseSession, systemClock, type Clock, type NodeSession } from './session';
import { roundTransactions } from './round-txns';
import { PrefixMirror, type Mirror, type MirrorHandlers } from './prefix-mirror';
import { CronStore } from './cron-store';
import { ScheduleCache, type ScheduleCacheHandlers } from './schedule-cache';
import { PrefixWatch, type StopWatch, type WatchChange, type WatchHandlers } from './watch';

export interface StoreOptions {
  /** etcd client URLs, e.g. ["http://127.0.0.1:2379"]; at least one. */
  endpoints: string[];
  /** Prefix of every Ozymandias key. Default "/ozy". */
  prefix?: string;
  /** Prefix of the CoreDNS records (the etcd plugin's `path`). Default "/skydns". */
  dnsPrefix?: string;
  /** Deadline of one request attempt to one endpoint, connecting included. Default 5000 ms. */
  requestTimeoutMs?: number;
  /** TLS: etcd's CA, a client certificate and its key (PEM contents, read by the caller). Needs https:// endpoints. */
  tls?: EtcdTls;
  /** An etcd user; its role needs readwrite on `prefix` and `dnsPrefix` (docs/security.md). */
  auth?: EtcdAuth;
  /** Told about each stored value skipped because it is not what we expect. Default: ignored. */
  onCorrupt?: (err: CorruptValueError) => void;
  /** Time source of lease bookkeeping and timestamps. Default: the system clock. */
  clock?: Clock;
  /** Tests only: talk to this driver instead of etcd. */
  driver?: EtcdDriver;
}

/** etcd refuses shorter leases. */
export const MIN_LEASE_TTL_SECONDS = 2;
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/** The cluster state at one etcd revision. */
export interface ClusterSnapshot {
  revision: number;
  /** The last revision that changed nodes, jobs, rejections or the schedule mark (default: revision). */
  inputsRevision?: number;
  /** The last revision at which only cron runs changed (a watch-fed cache tracks it; default: revision). */
  runsRevision?: number;
  /** The last revision that changed the nodes or the known zones (a watch-fed cache tracks it; default: revision). */
  nodesRevision?: number;
  /** mod_revision of the `/schedule` guard key; 0 when no schedule was ever committed. */
  scheduleRevision: number;
  /** Who committed the last schedule, for which git commit. */
  schedule?: ScheduleMark;
  /** The schedule revision whose rejections were last pushed to the repository (0: never). */
  reportsRevision: number;
  /** Registered (hence alive: their lease holds) nodes, by name. */
  nodes: NodeInfo[];
  /** Every zone a node ever registered with, sorted (key known-zones). */
  zones?: string[];
  jobs: Map<string, AcceptedJob>;
  rejections: Map<string, Rejection>;
  /** Cron jobs' claim cursors and active runs, by job. */
  runs: Map<string, CronState>;
  /** mod_revision of each job's run state: a cron commit compares them (store/cron-store.ts). */
  runRevisions?: Map<string, number>;
  /** Values that were skipped because they are corrupt. */
  corrupt: CorruptValueError[];
}

export interface ScheduleWrites {
  putJobs: AcceptedJob[];
  deleteJobs: string[];
  putRejections: Rejection[];
  deleteRejections: string[];
  /**
   * The accepted jobs the round was decided on, by name: etcd's jobs at the
   * guard revision (a snapshot's `jobs`, or a watch-fed cache at that
   * revision). Only the jobs this round puts or deletes are looked up; a
   * round that needs several transactions is ordered from them so every
   * revision stays within capacity (plan/safe-order.ts).
   */
  readJobs: ReadonlyMap<string, AcceptedJob>;
}

export type CommitResult =
  /** `leaves`: intermediate "leave" writes the multi-transaction order needed. */
  | { ok: true; revision: number; transactions: number; leaves: number }
  /** The guard failed: someone committed first. `appliedTransactions` > 0 when a multi-part round was cut short. */
  | { ok: false; appliedTransactions: number };

export type NodeRegistration = Omit<NodeInfo, 'leaseId' | 'agentId' | 'startedAt'>;

export interface RegisterOptions {
  /** Lease TTL in whole seconds, ≥ 2. */
  ttlSeconds: number;
  /** The lease a previous process of this agent held (from its data dir). */
  resumeLeaseId?: string;
  /** Random id of this agent process. */
  agentId: string;
}

/** Who polls git for the cluster (the claim key), with what it last found (the view key) when read together. */
export interface PollerClaim {
  node: string;
  agentId: string;
  /** The tip of the tracked branch at the poller's last successful fetch. */
  head?: string;
  /** The poller's last fetch error, cleared by the next success. */
  gitError?: string;
}

/** What the poller's last fetch found (`/ozy/polled`). */
export interface PollerView {
  agentId: string;
  head?: string;
  gitError?: string;
}

function decodePollerClaim(raw: Buffer | string): PollerClaim | undefined {
  const d = decodeObject(raw);
  if (!d.ok || typeof d.value.node !== 'string' || typeof d.value.agentId !== 'string') return undefined;
  const v = d.value;
  return {
    node: v.node as string,
    agentId: v.agentId as string,
    ...(typeof v.head === 'string' ? { head: v.head } : {}),
    ...(typeof v.gitError === 'string' ? { gitError: v.gitError } : {}),
  };
}

/** Every node's CPU record kept in memory (ClusterStore.openCpuMirror): what the autoscaler reads. */
export interface CpuMirror {
  /** Node name → its last record. A dead node's goes with its lease. */
  records(): ReadonlyMap<string, NodeCpu>;
  /** The etcd revision the records reflect. */
  readonly revision: number;
  close(): Promise<void>;
}

export type JobChange = WatchChange<AcceptedJob>;
export type NodeChange = WatchChange<NodeInfo>;

export class ClusterStore {
  readonly keys: KeyLayout;
  /** Cron runs: claims, exits, history (cron-store.ts). */
  readonly cron: CronStore;
  private readonly clock: Clock;
  private readonly onCorrupt: (err: CorruptValueError) => void;
  private readonly sessions = new Set<LeaseSession>();
  private readonly watches = new Set<PrefixWatch<unknown>>();
  private readonly caches = new Set<ScheduleCache>();
  private readonly mirrors = new Set<PrefixMirror<unknown>>();
  private closed = false;

  private constructor(
    private readonly driver: EtcdDriver,
    opts: StoreOptions,
  ) {
    this.keys = new KeyLayout(opts.prefix, opts.dnsPrefix);
    this.clock = opts.clock ?? systemClock;
    this.onCorrupt = opts.onCorrupt ?? (() => undefined);
    this.cron = new CronStore(driver, this.keys, (err) => this.onCorrupt(err));
  }

  /**
   * Creates the client; connecting is lazy, so this never fails on an
   * unreachable etcd. Throws InvalidStoreArgumentError for options that
   * cannot work (TLS with http:// endpoints, a certificate without its key).
   */
  static connect(opts: StoreOptions): ClusterStore {
    if (!opts.driver && (!Array.isArray(opts.endpoints) || opts.endpoints.length === 0)) {
      throw new InvalidStoreArgumentError('at least one etcd endpoint is needed');
    }
    const driver =
      opts.driver ??
      createEtcdDriver({
        endpoints: opts.endpoints,
        requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
        access: { ...(opts.tls ? { tls: opts.tls } : {}), ...(opts.auth ? { auth: opts.auth } : {}) },
        // Inside the prefix, where a user limited to it may read.
        revisionKey: new KeyLayout(opts.prefix, opts.dnsPrefix).schedule,
      });
    return new ClusterStore(driver, opts);
  }

  // ── nodes and leases ────────────────────────────────────────────────

  /**
   * Registers the node under a new lease, or re-attaches to `resumeLeaseId`
   * when that lease is alive and still holds this node's key (the agent
   * restarted within its lease: its status and DNS keys are kept).
   * Throws NodeAlreadyRegisteredError when another live lease holds the name.
   */
  async registerNode(info: NodeRegistration, opts: RegisterOptions): Promise<NodeSession> {
    this.assertOpen();
    const ttl = opts.ttlSeconds;
    if (!Number.isInteger(ttl) || ttl < MIN_LEASE_TTL_SECONDS) {
      throw new InvalidStoreArgumentError(`lease TTL must be a whole number of seconds ≥ ${MIN_LEASE_TTL_SECONDS} (got ${ttl})`);
    }
    const key = this.keys.node(info.name);
    const value = (leaseId: string): string =>
      encodeValue({ ...info, agentId: opts.agentId, leaseId, startedAt: new Date(this.clock.now()).toISOString() });

    // A lease id is a positive decimal int64; anything else (a damaged state file) cannot be resumed.
    if (opts.resumeLeaseId !== undefined && /^[1-9]\d{0,18}$/.test(opts.resumeLeaseId)) {
      const resumed = await this.tryResume(info.name, key, opts.resumeLeaseId, value(opts.resumeLeaseId));
      if (resumed) return resumed;
    }

    const grantedAt = this.clock.now();
    const lease = await this.driver.leaseGrant(ttl);
    try {
      const put: TxnOp = { op: 'put', key, value: value(lease.id), lease: lease.id };
      const res = await this.driver.txn([{ key, target: 'create', equals: 0 }], [put], [{ op: 'range', key }]);
      if (!res.succeeded) {
        const holder = res.results[0]?.[0];
        // A node key always hangs on a lease; one without (written by hand) is stale: take it over.
        const takeover =
          holder && holder.lease === '0'
            ? await this.driver.txn([{ key, target: 'mod', equals: holder.modRevision }], [put])
            : undefined;
        if (!takeover?.succeeded) throw this.nodeTaken(info.name, holder);
      }
    } catch (err) {
      await this.driver.leaseRevoke(lease.id).catch(() => undefined);
      throw err;
    }
    const session = this.newSession(info.name, lease.id, lease.ttlSeconds, false, grantedAt);
    session.start();
    if (info.zone !== undefined) await this.rememberZone(info.zone);
    return session;
  }

  /**
   * Adds `zone` to the known zones (compare-and-set, so two agents
   * registering at once both land). Best effort: the node is registered
   * already, and a decision counts the live nodes' zones anyway; only a
   * zone whose every node dies before any of them got here is forgotten.
   */
  async rememberZone(zone: string): Promise<void> {
    const key = this.keys.knownZones;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const kv = (await this.driver.range(key)).kvs[0];
        const zones = decodeKnownZones(kv?.value);
        if (zones.includes(zone)) return;
        const value = encodeValue([...zones, zone].sort());
        const res = await this.driver.txn(kv ? [{ key, target: 'mod', equals: kv.modRevision }] : [{ key, target: 'create', equals: 0 }], [{ op: 'put', key, value }]);
        if (res.succeeded) return;
      } catch {
        return;
      }
    }
  }

  private async tryResume(node: string, key: string, leaseId: string, value: string): Promise<LeaseSession | undefined> {
    const lease = await this.driver.leaseTimeToLive(leaseId);
    // etcd reports whole seconds, rounded down: 0 is a live lease with under a second left; gone is -1.
    if (lease.ttlSeconds < 0 || !lease.keys.includes(key)) return undefined;
    // Rewrite the node value (new agent id) only if the key is still on that lease.
    const res = await this.driver.txn(
      [{ key, target: 'lease', equals: leaseId }],
      [{ op: 'put', key, value, lease: leaseId }],
    );
    if (!res.succeeded) return undefined;
    const session = this.newSession(node, leaseId, lease.grantedTtlSeconds, true, this.clock.now() - (lease.grantedTtlSeconds - lease.ttlSeconds) * 1000);
    // Renew at once: the lease has only what was left of its TTL.
    try {
      await session.renewNow();
    } catch (err) {
      if (err instanceof LeaseLostError) return undefined;
      // A transient failure: the loop retries shortly.
    }
    if (session.isLost()) return undefined;
    session.start();
    return session;
  }

  private nodeTaken(node: string, holder: StoredKv | undefined): NodeAlreadyRegisteredError {
    const d = holder ? decodeNodeInfo(holder.value) : undefined;
    return new NodeAlreadyRegisteredError(node, {
      leaseId: holder?.lease ?? 'unknown',
      ...(d?.ok ? { agentId: d.value.agentId } : {}),
    });
  }

  private newSession(node: string, leaseId: string, ttl: number, resumed: boolean, renewedAt: number): LeaseSession {
    const session = new LeaseSession(this.driver, node, leaseId, ttl, resumed, renewedAt, this.clock, (s) => this.sessions.delete(s));
    this.sessions.add(session);
    return session;
  }

  /** Rewrites the node's info (capacity, labels...) on its lease. */
  async updateNode(session: NodeSession, info: NodeRegistration & { agentId: string; startedAt: string }): Promise<void> {
    if (info.name !== session.node) throw new InvalidStoreArgumentError(`session of ${session.node} cannot write node ${info.name}`);
    await this.putOnLease(session, this.keys.node(info.name), encodeValue({ ...info, leaseId: session.leaseId }));
  }

  // ── the schedule ────────────────────────────────────────────────────

  /** Nodes, jobs, rejections and the guard revision, all read at one revision (one read-only txn). */
  async snapshot(): Promise<ClusterSnapshot> {
    this.assertOpen();
    const k = this.keys;
    const res = await this.driver.txn(
      [],
      [
        { op: 'range', key: k.nodesPrefix, prefix: true },
        { op: 'range', key: k.jobsPrefix, prefix: true },
        { op: 'range', key: k.rejectionsPrefix, prefix: true },
        { op: 'range', key: k.schedule },
        { op: 'range', key: k.reports },
        { op: 'range', key: k.knownZones },
        { op: 'range', key: k.runsPrefix, prefix: true },
      ],
    );
    const [nodeKvs = [], jobKvs = [], rejectionKvs = [], scheduleKvs = [], reportKvs = [], zoneKvs = [], runKvs = []] = res.results;
    const corrupt: CorruptValueError[] = [];
    const report = (err: CorruptValueError): void => {
      corrupt.push(err);
      this.onCorrupt(err);
    };
    const nodes = [...this.decodeAll(k.nodesPrefix, nodeKvs, decodeNamedNode, report).values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    const jobs = this.decodeAll(k.jobsPrefix, jobKvs, (name, kv) => decodeAcceptedJob(kv.value, name), report);
    const rejections = this.decodeAll(k.rejectionsPrefix, rejectionKvs, decodeNamedRejection, report);
    const runs = this.decodeAll(k.runsPrefix, runKvs, (name, kv) => decodeCronState(kv.value, name), report);
    const runRevisions = new Map<string, number>();
    for (const kv of runKvs) {
      const name = keyName(k.runsPrefix, kv.key);
      if (name !== undefined && runs.has(name)) runRevisions.set(name, kv.modRevision);
    }
    const scheduleKv = scheduleKvs[0];
    let schedule: ScheduleMark | undefined;
    if (scheduleKv) {
      const d = decodeScheduleMark(scheduleKv.value);
      if (d.ok) schedule = d.value;
      else report(new CorruptValueError(scheduleKv.key, d.reason));
    }
    const reportsRevision = decodeReportsMark(reportKvs[0]?.value);
    return {
      revision: res.revision,
      scheduleRevision: scheduleKv?.modRevision ?? 0,
      reportsRevision,
      ...(schedule ? { schedule } : {}),
      nodes,
      zones: decodeKnownZones(zoneKvs[0]?.value),
      jobs,
      rejections,
      runs,
      runRevisions,
      corrupt,
    };
  }

  /**
   * Writes a scheduling round (invariant 3). Each transaction requires
   * `/schedule`'s mod revision to equal the guard, then applies its writes
   * and bumps `/schedule` (so it always commits something, even with no
   * writes: the mark records the judged commit). A round larger than one
   * transaction (64 writes or ~1.4 MiB) is cut into several, each guarded by
   * the revision the previous produced, so no other agent can interleave.
   *
   * One transaction is atomic and takes the writes as given. Several are
   * visible one by one (and stay if this agent dies between them), so their
   * writes go in the safe order of plan/safe-order.ts: every revision keeps
   * each node within capacity, moving jobs may first get a "leave" write,
   * and the next round completes a round cut short. A job is one key (spec
   * + all placements), so it is never split.
   *
   * `{ok:false}`: someone committed first, re-read and decide again. Also
   * after a timeout whose transaction did apply (the retry sees its own bump):
   * re-reading shows it. Throws StoreError on etcd failure.
   */
  async commitSchedule(guardRevision: number, writes: ScheduleWrites, meta: { commit: string; by: string }): Promise<CommitResult> {
    this.assertOpen();
    if (!Number.isInteger(guardRevision) || guardRevision < 0) throw new InvalidStoreArgumentError(`guard revision ${guardRevision} is not a revision`);
    const k = this.keys;
    const at = new Date(this.clock.now()).toISOString();
    const { chunks, leaves } = roundTransactions(k, writes, at);
    const mark = encodeValue({ commit: meta.commit, at, by: meta.by } satisfies ScheduleMark);

    let guard = guardRevision;
    for (let i = 0; i < chunks.length; i++) {
      const ops: TxnOp[] = chunks[i]!.map((w) => (w.value === undefined ? { op: 'delete', key: w.key } : { op: 'put', key: w.key, value: w.value }));
      ops.push({ op: 'put', key: k.schedule, value: mark });
      const res = await this.driver.txn([{ key: k.schedule, target: 'mod', equals: guard }], ops);
      if (!res.succeeded) return { ok: false, appliedTransactions: i };
      guard = res.revision;
    }
    return { ok: true, revision: guard, transactions: chunks.length, leaves };
  }

  /**
   * Records that the repository's reports reflect the schedule at
   * `scheduleRevision` (never moves backwards). Agents compare it with the
   * schedule's revision to finish a report push that an agent which died
   * right after committing never made.
   */
  async markReportsPushed(scheduleRevision: number): Promise<void> {
    this.assertOpen();
    const key = this.keys.reports;
    const value = encodeValue({ revision: scheduleRevision });
    const current = await this.driver.range(key);
    const kv = current.kvs[0];
    if (kv && decodeReportsMark(kv.value) >= scheduleRevision) return;
    // Compare-and-set so a slower agent cannot move the mark backwards.
    await this.driver.txn(kv ? [{ key, target: 'mod', equals: kv.modRevision }] : [{ key, target: 'create', equals: 0 }], [
      { op: 'put', key, value },
    ]);
  }

  /** Changes to accepted jobs from `fromRevision` on (pass snapshot.revision + 1). */
  watchJobs(fromRevision: number, handlers: WatchHandlers<AcceptedJob>): Promise<StopWatch> {
    return this.watchPrefix(this.keys.jobsPrefix, fromRevision, (name, kv) => decodeAcceptedJob(kv.value, name), handlers);
  }

  /** One accepted job, or undefined. */
  async readJob(name: string): Promise<AcceptedJob | undefined> {
    this.assertOpen();
    const res = await this.driver.range(this.keys.job(name));
    const kv = res.kvs[0];
    if (!kv) return undefined;
    const d = decodeAcceptedJob(kv.value, name);
    if (d.ok) return d.value;
    this.onCorrupt(new CorruptValueError(kv.key, d.reason));
    return undefined;
  }

  /** Cron jobs' run states (claims, placements, exits): what each node runs to completion. */
  watchRuns(fromRevision: number, handlers: WatchHandlers<CronState>): Promise<StopWatch> {
    return this.watchPrefix(this.keys.runsPrefix, fromRevision, (name, kv) => decodeCronState(kv.value, name), handlers);
  }

  /** Nodes joining, updating, and leaving (lease expiry shows as a delete): failover triggers. */
  watchNodes(fromRevision: number, handlers: WatchHandlers<NodeInfo>): Promise<StopWatch> {
    return this.watchPrefix(this.keys.nodesPrefix, fromRevision, decodeNamedNode, handlers);
  }

  private async watchPrefix<T>(
    prefix: string,
    fromRevision: number,
    decode: (name: string, kv: StoredKv) => Decoded<T>,
    handlers: WatchHandlers<T>,
  ): Promise<StopWatch> {
    this.assertOpen();
    const w = new PrefixWatch<T>(this.driver, prefix, decode, handlers, this.onCorrupt);
    this.watches.add(w as PrefixWatch<unknown>);
    await w.start(fromRevision);
    return async () => {
      this.watches.delete(w as PrefixWatch<unknown>);
      await w.stop();
    };
  }

  /**
   * The schedule kept in memory from a watch (ScheduleCache): what the
   * deciding agent reads instead of a snapshot per round.
   */
  async openScheduleCache(handlers: ScheduleCacheHandlers): Promise<ScheduleCache> {
    this.assertOpen();
    const cache = new ScheduleCache(this.driver, this.keys, () => this.snapshot(), {
      ...handlers,
      onCorrupt: (err) => {
        this.onCorrupt(err);
        handlers.onCorrupt?.(err);
      },
    });
    await cache.open();
    this.caches.add(cache);
    return cache;
  }

  // ── mirrors: read-only views kept in memory from a watch ────────────

  /** Accepted jobs by name (what `ozy ingress` routes by). */
  mirrorJobs(handlers: MirrorHandlers = {}): Promise<Mirror<AcceptedJob>> {
    return this.openMirror(this.keys.jobsPrefix, (name, kv) => decodeAcceptedJob(kv.value, name), handlers);
  }

  /**
   * Every node's instance statuses, keyed "<node>/<instance>". Statuses hang
   * on their node's lease, so a dead node's disappear by themselves.
   */
  mirrorInstanceStatus(handlers: MirrorHandlers = {}): Promise<Mirror<InstanceStatus>> {
    return this.openMirror(this.keys.statusPrefix(), decodeNamedStatus, handlers);
  }

  /** Every agent's own report (role, git head, last git error), by node: what `ozy dashboard` shows. */
  mirrorAgentStatus(handlers: MirrorHandlers = {}): Promise<Mirror<Record<string, unknown>>> {
    return this.openMirror(this.keys.agentsPrefix, (_name, kv) => decodeObject(kv.value), handlers);
  }

  /** The CoreDNS records, keyed by their path below the DNS prefix ("local/ozy/web/web-1"). */
  mirrorDnsRecords(handlers: MirrorHandlers = {}): Promise<Mirror<DnsRecord>> {
    return this.openMirror(this.keys.dnsRoot, (_name, kv) => decodeDnsRecord(kv.value), handlers);
  }

  private async openMirror<T>(prefix: string, decode: (name: string, kv: StoredKv) => Decoded<T>, handlers: MirrorHandlers): Promise<Mirror<T>> {
    this.assertOpen();
    const m = new PrefixMirror<T>(this.driver, prefix, decode, handlers, this.onCorrupt);
    await m.open();
    this.mirrors.add(m as PrefixMirror<unknown>);
    return {
      get values() {
        return m.values;
      },
      get revision() {
        return m.revision;
      },
      close: async () => {
        this.mirrors.delete(m as PrefixMirror<unknown>);
        await m.close();
      },
    };
  }

  // ── the poll claim: one agent polls git for the cluster ─────────────

  /**
   * Tries to become the cluster's git poller: creates the poller key on a
   * lease of its own (short: a dead poller is replaced within about one
   * poll interval). Returns the claim's session ('lost' = stop polling), or
   * the current holder when another agent has it.
   */
  async claimPoller(claim: PollerClaim, ttlSeconds: number): Promise<{ session: NodeSession } | { holder: PollerClaim | undefined }> {
    this.assertOpen();
    const key = this.keys.poller;
    const grantedAt = this.clock.now();
    const lease = await this.driver.leaseGrant(Math.max(MIN_LEASE_TTL_SECONDS, Math.ceil(ttlSeconds)));
    let res: TxnResult;
    try {
      res = await this.driver.txn(
        [{ key, target: 'create', equals: 0 }],
        [{ op: 'put', key, value: encodeValue(claim), lease: lease.id }],
        [{ op: 'range', key }],
      );
    } catch (err) {
      await this.driver.leaseRevoke(lease.id).catch(() => undefined);
      throw err;
    }
    if (!res.succeeded) {
      await this.driver.leaseRevoke(lease.id).catch(() => undefined);
      const kv = res.results[0]?.[0];
      return { holder: kv ? decodePollerClaim(kv.value) : undefined };
    }
    const session = this.newSession(claim.node, lease.id, lease.ttlSeconds, false, grantedAt);
    session.start();
    return { session };
  }

  /**
   * Records what the poller's last fetch found, on the claim's lease, in a
   * key of its own: followers watch only the claim, so a new head costs them
   * nothing.
   */
  async putPollerView(session: NodeSession, view: PollerView): Promise<void> {
    await this.putOnLease(session, this.keys.polled, encodeValue(view));
  }

  /** Who polls git for the cluster now, and what it last found (null: nobody, e.g. no agent runs). */
  async getPoller(): Promise<PollerClaim | null> {
    this.assertOpen();
    const res = await this.driver.txn([], [
      { op: 'range', key: this.keys.poller },
      { op: 'range', key: this.keys.polled },
    ]);
    const claimKv = res.results[0]?.[0];
    const claim = claimKv ? decodePollerClaim(claimKv.value) : undefined;
    if (!claim) return null;
    const viewKv = res.results[1]?.[0];
    const view = viewKv ? decodeObject(viewKv.value) : undefined;
    // The view belongs to this claim only if the same agent wrote it.
    if (!view?.ok || view.value.agentId !== claim.agentId) return claim;
    return {
      ...claim,
      ...(typeof view.value.head === 'string' ? { head: view.value.head } : {}),
      ...(typeof view.value.gitError === 'string' ? { gitError: view.value.gitError } : {}),
    };
  }

  /** The poller key's changes from `fromRevision` on; `null` when it is deleted (the poller is gone). */
  async watchPoller(onChange: (claim: PollerClaim | null) => void, onError: (err: Error) => void): Promise<{ current: PollerClaim | null; stop: StopWatch }> {
    this.assertOpen();
    const key = this.keys.poller;
    const now = await this.driver.range(key);
    const kv = now.kvs[0];
    let handle: WatchHandle | undefined;
    let stopped = false;
    const open = (from: number): void => {
      if (stopped) return;
      handle = this.driver.watch(key, { prefix: false, fromRevision: from }, {
        onConnected: () => undefined,
        onEvents: (events) => {
          const last = events[events.length - 1];
          if (last) onChange(last.type === 'put' ? (decodePollerClaim(last.kv.value) ?? null) : null);
        },
        // Compacted history: the claim may have changed meanwhile; say so and go on from now.
        onCanceled: () => {
          onChange(null);
          void this.driver.currentRevision().then((r) => open(r + 1), (err: unknown) => onError(err instanceof Error ? err : new Error(String(err))));
        },
        onDisconnected: onError,
      });
    };
    open(now.revision + 1);
    return {
      current: kv ? (decodePollerClaim(kv.value) ?? null) : null,
      stop: async () => {
        stopped = true;
        await handle?.cancel();
      },
    };
  }

  /** The store's current revision. */
  currentRevision(): Promise<number> {
    this.assertOpen();
    return this.driver.currentRevision();
  }

  // ── per-node keys, on the node's lease ──────────────────────────────

  async putInstanceStatus(session: NodeSession, status: InstanceStatus): Promise<void> {
    if (status.node !== session.node) throw new InvalidStoreArgumentError(`session of ${session.node} cannot write status of node ${status.node}`);
    await this.putOnLease(session, this.keys.status(status.node, status.instance), encodeValue(status));
  }

  async deleteInstanceStatus(node: string, instance: string): Promise<void> {
    this.assertOpen();
    await this.driver.delete(this.keys.status(node, instance));
  }

  /** Every instance status, or one node's. */
  async listInstanceStatus(node?: string): Promise<InstanceStatus[]> {
    const prefix = this.keys.statusPrefix(node);
    const found = await this.list(prefix, (_name, kv) => decodeInstanceStatus(kv.value));
    return [...found.values()];
  }

  /**
   * The statuses of the named instances, in one request (what a rolling
   * update watches: its batch). Absent or corrupt ones are left out.
   */
  async readInstanceStatuses(refs: ReadonlyArray<{ node: string; instance: string }>): Promise<InstanceStatus[]> {
    this.assertOpen();
    if (refs.length === 0) return [];
    const res = await this.driver.txn([], refs.map((r) => ({ op: 'range' as const, key: this.keys.status(r.node, r.instance) })));
    const out: InstanceStatus[] = [];
    for (const kvs of res.results) {
      const kv = kvs[0];
      if (!kv) continue;
      const d = decodeInstanceStatus(kv.value);
      if (d.ok) out.push(d.value);
      else this.onCorrupt(new CorruptValueError(kv.key, d.reason));
    }
    return out;
  }

  /** `key` is a full CoreDNS key, e.g. from `store.keys.dnsKey(zone, job, instance)`. */
  async putDnsRecord(session: NodeSession, key: string, record: DnsRecord): Promise<void> {
    this.keys.checkDnsKey(key);
    const problem = dnsRecordProblem(record);
    if (problem) throw new InvalidStoreArgumentError(`DNS record for ${key}: ${problem}`);
    await this.putOnLease(session, key, encodeValue({ host: record.host, port: record.port, ttl: record.ttl }));
  }

  async deleteDnsRecord(key: string): Promise<void> {
    this.assertOpen();
    await this.driver.delete(this.keys.checkDnsKey(key));
  }

  /** Records below `prefix` (default: the whole DNS prefix), by full key. */
  async listDnsRecords(prefix: string = this.keys.dnsRoot): Promise<Map<string, DnsRecord>> {
    const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
    if (p !== this.keys.dnsRoot) this.keys.checkDnsKey(p.slice(0, -1));
    const byName = await this.list(p, (_name, kv) => decodeDnsRecord(kv.value));
    return new Map([...byName].map(([name, r]) => [p + name, r]));
  }

  /**
   * The node's CPU measurements of its autoscaled instances, on its lease
   * (gone with the node). null or no instances: the key is deleted.
   */
  async publishNodeCpu(session: NodeSession, record: NodeCpu | null): Promise<void> {
    const key = this.keys.cpu(session.node);
    if (record === null || Object.keys(record.instances).length === 0) {
      this.assertOpen();
      await this.driver.delete(key);
      return;
    }
    const problem = nodeCpuProblem(record);
    if (problem) throw new InvalidStoreArgumentError(`CPU record of ${session.node}: ${problem}`);
    await this.putOnLease(session, key, encodeValue(record));
  }

  /** Every node's CPU record, in one range read (`ozy status`). Malformed ones are skipped. */
  readNodeCpu(): Promise<Map<string, NodeCpu>> {
    return this.list(this.keys.cpuPrefix, (_name, kv) => decodeNodeCpu(kv.value));
  }

  /** Every node's CPU record, kept from a listing and a watch (the autoscaler's input). */
  async openCpuMirror(handlers: MirrorHandlers = {}): Promise<CpuMirror> {
    const m = await this.openMirror(this.keys.cpuPrefix, (_name, kv) => decodeNodeCpu(kv.value), handlers);
    return {
      records: () => m.values,
      get revision() {
        return m.revision;
      },
      close: () => m.close(),
    };
  }

  /** The agent's own report (git head, last git error...), shown by `ozy status`. */
  async putAgentStatus(session: NodeSession, status: Record<string, unknown>): Promise<void> {
    await this.putOnLease(session, this.keys.agent(session.node), encodeValue(status));
  }

  async listAgentStatus(): Promise<Map<string, Record<string, unknown>>> {
    return this.list(this.keys.agentsPrefix, (_name, kv) => decodeObject(kv.value));
  }

  /** Stops watches and keepalives (without revoking: call session.revoke() first for a clean exit). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.watches].map((w) => w.stop()));
    await Promise.all([...this.caches].map((c) => c.close()));
    await Promise.all([...this.mirrors].map((m) => m.close()));
    this.caches.clear();
    this.mirrors.clear();
    this.watches.clear();
    await Promise.all([...this.sessions].map((s) => s.release()));
    this.driver.close();
  }

  // ── helpers ─────────────────────────────────────────────────────────

  private async putOnLease(session: NodeSession, key: string, value: string): Promise<void> {
    this.assertOpen();
    const bytes = Buffer.byteLength(value);
    if (bytes > MAX_TXN_PAYLOAD_BYTES) throw new ValueTooLargeError(key, bytes, MAX_TXN_PAYLOAD_BYTES);
    if (session.isLost()) throw new LeaseLostError(session.leaseId);
    try {
      await this.driver.put(key, value, session.leaseId);
    } catch (err) {
      if (err instanceof LeaseLostError && session instanceof LeaseSession) session.markLost(err);
      throw err;
    }
  }

  private async list<T>(prefix: string, decode: (name: string, kv: StoredKv) => Decoded<T>): Promise<Map<string, T>> {
    this.assertOpen();
    const res = await this.driver.range(prefix, { prefix: true });
    return this.decodeAll(prefix, res.kvs, decode, this.onCorrupt);
  }

  private decodeAll<T>(
    prefix: string,
    kvs: StoredKv[],
    decode: (name: string, kv: StoredKv) => Decoded<T>,
    report: (err: CorruptValueError) => void,
  ): Map<string, T> {
    const out = new Map<string, T>();
    for (const kv of kvs) {
      const name = keyName(prefix, kv.key);
      if (name === undefined) continue;
      const d = decode(name, kv);
      if (d.ok) out.set(name, d.value);
      else report(new CorruptValueError(kv.key, d.reason));
    }
    return out;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}
