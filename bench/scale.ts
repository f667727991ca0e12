// Scale simulation (issue 10, deliverable 7): N agents' control planes in
// ONE process, at N = 10, 100 and 1,000, against one real etcd and a real
// git smart-HTTP server (in a child process that reports every request),
// with a repository of 5,000 jobs.
//
// Each simulated agent runs the agent's real control-plane code, as
// `ozy agent` wires it (src/agent/agent.ts):
//   - ClusterStore.registerNode: its node under a lease, kept alive by the
//     store's LeaseSession (TTL 10 s, a keepalive every TTL/3);
//   - NodeJobs: the job listing at start, then the job watch, keeping only
//     the jobs with an instance on its node;
//   - PollerRole: the poll claim (PollClaim) and, while it holds it, the
//     real Brain on ScheduleCache + CachedSchedule + GitSource;
//   - its agent status record (role, head, last round), as the agent writes it.
// Not simulated: the container engine and the node loop (NodeAgent). Where
// the real agent kicks its node loop, the simulation counts the kick.
//
// To keep 1,000 agents in one process feasible the agents share ONE etcd
// client connection (each has its own ClusterStore over a thin per-agent
// wrapper of one CountingDriver), so gRPC connection and HTTP/2 overhead
// per agent is not in the figures; the counts are what the agents ask of
// etcd, cluster-wide. Only the poller has a git clone (a follower's
// GitSource never syncs), like the real agents.
//
//   node dist/bench/run.js scale          (npm run bench -- scale)
//   node dist/bench/scale.js [N ...]      alone; writes bench/results/scale.json
// OZY_BENCH_SCALE_N="10,100" and OZY_BENCH_SCALE_SAMPLES=4 override the sizes and pushes.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import pino, { type Logger } from 'pino';
import type { RoundResult } from '../src/agent/brain';
import { NodeJobs } from '../src/agent/node-jobs';
import { PollerRole } from '../src/agent/poller-role';
import { retryForever } from '../src/agent/retry';
import { projectRoot } from '../src/paths';
import { loadBuiltinCharts } from '../src/render';
import type { Chart } from '../src/render/template';
import { GitSource } from '../src/source';
import { ClusterStore, EtcdUnavailableError, KeyLayout, type NodeSession, type PollerClaim } from '../src/store';
import type { Compare, EtcdDriver, RangeResult, TxnOp, TxnResult, WatchCallbacks, WatchHandle, WatchOptions } from '../src/store/driver';
import { createEtcdDriver } from '../src/store/etcd-driver';
import { startEtcd, type EtcdServer } from '../test/harness/etcd';
import { cloneAsUser, type GitUser } from '../test/harness/git-user';
import { tempDir } from '../test/harness/tmp';
import { waitFor } from '../test/harness/wait';
import { CountingDriver, diffCounts, totalRequests, type DriverCounts } from './lib/counting-driver';
import { formatBytes, formatNumber, goalAtMost, type Figure, type Section } from './lib/figures';
import { startGitServerProcess, type GitServerProcess } from './lib/git-server-process';
import { describeMachine, machineLine } from './lib/machine';
import { sectionMarkdown, sectionText, updateDoc } from './lib/markdown';
import { median, msSince, percentile, prng, round } from './lib/stats';
import { pollJobYaml } from './poll-cost';

const JOBS = 5_000;
const DEFAULT_SIZES = [10, 100, 1_000];
const POLL_MS = 2_000;
const LEASE_TTL_SECONDS = 10;
/** Poll intervals of the idle window. */
const IDLE_INTERVALS = 5;
/** After a change is committed: time for the watch fan-out, the next idle round and the status writes to land. */
const SETTLE_MS = 1_000;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** How many agents register / start at once (start = one full listing of the schedule each). */
const REGISTER_CONCURRENCY = 32;
const START_CONCURRENCY = 2;

const jobName = (i: number): string => `svc-${String(i).padStart(5, '0')}`;
const jobPath = (i: number): string => `jobs/team-${String(Math.floor(i / 100)).padStart(2, '0')}/${jobName(i)}.yaml`;
const instancesOf = (i: number): number => 1 + (i % 3);
const JOB_MEMORY_MI = 64;
const JOB_CPU_MILLI = 50;

function sizes(): number[] {
  const fromArgs = process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number);
  if (require.main === module && fromArgs.length > 0) return fromArgs;
  const env = process.env.OZY_BENCH_SCALE_N;
  return env ? env.split(',').map((s) => Number(s.trim())).filter((n) => n >= 2) : DEFAULT_SIZES;
}

/** How long a hand-over may take to settle before the bench records it as unsettled. */
function handOverCapMs(): number {
  const env = Number(process.env.OZY_BENCH_SCALE_HANDOVER_CAP_S);
  return (Number.isFinite(env) && env > 0 ? env : 90) * 1000;
}

function samplesFor(n: number): number {
  const env = Number(process.env.OZY_BENCH_SCALE_SAMPLES);
  if (Number.isInteger(env) && env > 0) return env;
  return n >= 1_000 ? 5 : 7;
}

// ── counting ──────────────────────────────────────────────────────────

/** Log lines of the simulated agents, counted by level and message (pino's JSON lines). */
class LogTally {
  readonly byMessage = new Map<string, number>();
  /** The first warnings and errors, with the agent, the error and when (ms since the tally began). */
  readonly samples: Array<{ atMs: number; node?: string; msg?: string; err?: string }> = [];
  private readonly t0 = performance.now();
  readonly destination = {
    write: (line: string): void => {
      try {
        const rec = JSON.parse(line) as { level?: number; msg?: string; node?: string; err?: string };
        const level = rec.level === undefined ? '?' : rec.level >= 50 ? 'error' : rec.level >= 40 ? 'warn' : 'info';
        const key = `${level}: ${rec.msg ?? ''}`;
        this.byMessage.set(key, (this.byMessage.get(key) ?? 0) + 1);
        if (level !== 'info' && this.samples.length < 40) {
          this.samples.push({ atMs: Math.round(performance.now() - this.t0), node: rec.node, msg: rec.msg, err: rec.err });
          if (process.env.OZY_BENCH_SCALE_DEBUG) console.error(`[${Math.round(performance.now() - this.t0)} ms] ${rec.node} ${key} ${rec.err ?? ''}`);
        }
      } catch {
        // not JSON: ignore
      }
    },
  };
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.byMessage].sort((a, b) => b[1] - a[1]));
  }
  count(prefix: string): number {
    let n = 0;
    for (const [k, v] of this.byMessage) if (k.startsWith(prefix)) n += v;
    return n;
  }
}

/** Schedule transactions (guarded by the /schedule key) sent by any agent: attempts and wins. */
interface GuardCounts {
  attempts: number;
  won: number;
}

/**
 * One agent's view of the shared etcd client: counts guarded schedule
 * transactions, never closes the shared client, and can be cut off (every
 * call fails, its watches go silent) to simulate the agent dying or being
 * partitioned away from etcd.
 */
class AgentDriver implements EtcdDriver {
  private cutOff = false;
  private readonly handles = new Set<WatchHandle>();

  constructor(
    private readonly inner: EtcdDriver,
    private readonly scheduleKey: string,
    private readonly guard: GuardCounts,
  ) {}

  cut(): void {
    this.cutOff = true;
    for (const h of this.handles) void h.cancel();
    this.handles.clear();
  }

  private check(what: string): void {
    if (this.cutOff) throw new EtcdUnavailableError(`${what}: simulated agent is cut off from etcd`);
  }

  async txn(compares: Compare[], success: TxnOp[], failure?: TxnOp[]): Promise<TxnResult> {
    this.check('txn');
    const guarded = compares.some((c) => c.key === this.scheduleKey && c.target === 'mod');
    const res = await this.inner.txn(compares, success, failure);
    if (guarded) {
      this.guard.attempts++;
      if (res.succeeded) this.guard.won++;
    }
    return res;
  }
  async range(key: string, opts?: { prefix?: boolean }): Promise<RangeResult> {
    this.check('range');
    return this.inner.range(key, opts);
  }
  async put(key: string, value: string, lease?: string): Promise<number> {
    this.check('put');
    return this.inner.put(key, value, lease);
  }
  async delete(key: string, opts?: { prefix?: boolean }): Promise<number> {
    this.check('delete');
    return this.inner.delete(key, opts);
  }
  async currentRevision(): Promise<number> {
    this.check('revision');
    return this.inner.currentRevision();
  }
  async leaseGrant(ttlSeconds: number): Promise<{ id: string; ttlSeconds: number }> {
    this.check('lease grant');
    return this.inner.leaseGrant(ttlSeconds);
  }
  async leaseKeepAliveOnce(id: string, timeoutMs: number): Promise<{ ttlSeconds: number }> {
    this.check('keepalive');
    return this.inner.leaseKeepAliveOnce(id, timeoutMs);
  }
  async leaseTimeToLive(id: string): Promise<{ ttlSeconds: number; grantedTtlSeconds: number; keys: string[] }> {
    this.check('lease ttl');
    return this.inner.leaseTimeToLive(id);
  }
  async leaseRevoke(id: string): Promise<void> {
    this.check('lease revoke');
    return this.inner.leaseRevoke(id);
  }
  watch(key: string, opts: WatchOptions, callbacks: WatchCallbacks): WatchHandle {
    if (this.cutOff) return { cancel: async () => undefined };
    const inner = this.inner.watch(key, opts, {
      onConnected: (r) => callbacks.onConnected(r),
      onEvents: (events, r) => {
        if (!this.cutOff) callbacks.onEvents(events, r);
      },
      onCanceled: (reason) => {
        if (!this.cutOff) callbacks.onCanceled(reason);
      },
      onDisconnected: (err) => callbacks.onDisconnected(err),
    });
    this.handles.add(inner);
    return {
      cancel: async () => {
        this.handles.delete(inner);
        await inner.cancel();
      },
    };
  }
  close(): void {
    // The client is shared by every simulated agent; the harness closes it.
  }
}

// ── one simulated agent ───────────────────────────────────────────────

interface RoundEvent {
  node: string;
  kind: RoundResult['kind'];
  attempts?: number;
  at: number;
}

interface SimShared {
  counting: CountingDriver;
  guard: GuardCounts;
  repo: string;
  dataDir: string;
  charts: Map<string, Chart>;
  log: Logger;
  capacity: { memory: number; cpu: number; disk: number };
  rounds: RoundEvent[];
  /** Node leases that lapsed (the agent registered anew). */
  leaseLosses: Array<{ node: string; at: number }>;
}

class SimAgent {
  readonly agentId = randomUUID();
  readonly driver: AgentDriver;
  readonly store: ClusterStore;
  readonly jobs: NodeJobs;
  readonly poller: PollerRole;
  session: NodeSession | undefined;
  /** Times the real agent would have kicked its node loop (one of its own jobs changed). */
  nodeKicks = 0;
  /** Changes of this node's own jobs seen by its job watch. */
  ownJobChanges = 0;
  stopped = false;
  private lastStatus = '';
  private readonly log: Logger;

  constructor(
    readonly node: string,
    private readonly shared: SimShared,
  ) {
    this.driver = new AgentDriver(shared.counting, new KeyLayout().schedule, shared.guard);
    this.store = ClusterStore.connect({ endpoints: [], driver: this.driver });
    const log = shared.log.child({ node });
    this.log = log;
    const git = new GitSource({
      url: shared.repo,
      branch: 'main',
      dir: path.join(shared.dataDir, node, 'repo'),
      author: { name: `ozy agent ${node}`, email: `ozy-agent@${node}` },
    });
    this.poller = new PollerRole(this.store, git, {
      node,
      agentId: this.agentId,
      pollMs: POLL_MS,
      brain: { reportBranch: 'main', reportsDir: 'rejections', staleCommitMs: Math.max(3 * POLL_MS, 10_000), builtinCharts: shared.charts },
      log,
      onRound: (result) => {
        shared.rounds.push({ node, kind: result.kind, ...(result.kind === 'committed' ? { attempts: result.attempts } : {}), at: performance.now() });
        if (result.kind === 'committed') this.nodeKicks++;
      },
      publishStatus: () => this.publishStatus(),
    });
    this.jobs = new NodeJobs(this.store, node, log, () => {
      this.nodeKicks++;
      this.ownJobChanges++;
    });
  }

  async register(): Promise<void> {
    const session = await this.store.registerNode(
      { name: this.node, address: '127.0.0.1', labels: {}, capacity: this.shared.capacity },
      { ttlSeconds: LEASE_TTL_SECONDS, agentId: this.agentId },
    );
    this.session = session;
    session.on('lost', () => void this.onLeaseLost(session));
  }

  /** As Agent.onLeaseLost, without containers to stop: register anew, re-list this node's jobs, decide again. */
  private async onLeaseLost(lost: NodeSession): Promise<void> {
    if (this.stopped || this.session !== lost) return;
    this.shared.leaseLosses.push({ node: this.node, at: performance.now() });
    for (let pause = 200; !this.stopped; pause = Math.min(pause * 2, 5_000)) {
      try {
        await this.register();
        await this.jobs.relist();
        break;
      } catch {
        await delay(pause);
      }
    }
    this.nodeKicks++;
    this.poller.kick();
  }

  /** What Agent.start does after registering, minus the node loop. */
  async start(): Promise<void> {
    await this.jobs.start();
    await retryForever(this.log, 'watch the poll claim', () => this.poller.start());
    await this.publishStatus().catch(() => undefined);
  }

  cut(): void {
    this.driver.cut();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.poller.stop().catch(() => undefined);
    await this.jobs.stop().catch(() => undefined);
    await this.session?.release().catch(() => undefined);
    await this.store.close().catch(() => undefined);
  }

  /** As Agent.publishAgentStatus: written when the role, head or last round changes. */
  private async publishStatus(): Promise<void> {
    const status = this.poller.agentStatus();
    const text = JSON.stringify(status);
    if (text === this.lastStatus || !this.session) return;
    await this.store.putAgentStatus(this.session, { ...status, at: new Date().toISOString() });
    this.lastStatus = text;
  }
}

// ── measurements ──────────────────────────────────────────────────────

interface Mem {
  heapMb: number;
  rssMb: number;
}

function memoryNow(): Mem {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  const m = process.memoryUsage();
  return { heapMb: m.heapUsed / MiB, rssMb: m.rss / MiB };
}

interface GitCounts {
  /** Ref advertisements for fetching (GET info/refs?service=git-upload-pack). */
  adverts: number;
  /** Fetches (POST git-upload-pack). */
  fetches: number;
  /** Pushes' requests (receive-pack adverts and POSTs): the bench user's and report pushes. */
  pushRequests: number;
}

function gitCounts(requests: readonly string[], from: number, to = requests.length): GitCounts {
  const seen = requests.slice(from, to);
  return {
    adverts: seen.filter((r) => r.startsWith('GET ') && r.includes('/info/refs') && r.includes('service=git-upload-pack')).length,
    fetches: seen.filter((r) => r.startsWith('POST ') && r.includes('/git-upload-pack')).length,
    pushRequests: seen.filter((r) => r.includes('receive-pack')).length,
  };
}

/** Requests, bytes and events per second over a window. */
interface Rates {
  requestsPerS: number;
  /** Keys + values read (ranges), written (puts) and delivered by watches. */
  bytesPerS: number;
  readBytesPerS: number;
  writtenBytesPerS: number;
  watchBytesPerS: number;
  watchEventsPerS: number;
  keepAlivesPerS: number;
  txnsPerS: number;
  rangesPerS: number;
  putsPerS: number;
}

function rates(c: DriverCounts, ms: number): Rates {
  const s = ms / 1000;
  const r = (v: number): number => round(v / s, 1);
  return {
    requestsPerS: r(totalRequests(c)),
    bytesPerS: r(c.bytesRead + c.bytesWritten + c.watchBytes),
    readBytesPerS: r(c.bytesRead),
    writtenBytesPerS: r(c.bytesWritten),
    watchBytesPerS: r(c.watchBytes),
    watchEventsPerS: r(c.watchEvents),
    keepAlivesPerS: r(c.keepAlives),
    txnsPerS: r(c.txns),
    rangesPerS: r(c.ranges),
    putsPerS: r(c.puts),
  };
}

interface ChangeSample {
  job: string;
  /** `git push` starting → the job's new placement in etcd (harness watch). */
  pushToCommittedMs: number;
  pushMs: number;
  /** Guarded schedule transactions any agent sent for this change, and how many won. */
  txnAttempts: number;
  txnWon: number;
  windowMs: number;
  etcd: DriverCounts;
  rates: Rates;
  git: GitCounts;
  /** Agents whose own jobs changed (the real agent's node loop would run): the nodes of the job's instances. */
  nodesWoken: number;
  /** Poller rounds in the window, by kind. */
  rounds: Record<string, number>;
  /** The poller's rounds in the window: kind@ms since the push started. */
  roundsAtMs: string[];
  maxStallMs: number;
}

interface HandOver {
  how: 'revoked' | 'cut-off';
  from: string;
  /** The agent that polls once the claim stopped moving. */
  to: string;
  /** False: the claim still moved when the bench stopped waiting (OZY_BENCH_SCALE_HANDOVER_CAP_S). */
  stable: boolean;
  /** Every claim holder in turn during the hand-over (more than one: the claim lapsed again). */
  holders: string[];
  /** The claim's end (revoke / cut) → another agent's claim in etcd. */
  claimGapMs: number;
  /** → the first claimant's first round done. */
  firstClaimantRoundMs: number;
  /** → the stable poller's first round done (schedule listed, git cloned/fetched, 5,000 files rendered, decided). */
  firstRoundMs: number;
  /** The longest event-loop stall of the (shared) process during the hand-over. */
  maxStallMs: number;
  firstRoundKind: string;
  /** Claim attempts during the hand-over (each is a lease grant + a txn; losers revoke their lease). */
  claimAttempts: number;
  windowMs: number;
  etcd: DriverCounts;
  git: GitCounts;
}

export interface ScalePoint {
  n: number;
  pollMs: number;
  leaseTtlSeconds: number;
  capacityPerNode: { memoryGiB: number; cpuCores: number };
  setup: {
    registerMs: number;
    /** The first agent: claim, clone, render and place all 5,000 jobs, then an idle/unchanged round. */
    firstPollerMs: number;
    /** Every other agent starting (one full listing of the schedule each, then the job and claim watches). */
    followersStartMs: number;
    followersStart: DriverCounts;
    /** Longest event-loop stalls of the process during the first poller's round and the followers' start. */
    firstPollerStallMs: number;
    followersStallMs: number;
    nodesUsed: number;
    jobsPerAgent: { min: number; median: number; max: number };
  };
  memory: {
    base: Mem;
    registered: Mem;
    withPoller: Mem;
    all: Mem;
    /** Per agent: (registered − base) ÷ N + (all − withPoller) ÷ (N − 1). */
    perAgentHeapKb: number;
    perAgentRssKb: number;
    /** The first agent's retained state as poller (plus its own job view): withPoller − registered. */
    pollerHeapMb: number;
    pollerRssMb: number;
    pollerCacheJobs: number;
  };
  idle: {
    ms: number;
    intervals: number;
    git: GitCounts;
    advertsPerInterval: number;
    fetchesPerInterval: number;
    etcd: DriverCounts;
    rates: Rates;
    cpuPercent: number;
    rounds: Record<string, number>;
    maxStallMs: number;
  };
  changes: ChangeSample[];
  handOvers: HandOver[];
  /** Poll claim changes not caused by the bench (e.g. a claim lost under load). */
  unexpectedClaimChanges: number;
  /** Node leases that lapsed during the run (ms since the agents were created), each followed by a new registration. */
  leaseLosses: Array<{ node: string; atMs: number }>;
  logs: Record<string, number>;
  logSamples: LogTally['samples'];
  /** The poll claim's changes as the harness saw them (ms since the agents were created). */
  claimTimeline: Array<{ atMs: number; node: string | null }>;
}

export interface ScaleRaw {
  jobs: number;
  points: ScalePoint[];
  failed: Array<{ n: number; error: string }>;
  sharedConnection: string;
}

/** Where a new holder's term starts (a claim after none, or by another agent). */
function claimTerms(claims: ReadonlyArray<{ at: number; claim: PollerClaim | null }>, from: number): Array<{ index: number; at: number; agentId: string; node: string }> {
  const out: Array<{ index: number; at: number; agentId: string; node: string }> = [];
  for (let j = from; j < claims.length; j++) {
    const c = claims[j]!.claim;
    const prev = j > 0 ? claims[j - 1]!.claim : null;
    if (c && (!prev || prev.agentId !== c.agentId)) out.push({ index: j, at: claims[j]!.at, agentId: c.agentId, node: c.node });
  }
  return out;
}

/** The event loop's longest stall since the last take (perf_hooks histogram). */
class Stalls {
  private readonly h = monitorEventLoopDelay({ resolution: 10 });
  constructor() {
    this.h.enable();
  }
  takeMax(): number {
    const max = this.h.max / 1e6;
    this.h.reset();
    return Number.isFinite(max) ? max : 0;
  }
  stop(): void {
    this.h.disable();
  }
}

function tallyRounds(rounds: readonly RoundEvent[], from: number, to = Infinity): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rounds) if (r.at >= from && r.at <= to) out[r.kind] = (out[r.kind] ?? 0) + 1;
  return out;
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

// ── one size ──────────────────────────────────────────────────────────

async function runPoint(n: number, ctx: { git: GitServerProcess; user: GitUser; charts: Map<string, Chart>; random: () => number; log: (s: string) => void }): Promise<ScalePoint> {
  const tmp = tempDir(`ozy-bench-scale-${n}-`);
  let etcd: EtcdServer | undefined;
  let counting: CountingDriver | undefined;
  let harness: ClusterStore | undefined;
  const agents: SimAgent[] = [];
  const stops: Array<() => Promise<void>> = [];
  const stalls = new Stalls();
  try {
    etcd = await startEtcd();
    harness = ClusterStore.connect({ endpoints: [etcd.endpoint] });
    const raw = createEtcdDriver({ endpoints: [etcd.endpoint], requestTimeoutMs: 10_000 });
    stops.push(async () => raw.close());
    counting = CountingDriver.connect([etcd.endpoint], 10_000);

    // What the harness observes, through its own connection (not counted).
    const committedAt = new Map<string, number>();
    stops.push(
      await harness.watchJobs(1, {
        onChange: (ev) => {
          if (ev.type !== 'put' || !ev.value) return;
          const key = `${ev.name}@${ev.value.commit}`;
          if (!committedAt.has(key)) committedAt.set(key, performance.now());
        },
        onReset: () => undefined,
      }),
    );
    const claims: Array<{ at: number; claim: PollerClaim | null }> = [];
    const claimWatch = await harness.watchPoller(
      (claim) => {
        claims.push({ at: performance.now(), claim });
        if (process.env.OZY_BENCH_SCALE_DEBUG) console.error(`[claim] ${claim?.node ?? 'none'} head ${claim?.head?.slice(0, 8) ?? '-'}`);
      },
      () => undefined,
    );
    stops.push(claimWatch.stop);

    // Capacity: the 5,000 jobs' demand spread over N nodes with 25% room.
    let demandMem = 0;
    let demandCpu = 0;
    for (let i = 0; i < JOBS; i++) {
      demandMem += instancesOf(i) * JOB_MEMORY_MI * MiB;
      demandCpu += instancesOf(i) * JOB_CPU_MILLI;
    }
    const capacity = { memory: Math.ceil((demandMem * 1.25) / n / MiB) * MiB, cpu: Math.ceil((demandCpu * 1.25) / n), disk: 100 * GiB };

    const logs = new LogTally();
    const shared: SimShared = {
      counting,
      guard: { attempts: 0, won: 0 },
      repo: ctx.git.url,
      dataDir: tmp.dir,
      charts: ctx.charts,
      log: pino({ level: 'info' }, logs.destination),
      capacity,
      rounds: [],
      leaseLosses: [],
    };

    const base = memoryNow();
    const created = performance.now();
    // 1. Every node registers (a lease each).
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) agents.push(new SimAgent(`sim-${String(i).padStart(4, '0')}`, shared));
    // As the agent does: registration is retried until etcd takes it.
    await pool(agents, REGISTER_CONCURRENCY, (a) => retryForever(shared.log, 'register node', () => a.register()));
    const registerMs = msSince(t0);
    const registered = memoryNow();

    // 2. The first agent starts alone: it claims the polling, clones, renders and places everything.
    const head = (await ctx.user.remoteHead())!;
    t0 = process.hrtime.bigint();
    const first = agents[0]!;
    await first.start();
    await waitFor(
      'the first agent to poll and place the 5,000 jobs',
      () => first.poller.polling && first.poller.brain.head === head && (first.poller.lastRound === 'idle' || first.poller.lastRound === 'unchanged'),
      { timeoutMs: 180_000, intervalMs: 20 },
    );
    const firstPollerMs = msSince(t0);
    const firstPollerStallMs = stalls.takeMax();
    const withPoller = memoryNow();
    const pollerCacheJobs = first.poller.cache?.snapshot().jobs.size ?? 0;
    ctx.log(`  N=${n}: registered in ${round(registerMs / 1000, 1)} s; first poller placed ${pollerCacheJobs} jobs in ${round(firstPollerMs / 1000, 1)} s`);

    // 3. Everyone else starts (each lists the schedule once, then watches).
    const c0 = { ...counting.counts };
    t0 = process.hrtime.bigint();
    await pool(agents.slice(1), START_CONCURRENCY, (a) => a.start());
    const followersStartMs = msSince(t0);
    const followersStallMs = stalls.takeMax();
    const followersStart = diffCounts(counting.counts, c0);
    await delay(SETTLE_MS);
    const all = memoryNow();
    const perAgent = agents.map((a) => a.jobs.size);
    ctx.log(`  N=${n}: ${n - 1} followers started in ${round(followersStartMs / 1000, 1)} s (${formatBytes(followersStart.bytesRead)} read)`);
    const claimsBefore = claims.length;

    // 4. Idle: nothing pushed for IDLE_INTERVALS poll intervals.
    let c1 = { ...counting.counts };
    let g1 = ctx.git.requests.length;
    let cpu0 = process.cpuUsage();
    let w0 = performance.now();
    stalls.takeMax();
    await delay(IDLE_INTERVALS * POLL_MS);
    const idleMs = performance.now() - w0;
    const idleCpu = process.cpuUsage(cpu0);
    const idleCounts = diffCounts(counting.counts, c1);
    const idleGit = gitCounts(ctx.git.requests, g1);
    const intervals = idleMs / POLL_MS;
    const idle = {
      ms: round(idleMs),
      intervals: round(intervals, 2),
      git: idleGit,
      advertsPerInterval: round(idleGit.adverts / intervals, 2),
      fetchesPerInterval: round(idleGit.fetches / intervals, 2),
      etcd: idleCounts,
      rates: rates(idleCounts, idleMs),
      cpuPercent: round(((idleCpu.user + idleCpu.system) / 1000 / idleMs) * 100, 1),
      rounds: tallyRounds(shared.rounds, w0),
      maxStallMs: round(stalls.takeMax()),
    };
    ctx.log(`  N=${n}: idle ${idle.rates.requestsPerS} etcd req/s, ${formatBytes(idle.rates.bytesPerS)}/s, git ${idle.advertsPerInterval} adverts + ${idle.fetchesPerInterval} fetches per interval`);

    // 5. One-file changes, each pushed at a random moment of the poll cycle.
    const changes: ChangeSample[] = [];
    const samples = samplesFor(n);
    for (let k = 0; k < samples; k++) {
      const i = (k * 997 + n) % JOBS;
      const name = jobName(i);
      const text = k % 2 === 0 ? pollJobYaml(name, 1 + ((i + 1) % 3)) : pollJobYaml(name, instancesOf(i), 80);
      ctx.user.writeFiles({ [jobPath(i)]: text });
      const sha = await ctx.user.commit(`change ${name} (N=${n}, ${k})`);
      // Pushes land at evenly spread phases of the poll cycle: after the poller's next round,
      // wait a fraction (k + jitter) / samples of an interval (so no phase-locking with the settle time).
      const seen = shared.rounds.length;
      await waitFor('the poller\'s next round', () => shared.rounds.length > seen, { timeoutMs: 30_000, intervalMs: 5 });
      await delay(((k + ctx.random()) / samples) * POLL_MS);
      const kicks0 = agents.map((a) => a.ownJobChanges);
      const guard0 = { ...shared.guard };
      c1 = { ...counting.counts };
      g1 = ctx.git.requests.length;
      w0 = performance.now();
      stalls.takeMax();
      await ctx.user.push();
      const pushMs = performance.now() - w0;
      const at = await waitFor(`${name}@${sha.slice(0, 8)} committed`, () => committedAt.get(`${name}@${sha}`), { timeoutMs: 60_000, intervalMs: 5 });
      await delay(SETTLE_MS);
      const end = performance.now();
      const etcdCounts = diffCounts(counting.counts, c1);
      changes.push({
        job: name,
        pushToCommittedMs: round(at - w0),
        pushMs: round(pushMs),
        txnAttempts: shared.guard.attempts - guard0.attempts,
        txnWon: shared.guard.won - guard0.won,
        windowMs: round(end - w0),
        etcd: etcdCounts,
        rates: rates(etcdCounts, end - w0),
        git: gitCounts(ctx.git.requests, g1),
        nodesWoken: agents.filter((a, j) => a.ownJobChanges > kicks0[j]!).length,
        rounds: tallyRounds(shared.rounds, w0, end),
        roundsAtMs: shared.rounds.filter((r) => r.at >= w0 && r.at <= end).map((r) => `${r.kind}@${Math.round(r.at - w0)}`),
        maxStallMs: round(stalls.takeMax()),
      });
    }
    ctx.log(`  N=${n}: push → committed p50 ${round(median(changes.map((c) => c.pushToCommittedMs)))} ms over ${changes.length}`);

    // 6. Hand-overs: the claim's lease revoked under the poller, then the poller cut off from etcd.
    const handOvers: HandOver[] = [];
    const expected = new Set<number>();
    for (const how of ['revoked', 'cut-off'] as const) {
      const claim = await harness.getPoller();
      const from = agents.find((a) => a.agentId === claim?.agentId);
      if (!claim || !from) {
        ctx.log(`  N=${n}: hand-over (${how}) skipped: no agent holds the poll claim`);
        continue;
      }
      const kv = (await raw.range(harness.keys.poller)).kvs[0];
      const cBefore = claims.length;
      c1 = { ...counting.counts };
      g1 = ctx.git.requests.length;
      w0 = performance.now();
      stalls.takeMax();
      if (how === 'revoked') await raw.leaseRevoke(kv!.lease);
      else from.cut();
      // The next claim after the old one disappeared (the old holder may win again after a revoke).
      const next = await waitFor(
        `a new poll claim (${how})`,
        () => {
          const gone = claims.findIndex((c, j) => j >= cBefore && c.claim === null);
          return gone < 0 ? undefined : claims.slice(gone + 1).find((c) => c.claim !== null);
        },
        { timeoutMs: 60_000, intervalMs: 5 },
      );
      const first = agents.find((a) => a.agentId === next.claim!.agentId)!;
      const firstRound = await waitFor(
        `the first claimant's first round (${how})`,
        () => shared.rounds.find((r) => r.node === first.node && r.at > next.at),
        { timeoutMs: 120_000, intervalMs: 10 },
      );
      // Stable: the latest holder's term has a finished round and the claim then stayed put for 2 poll intervals.
      // Bounded: a claim that keeps lapsing is a result, recorded as such, not a reason to wait forever.
      const settled = (): { holder: SimAgent; done: RoundEvent } | undefined => {
        const terms = claimTerms(claims, cBefore);
        const last = terms[terms.length - 1];
        if (!last || claims[claims.length - 1]!.claim === null) return undefined;
        const holder = agents.find((a) => a.agentId === last.agentId);
        const done = holder && shared.rounds.find((r) => r.node === holder.node && r.at > last.at);
        if (!holder || !done || performance.now() - done.at < 2 * POLL_MS) return undefined;
        return { holder, done };
      };
      const stable = await waitFor(`a stable poller (${how})`, settled, { timeoutMs: handOverCapMs(), intervalMs: 20 }).catch(() => undefined);
      const terms = claimTerms(claims, cBefore);
      const etcdCounts = diffCounts(counting.counts, c1);
      for (let j = cBefore; j < claims.length; j++) expected.add(j);
      handOvers.push({
        how,
        from: from.node,
        to: stable?.holder.node ?? '(none stable)',
        stable: stable !== undefined,
        holders: terms.map((t) => t.node),
        claimGapMs: round(next.at - w0),
        firstClaimantRoundMs: round(firstRound.at - w0),
        firstRoundMs: stable ? round(stable.done.at - w0) : NaN,
        firstRoundKind: stable?.done.kind ?? '–',
        claimAttempts: etcdCounts.leaseGrants,
        maxStallMs: round(stalls.takeMax()),
        windowMs: round(performance.now() - w0),
        etcd: etcdCounts,
        git: gitCounts(ctx.git.requests, g1),
      });
      ctx.log(
        `  N=${n}: hand-over (${how}) ${from.node} → ${terms.map((t) => t.node).join(' → ')}: first claim after ${round(next.at - w0)} ms, ` +
          (stable ? `stable poller's first round (${stable.done.kind}) after ${round(stable.done.at - w0)} ms` : `NO stable poller after ${round((performance.now() - w0) / 1000)} s`) +
          `, ${etcdCounts.leaseGrants} claim attempts, longest event-loop stall ${handOvers[handOvers.length - 1]!.maxStallMs} ms`,
      );
      // A cut-off agent is gone for good: stop it (it cannot reach etcd; its keys expire with its leases).
      if (how === 'cut-off') await from.stop();
    }
    const unexpectedClaimChanges = claimTerms(claims, claimsBefore).filter((t) => !expected.has(t.index)).length;

    const sortedJobs = [...perAgent].sort((a, b) => a - b);
    return {
      n,
      pollMs: POLL_MS,
      leaseTtlSeconds: LEASE_TTL_SECONDS,
      capacityPerNode: { memoryGiB: round(capacity.memory / GiB, 1), cpuCores: round(capacity.cpu / 1000, 1) },
      setup: {
        registerMs: round(registerMs),
        firstPollerMs: round(firstPollerMs),
        followersStartMs: round(followersStartMs),
        followersStart,
        firstPollerStallMs: round(firstPollerStallMs),
        followersStallMs: round(followersStallMs),
        nodesUsed: perAgent.filter((j) => j > 0).length,
        jobsPerAgent: { min: sortedJobs[0] ?? 0, median: median(sortedJobs), max: sortedJobs[sortedJobs.length - 1] ?? 0 },
      },
      memory: {
        base: roundMem(base),
        registered: roundMem(registered),
        withPoller: roundMem(withPoller),
        all: roundMem(all),
        perAgentHeapKb: round((((registered.heapMb - base.heapMb) / n + (all.heapMb - withPoller.heapMb) / (n - 1)) * 1024), 1),
        perAgentRssKb: round((((registered.rssMb - base.rssMb) / n + (all.rssMb - withPoller.rssMb) / (n - 1)) * 1024), 1),
        pollerHeapMb: round(withPoller.heapMb - registered.heapMb),
        pollerRssMb: round(withPoller.rssMb - registered.rssMb),
        pollerCacheJobs,
      },
      idle,
      changes,
      handOvers,
      unexpectedClaimChanges,
      logs: logs.snapshot(),
      logSamples: logs.samples,
      leaseLosses: shared.leaseLosses.map((l) => ({ node: l.node, atMs: Math.round(l.at - created) })),
      claimTimeline: claims.map((c) => ({ atMs: Math.round(c.at - created), node: c.claim?.node ?? null })),
    };
  } finally {
    stalls.stop();
    await pool(agents, 64, (a) => a.stop());
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await harness?.close().catch(() => undefined);
    counting?.close();
    await etcd?.stop().catch(() => undefined);
    tmp.cleanup();
  }
}

function roundMem(m: Mem): Mem {
  return { heapMb: round(m.heapMb), rssMb: round(m.rssMb) };
}

// ── the benchmark ─────────────────────────────────────────────────────

export async function runScaleBench(opts: { log?: (s: string) => void } = {}): Promise<Section> {
  const started = Date.now();
  const log = opts.log ?? ((s: string) => console.log(s));
  let git: GitServerProcess | undefined;
  let user: GitUser | undefined;
  try {
    git = await startGitServerProcess('jobs');
    user = await cloneAsUser(git.url);
    const files: Record<string, string> = { 'README.md': 'scale simulation job repository\n' };
    for (let i = 0; i < JOBS; i++) files[jobPath(i)] = pollJobYaml(jobName(i), instancesOf(i), JOB_MEMORY_MI);
    user.writeFiles(files);
    await user.commitAndPush(`${JOBS} jobs`);
    const charts = loadBuiltinCharts();
    const random = prng(20261130);
    const points: ScalePoint[] = [];
    const failed: Array<{ n: number; error: string }> = [];
    for (const n of sizes()) {
      log(`scale: N=${n}`);
      try {
        points.push(await runPoint(n, { git, user, charts, random, log }));
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        log(`  N=${n}: FAILED: ${error}`);
        failed.push({ n, error });
      }
    }
    if (points.length === 0) throw new Error(`every size failed: ${failed.map((f) => `N=${f.n}: ${f.error}`).join('; ')}`);
    const raw: ScaleRaw = {
      jobs: JOBS,
      points,
      failed,
      sharedConnection: 'one etcd client connection shared by all simulated agents (per-agent ClusterStore over a wrapper of one CountingDriver)',
    };
    return scaleSection(raw, Date.now() - started);
  } finally {
    user?.cleanup();
    await git?.stop().catch(() => undefined);
  }
}

// ── figures ───────────────────────────────────────────────────────────

interface Metric {
  id: string;
  label: string;
  unit: string;
  value(p: ScalePoint): number;
  goal?: (v: number) => Figure['goal'];
  /** What the table shows when the value is not a number (e.g. a hand-over that never settled). */
  otherwise?: (p: ScalePoint) => string;
}

const handOver = (p: ScalePoint, how: HandOver['how']): HandOver | undefined => p.handOvers.find((h) => h.how === how);
const unsettled = (how: HandOver['how']) => (p: ScalePoint): string => {
  const h = handOver(p, how);
  return h ? `not settled after ${round(h.windowMs / 1000)} s (${h.holders.length} holders)` : 'not run';
};
/** Requests other than lease keepalives (which every agent sends whatever happens). */
const besidesKeepAlives = (c: DriverCounts): number => totalRequests(c) - c.keepAlives;

const p50 = (xs: number[]): number => round(median(xs));
const p99 = (xs: number[]): number => round(percentile(xs, 99));

const METRICS: Metric[] = [
  {
    id: 'git.advertsPerInterval',
    label: 'git ref advertisements per poll interval, idle',
    unit: '',
    value: (p) => p.idle.advertsPerInterval,
    goal: (v) => goalAtMost(v, 2, '≤ 2 per interval'),
  },
  {
    id: 'git.fetchesPerInterval',
    label: 'git fetches (upload-pack) per poll interval, idle',
    unit: '',
    value: (p) => p.idle.fetchesPerInterval,
    goal: (v) => goalAtMost(v, 2, '≤ 2 per interval'),
  },
  { id: 'etcd.idle.requestsPerS', label: 'etcd requests/s cluster-wide, idle', unit: 'req/s', value: (p) => p.idle.rates.requestsPerS },
  { id: 'etcd.idle.keepAlivesPerS', label: '… of which lease keepalives/s', unit: 'req/s', value: (p) => p.idle.rates.keepAlivesPerS },
  { id: 'etcd.idle.readsPerS', label: 'etcd reads/s (ranges, in or out of txns), idle', unit: '/s', value: (p) => p.idle.rates.rangesPerS },
  { id: 'etcd.idle.bytesPerS', label: 'etcd bytes/s cluster-wide, idle (keys + values read, written and delivered by watches)', unit: 'KiB/s', value: (p) => round(p.idle.rates.bytesPerS / 1024, 2) },
  { id: 'etcd.change.requests', label: 'etcd requests per one-file change besides keepalives (push → committed + 1 s), median', unit: 'req', value: (p) => round(median(p.changes.map((c) => besidesKeepAlives(c.etcd)))) },
  { id: 'etcd.change.requestsPerS', label: 'etcd requests/s during a change, keepalives included, median', unit: 'req/s', value: (p) => p50(p.changes.map((c) => c.rates.requestsPerS)) },
  { id: 'etcd.change.watchEvents', label: 'watch events delivered per change, median', unit: '', value: (p) => p50(p.changes.map((c) => c.etcd.watchEvents)) },
  { id: 'etcd.change.bytes', label: 'etcd bytes per change (keys + values read, written and delivered by watches), median', unit: 'KiB', value: (p) => round(median(p.changes.map((c) => c.etcd.bytesRead + c.etcd.bytesWritten + c.etcd.watchBytes)) / 1024, 1) },
  { id: 'change.nodesWoken', label: 'agents woken per change (a job with an instance on their node changed), median', unit: '', value: (p) => p50(p.changes.map((c) => c.nodesWoken)) },
  { id: 'change.pushToCommitted.p50', label: 'push → committed, p50', unit: 'ms', value: (p) => p50(p.changes.map((c) => c.pushToCommittedMs)) },
  { id: 'change.pushToCommitted.p99', label: 'push → committed, p99 (= the slowest)', unit: 'ms', value: (p) => p99(p.changes.map((c) => c.pushToCommittedMs)) },
  { id: 'change.txnAttempts', label: 'schedule transaction attempts per change, mean', unit: '', value: (p) => round(p.changes.reduce((s, c) => s + c.txnAttempts, 0) / Math.max(1, p.changes.length), 2) },
  { id: 'handover.revoked', label: 'hand-over, claim revoked: → a stable new poller decided (its first round done)', unit: 'ms', value: (p) => handOver(p, 'revoked')?.firstRoundMs ?? NaN, otherwise: unsettled('revoked') },
  { id: 'handover.revoked.claim', label: 'hand-over, claim revoked: → another agent holds the claim', unit: 'ms', value: (p) => p.handOvers.find((h) => h.how === 'revoked')?.claimGapMs ?? NaN },
  { id: 'handover.cut', label: 'hand-over, poller cut off from etcd: → a stable new poller decided', unit: 'ms', value: (p) => handOver(p, 'cut-off')?.firstRoundMs ?? NaN, otherwise: unsettled('cut-off') },
  { id: 'handover.cut.claim', label: 'hand-over, poller cut off: → another agent holds the claim (the claim\'s TTL runs out)', unit: 'ms', value: (p) => p.handOvers.find((h) => h.how === 'cut-off')?.claimGapMs ?? NaN },
  { id: 'handover.holders', label: 'claim holders in turn during a hand-over (1 = the first claimant kept it), max of the two', unit: '', value: (p) => Math.max(...p.handOvers.map((h) => h.holders.length)) },
  { id: 'handover.stall', label: 'longest event-loop stall during a hand-over (the new poller\'s first round)', unit: 'ms', value: (p) => Math.max(...p.handOvers.map((h) => h.maxStallMs)) },
  { id: 'handover.claimAttempts', label: 'claim attempts in a hand-over (lease grants), max of the two', unit: '', value: (p) => Math.max(...p.handOvers.map((h) => h.claimAttempts)) },
  { id: 'memory.perAgentHeap', label: 'memory per agent: heap growth ÷ N (after GC)', unit: 'KiB', value: (p) => p.memory.perAgentHeapKb },
  { id: 'memory.rss', label: 'RSS of the simulation process with all N agents started (V8 and malloc keep what the first placement took)', unit: 'MiB', value: (p) => p.memory.all.rssMb },
  { id: 'memory.poller', label: "the poller's retained state (heap after GC: schedule cache, judged files, render, git)", unit: 'MiB', value: (p) => p.memory.pollerHeapMb },
  { id: 'start.followers', label: 'start of N − 1 followers (each lists the whole schedule once)', unit: 's', value: (p) => round(p.setup.followersStartMs / 1000, 1) },
  { id: 'start.followersBytes', label: '… bytes read from etcd by those listings', unit: 'MiB', value: (p) => round(p.setup.followersStart.bytesRead / MiB, 1) },
  { id: 'cpu.idle', label: 'CPU of the whole simulation process, idle', unit: '% of a core', value: (p) => p.idle.cpuPercent },
  { id: 'leases.lapsed', label: "node leases that lapsed (the simulation's shared event loop stalled past a TTL; they registered anew)", unit: '', value: (p) => p.leaseLosses.length },
];

function cell(v: number, unit: string): string {
  if (!Number.isFinite(v)) return '–';
  return unit === '' ? formatNumber(v) : `${formatNumber(v)} ${unit}`;
}

/** The growth table: one row per figure, one column per N. */
export function growthTable(points: readonly ScalePoint[]): string[] {
  const head = `| figure | ${points.map((p) => `N = ${p.n.toLocaleString('en-US')}`).join(' | ')} |`;
  const rule = `|---|${points.map(() => '---:').join('|')}|`;
  const show = (m: Metric, p: ScalePoint): string => {
    const v = m.value(p);
    return !Number.isFinite(v) && m.otherwise ? m.otherwise(p) : cell(v, m.unit);
  };
  return [head, rule, ...METRICS.map((m) => `| ${m.label} | ${points.map((p) => show(m, p)).join(' | ')} |`)];
}

export function scaleSection(raw: ScaleRaw, durationMs: number): Section {
  const pts = raw.points;
  const small = pts[0]!;
  const big = pts[pts.length - 1]!;
  const figures: Figure[] = [];
  for (const m of METRICS) {
    const v = m.value(big);
    if (!Number.isFinite(v)) continue; // shown in the table (e.g. a hand-over that never settled)
    figures.push({
      id: `scale.${m.id}`,
      label: `${m.label}, N = ${big.n.toLocaleString('en-US')}`,
      value: v,
      unit: m.unit,
      ...(pts.length > 1 ? { vs: { kind: 'floor' as const, label: `the same at N = ${small.n}`, value: m.value(small), unit: m.unit, measured: true } } : {}),
      ...(m.goal ? { goal: m.goal(v) } : {}),
    });
  }
  const notes: string[] = [
    `${raw.jobs.toLocaleString('en-US')} jobs (1–3 instances, 64M / 50m each) in one repository served by the git smart-HTTP harness (a child process that reports every request); one real etcd per N; --poll ${big.pollMs / 1000}s (claim TTL ${Math.max(2, Math.ceil(big.pollMs / 1000))} s), node lease TTL ${big.leaseTtlSeconds} s. Each simulated agent runs registerNode, NodeJobs (job listing + watch, own jobs only), PollerRole (PollClaim; while polling: Brain + ScheduleCache + CachedSchedule + GitSource) and writes its status record, as \`ozy agent\` does; no container engine and no node loop (a wake-up of the node loop is counted instead).`,
    `Measurement caveat: ${raw.sharedConnection}; per-connection gRPC/HTTP2 costs of N real agents are not in these figures, and the N agents share one event loop (a busy moment of one delays the others).`,
    `The table's columns: ${pts.map((p) => `N = ${p.n}: capacity ${p.capacityPerNode.memoryGiB} GiB / ${p.capacityPerNode.cpuCores} cores per node, ${p.setup.nodesUsed} nodes used, jobs per agent min/median/max ${p.setup.jobsPerAgent.min}/${p.setup.jobsPerAgent.median}/${p.setup.jobsPerAgent.max}, ${p.changes.length} pushes`).join('; ')}.`,
  ];
  for (const f of raw.failed) notes.push(`N = ${f.n} FAILED: ${f.error}`);
  for (const p of pts) {
    const ho = p.handOvers
      .map(
        (h) =>
          `${h.how}: ${h.from} → ${h.holders.join(' → ')}, first claim ${h.claimGapMs} ms, its first round ${h.firstClaimantRoundMs} ms, ${h.stable ? `stable poller's first round (${h.firstRoundKind}) ${h.firstRoundMs} ms` : `no stable poller within ${h.windowMs} ms`}, ${h.claimAttempts} claim attempts, ${totalRequests(h.etcd)} etcd requests, ${formatBytes(h.etcd.bytesRead)} read, ${h.git.adverts} ref advertisements + ${h.git.fetches} fetches, longest stall ${h.maxStallMs} ms`,
      )
      .join('; ');
    const warn = Object.entries(p.logs).filter(([k]) => !k.startsWith('info')).map(([k, v]) => `${v}× "${k}"`).join(', ');
    notes.push(
      `N = ${p.n}: setup — register ${round(p.setup.registerMs / 1000, 1)} s, first poller (clone, render, place ${p.memory.pollerCacheJobs} jobs) ${round(p.setup.firstPollerMs / 1000, 1)} s, ${p.n - 1} followers started in ${round(p.setup.followersStartMs / 1000, 1)} s reading ${formatBytes(p.setup.followersStart.bytesRead)}. ` +
        `Longest event-loop stalls: first poller ${p.setup.firstPollerStallMs} ms, followers' start ${p.setup.followersStallMs} ms, idle ${p.idle.maxStallMs} ms, changes ${Math.max(...p.changes.map((c) => c.maxStallMs))} ms. Idle (${p.idle.intervals} intervals): ${p.idle.git.adverts} ref advertisements, ${p.idle.git.fetches} fetches; etcd ${p.idle.rates.requestsPerS} req/s (keepalives ${p.idle.rates.keepAlivesPerS}, txns ${p.idle.rates.txnsPerS}, ranges ${p.idle.rates.rangesPerS}, puts ${p.idle.rates.putsPerS}, watch events ${p.idle.rates.watchEventsPerS}/s); poller rounds ${JSON.stringify(p.idle.rounds)}. ` +
        `Changes: push → committed ${p.changes.map((c) => c.pushToCommittedMs).join(', ')} ms (the push itself p50 ${p50(p.changes.map((c) => c.pushMs))} ms); txn attempts ${p.changes.map((c) => c.txnAttempts).join(', ')}. Hand-overs — ${ho}. ` +
        `Memory: heap after GC ${p.memory.base.heapMb} → registered ${p.memory.registered.heapMb} → with the poller ${p.memory.withPoller.heapMb} → all started ${p.memory.all.heapMb} MiB; RSS ${p.memory.base.rssMb} → ${p.memory.registered.rssMb} → ${p.memory.withPoller.rssMb} → ${p.memory.all.rssMb} MiB.` +
        (p.unexpectedClaimChanges > 0 ? ` ${p.unexpectedClaimChanges} poll-claim change(s) the bench did not cause.` : '') +
        (p.leaseLosses.length > 0 ? ` ${p.leaseLosses.length} node lease(s) lapsed under event-loop stalls (the agents registered anew).` : '') +
        (warn ? ` Agents logged: ${warn}.` : ''),
    );
  }
  return {
    id: 'scale',
    title: `Scale simulation: N agents' control planes, ${raw.jobs.toLocaleString('en-US')} jobs`,
    figures,
    notes,
    durationMs,
    raw,
    markdown: ['How each figure grows with N (all measured in this run):', '', ...growthTable(pts)],
  };
}

/** bench/results/scale.json: the section with everything measured. */
export function writeScaleJson(section: Section, meta: { startedAt: string; command: string; machine: unknown }): string {
  const dir = path.join(projectRoot(), 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'scale.json');
  fs.writeFileSync(file, `${JSON.stringify({ ...meta, section }, null, 2)}\n`);
  return file;
}

/** Rewrites the scale block of docs/benchmarks.md from a section (as run.ts does for every bench). */
export function writeScaleDoc(section: Section, ctx: { date: string; machine: string; command: string }): string {
  const file = path.join(projectRoot(), 'docs', 'benchmarks.md');
  const doc = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  fs.writeFileSync(file, updateDoc(doc, new Map([[section.id, sectionMarkdown(section, ctx)]]), DOC_ORDER));
  return file;
}

/** The order of the generated blocks (run.ts's BENCHES). */
const DOC_ORDER = ['scheduler', 'latency', 'failover', 'node', 'poll', 'footprint', 'scale'];

if (require.main === module && process.argv.includes('--docs-from-json')) {
  // Re-render the docs block from the last standalone run's bench/results/scale.json (no new measurement).
  const saved = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'bench', 'results', 'scale.json'), 'utf8')) as {
    startedAt: string;
    command: string;
    machine: Parameters<typeof machineLine>[0];
    section: Section;
  };
  // The figures are recomputed from the raw measurements with this build's presentation.
  const section = scaleSection(saved.section.raw as ScaleRaw, saved.section.durationMs);
  writeScaleJson(section, { startedAt: saved.startedAt, command: saved.command, machine: saved.machine });
  const file = writeScaleDoc(section, { date: saved.startedAt, machine: machineLine(saved.machine), command: saved.command });
  console.log(`updated: ${path.relative(process.cwd(), file)} (scale, re-rendered from the measurements of ${saved.startedAt})`);
} else if (require.main === module) {
  const machine = describeMachine();
  const command = ['node', path.relative(process.cwd(), process.argv[1] ?? 'dist/bench/scale.js'), ...process.argv.slice(2)].join(' ');
  const startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  console.log(`Ozymandias scale simulation · ${startedAt}\nmachine: ${machineLine(machine)}\ncommand: ${command}\n`);
  runScaleBench().then(
    (section) => {
      console.log(sectionText(section).join('\n'));
      console.log(['', ...(section.markdown ?? [])].join('\n'));
      console.log(`results: ${path.relative(process.cwd(), writeScaleJson(section, { startedAt, command, machine }))}`);
      if (!process.argv.includes('--no-docs')) {
        const file = writeScaleDoc(section, { date: startedAt, machine: machineLine(machine), command });
        console.log(`updated: ${path.relative(process.cwd(), file)} (scale)`);
      }
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

