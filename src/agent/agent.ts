// `ozy agent`: one process per node. It wires the modules together:
//   1. register the node under an etcd lease (resume it after a quick restart)
//   2. a node whose lease had expired stops what it still runs (others took it over),
//      before taking work; a restart in the middle of that does it again
//   3. poll claim (agent/poller-role.ts): one agent (the claim holder) polls git for the cluster and
//      runs the brain loop — every --poll, and at once when the watch-fed
//      schedule changes (a node joins or dies); the others only follow
//      (agent/poll-claim.ts); any agent takes over when the poller dies
//   4. node loop: watch accepted jobs, keep those with an instance here (agent/node-jobs.ts), reconcile
//      this node's containers when they change; resync periodically
//   5. publish the agent's own status (git head, last git error) for `ozy status`,
//      and the CPU use of this node's instances of autoscaled jobs (cpu-sampler.ts)
//   6. lease lost (etcd says so) → fence: stop local containers, register anew, re-list jobs
//   7. strict mode (--fence-on-expiry): no renewal for a whole TTL → fence at once;
//      a later renewal (the lease survived, e.g. etcd was down for everyone) lifts it
//   8. the HTTP endpoint (observe/agent-endpoint.ts), bound before registering: /metrics
//      from what the loops already hold, /healthz, /readyz, /v1/logs; its address
//      goes into the agent's etcd record
// While fenced the node loop does nothing, and status / DNS keys are never
// deleted on behalf of a lease that is gone (see OwnedKeys).
// Failure model and trade-offs: docs/fault-tolerance.md.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config';
import type { InstanceStatus } from '../model/cluster';
import { loadBuiltinCharts } from '../render';
import { createEngine, PodRuntime, type ContainerEngine } from '../runtime';
import { GitSource } from '../source';
import { ClusterStore, type NodeSession } from '../store';
import { NodeAgent, type NodeStatusSink } from './node-agent';
import { NodeJobs } from './node-jobs';
import { CronDriver } from './cron-driver';
import { Autoscaler } from './autoscaler';
import { SecretIdentity } from '../secrets/age';
import type { SecretRef } from '../model/job';
import { RunExecutor } from './run-executor';
import { ExitBatcher } from './exit-batcher';
import { runSlotsFor } from '../cron/assignments';
import { scheduleTimes } from '../cron/next-run';
import { jobChangeConcernsNode } from './node-plan';
import { PollerRole } from './poller-role';
import { Loop } from './loop';
import { retryForever } from './retry';
import { AgentEndpoint } from '../observe/agent-endpoint';
import { allocatedByNode } from '../schedule';

/**
 * The node loop's own period. Jobs come from the watch and each change of
 * this node's instances kicks the loop; a round whose assignments did not
 * change asks neither etcd nor the engine. The engine resync (and the retry
 * after an engine outage) is the NodeAgent's: on its event stream's reconnect.
 */
const NODE_LOOP_MS = 60_000;

/** What survives an agent restart: the lease to try to resume. */
interface AgentState {
  node: string;
  leaseId: string;
  /**
   * Every container of this node was started or adopted under this lease:
   * false from a new registration until the previous lease's leftovers are
   * stopped. A process killed in between must not adopt those leftovers.
   */
  clean: boolean;
}

/** Tunables that are not flags (tests and benchmarks set them). */
export interface AgentOptions {
  /** How often instances of autoscaled jobs are sampled for CPU. Default 2000 ms. */
  cpuSampleMs?: number;
}

export class Agent {
  private session?: NodeSession;
  private readonly agentId = randomUUID();
  private readonly store: ClusterStore;
  private readonly engine: ContainerEngine;
  private readonly git: GitSource;
  private readonly nodeAgent: NodeAgent;
  private readonly nodeLoop: Loop;
  /** The poll claim and, while we hold it, the watch-fed schedule and the brain loop. */
  private readonly poller: PollerRole;
  /** The jobs with an instance on this node, from the job watch. */
  private readonly jobs: NodeJobs;
  /** Cron: node-cron tasks and cron rounds (cron-driver.ts). */
  private readonly cron: CronDriver;
  /** The poller's autoscaler: CPU records → wanted counts for the brain (autoscaler.ts). */
  private readonly autoscaler: Autoscaler;
  /** The cron run pods placed on this node, run to completion (run-executor.ts). */
  private readonly runs: RunExecutor;
  private cronChangeQueued = false;
  private readonly stops: Array<() => Promise<void> | void> = [];
  private stopped = false;
  private lastAgentStatus = '';
  /** Set while this node must not run instances: lease lost or (strict) maybe expired. */
  private fenced: false | 'lease-lost' | 'lease-may-have-expired' = false;
  private readonly owned = new OwnedKeys();
  /** Metrics, health, readiness and logs over HTTP (--http). */
  private readonly endpoint: AgentEndpoint;
  /** The first node round is done (readiness). */
  private firstRoundDone = false;

  constructor(
    private readonly cfg: AgentConfig,
    private readonly log: Logger,
    opts: AgentOptions = {},
  ) {
    // Loaded once, before anything is opened; refused unless only its owner can read it (SecretIdentityError).
    const identity = cfg.secretsIdentity !== undefined ? SecretIdentity.load(cfg.secretsIdentity) : undefined;
    this.store = ClusterStore.connect({
      endpoints: cfg.etcd,
      prefix: cfg.etcdPrefix,
      ...(cfg.etcdAccess.tls ? { tls: cfg.etcdAccess.tls } : {}),
      ...(cfg.etcdAccess.auth ? { auth: cfg.etcdAccess.auth } : {}),
      onCorrupt: (err) => log.warn({ err: err.message }, 'skipped a corrupt value in etcd'),
    });
    this.engine = createEngine({ socketPath: cfg.dockerSocket });
    const pods = new PodRuntime({
      ...(identity ? { revealSecret: (ref: SecretRef) => identity.decrypt(Buffer.from(ref.ciphertext, 'base64')) } : {}),
      engine: this.engine,
      node: cfg.node,
      volumes: { dataDir: cfg.dataDir, sharedRoot: cfg.sharedDir },
      hostIp: cfg.publishIp,
      ...(cfg.containerDns ? { dns: { server: cfg.containerDns, search: cfg.dnsZone } } : {}),
    });
    this.git = new GitSource({
      url: cfg.repo,
      branch: cfg.branch,
      dir: path.join(cfg.dataDir, 'repo'),
      ...(cfg.gitToken ? { token: cfg.gitToken } : {}),
      ...(cfg.gitUsername ? { username: cfg.gitUsername } : {}),
      author: { name: `ozy agent ${cfg.node}`, email: `ozy-agent@${cfg.node}` },
    });
    this.nodeAgent = new NodeAgent({
      node: cfg.node,
      address: cfg.address,
      dnsZone: cfg.dnsZone,
      engine: this.engine,
      pods,
      log: log.child({ loop: 'node' }),
      sink: this.leaseBoundSink(),
      elsewhere: async (node, instance) => (await this.store.readInstanceStatuses([{ node, instance }])).length > 0,
      // The node's own key, on its lease: a deletion while fenced is harmless (nobody else writes it).
      publishCpu: (record) => this.store.publishNodeCpu(this.requireSession(), record),
      ...(opts.cpuSampleMs !== undefined ? { cpuSampleMs: opts.cpuSampleMs } : {}),
      onError: () => this.endpoint.metrics.recordReconcileError('node'),
    });
    this.endpoint = new AgentEndpoint({
      node: cfg.node,
      address: cfg.address,
      http: cfg.http,
      apiToken: cfg.apiToken,
      engine: this.engine,
      log,
      notReadyBecause: () => this.notReadyBecause(),
      source: {
        instanceStates: () => this.nodeAgent.statuses().map((s) => s.state),
        capacity: () => ({ memory: cfg.memory, disk: cfg.disk, cpu: cfg.cpu }),
        allocated: () => allocatedByNode(this.jobs.values()).get(cfg.node) ?? { memory: 0, disk: 0, cpu: 0 },
        leaseHeld: () => this.leaseHeld(),
        firstRoundDone: () => this.firstRoundDone,
        polling: () => this.poller.polling,
        cluster: () => {
          const cache = this.poller.cache;
          return cache ? { jobs: cache.acceptedJobs().values(), nodes: cache.nodeCount, rejections: cache.rejectionCount } : undefined;
        },
        autoscale: () =>
          [...this.autoscaler.recommendations()].map(([job, r]) => ({
            job,
            desired: this.autoscaler.wanted().counts.get(job) ?? r.count,
            ...(r.averagePercent !== undefined ? { cpuRatio: r.averagePercent / 100 } : {}),
          })),
        now: () => Date.now(),
      },
    });
    this.cron = new CronDriver(this.store, {
      log: log.child({ loop: 'cron' }),
      compile: scheduleTimes,
      onEvents: (events) => this.endpoint.onCronEvents(events),
    });
    const exits = new ExitBatcher(this.store);
    this.runs = new RunExecutor({
      node: cfg.node,
      engine: this.engine,
      pods,
      log: log.child({ loop: 'runs' }),
      reporter: {
        reportExit: async (a, exit) => {
          const ordinal = Number(a.instance.slice(a.instance.lastIndexOf('-') + 1));
          const res = await exits.report({ job: a.job, run: a.run, ordinal, attempt: a.attempt, node: cfg.node, exit });
          if (res.kind === 'recorded') log.info({ run: a.run, instance: a.instance, outcome: res.settled.kind, reason: exit.reason }, 'run pod ended');
        },
      },
    });
    this.autoscaler = new Autoscaler({
      log: log.child({ loop: 'autoscale' }),
      openCpu: (onChange) =>
        this.store.openCpuMirror({ onChange, onError: (err) => log.warn({ err: err.message }, 'CPU records watch error') }),
      jobs: () => this.poller.cache?.acceptedJobs().values() ?? [],
      onWanted: () => this.poller.kick(),
    });
    this.poller = new PollerRole(this.store, this.endpoint.countFetches(this.git), {
      node: cfg.node,
      agentId: this.agentId,
      pollMs: cfg.pollMs,
      brain: {
        reportBranch: cfg.reportBranch,
        reportsDir: cfg.reportsDir,
        staleCommitMs: Math.max(3 * cfg.pollMs, 10_000),
        builtinCharts: loadBuiltinCharts(),
        autoscale: () => this.autoscaler.wanted(),
        ...(identity ? { secretsIdentity: identity } : {}),
      },
      log,
      onRound: (result, seconds) => {
        this.endpoint.onRound(result, seconds);
        if (result.kind === 'committed') this.nodeLoop.kick();
      },
      onRoundError: (seconds) => this.endpoint.onRoundError(seconds),
      publishStatus: () => this.publishAgentStatus(),
      onDriving: async (cache) => {
        if (cache) {
          this.cron.attach(cache);
          await this.autoscaler.attach();
        } else {
          await this.autoscaler.detach();
          await this.cron.detach();
        }
      },
      onScheduleChange: (what) => this.cron.onScheduleChange(what),
    });
    // A node reacts only to changes of its own instances.
    this.jobs = new NodeJobs(this.store, cfg.node, log, (before, after) => {
      // Both undefined: a re-list replaced the whole view (compacted history): reconcile.
      const relisted = before === undefined && after === undefined;
      if (relisted || jobChangeConcernsNode(cfg.node, before, after)) this.nodeLoop.kick();
    }, () => this.onCronChange());
    // The watch drives the node loop; the periodic resync catches anything a watch missed.
    this.nodeLoop = new Loop('node', NODE_LOOP_MS, () => this.nodeRound(), log);
  }

  /** Starts everything; resolves once the node is registered and the loops run. */
  async start(): Promise<void> {
    const { cfg, log } = this;
    fs.mkdirSync(cfg.dataDir, { recursive: true });
    fs.mkdirSync(cfg.sharedDir, { recursive: true });
    // Before registering: an explicit --http that cannot bind must stop the agent before it takes work.
    await this.endpoint.listen();
    this.stops.push(() => this.endpoint.close());
    await this.register();
    await this.jobs.start();
    this.stops.push(() => this.jobs.stop());
    await retryForever(log, 'list run pods', () => this.runs.start());
    this.stops.push(() => this.runs.stop(), () => this.cron.stop());
    this.onCronChange();
    this.nodeLoop.start();
    await retryForever(log, 'watch the poll claim', () => this.poller.start());
    await this.publishAgentStatus();
    if (cfg.fenceOnExpiry) this.watchLeaseClock();
    log.info(
      { node: cfg.node, lease: this.session?.leaseId, resumed: this.session?.resumed, fenceOnExpiry: cfg.fenceOnExpiry, http: this.endpoint.httpAddress ?? 'off' },
      'agent running',
    );
  }

  /** Stops the loops and leaves containers running: a restart within the lease adopts them. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.poller.stop();
    await this.nodeLoop.stop();
    for (const stop of this.stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
    await this.nodeAgent.close();
    await this.session?.release().catch(() => undefined);
    await this.store.close().catch(() => undefined);
  }

  // ── registration and fencing ──────────────────────────────────────

  private async register(): Promise<void> {
    const { cfg, log } = this;
    const saved = readState(cfg.dataDir, cfg.node);
    const info = {
      name: cfg.node,
      address: cfg.address,
      ...(cfg.zone ? { zone: cfg.zone } : {}),
      labels: cfg.labels,
      capacity: { memory: cfg.memory, disk: cfg.disk, cpu: cfg.cpu },
    };
    // etcd may not be up yet (e.g. the whole cluster is starting): keep trying.
    // A live lease holding our name is most likely our own previous process
    // whose lease we could not resume (state file lost): wait for it to lapse.
    // Past two TTLs it is another live agent using this name: give up loudly.
    const takenUntil = Date.now() + 2 * cfg.leaseTtlSeconds * 1000 + 1000;
    const session = await retryForever(log, 'register node', () =>
      this.store.registerNode(info, {
        ttlSeconds: cfg.leaseTtlSeconds,
        agentId: this.agentId,
        ...(saved ? { resumeLeaseId: saved.leaseId } : {}),
      }),
      (err) => (err as { code?: string }).code !== 'NODE_TAKEN' || Date.now() < takenUntil,
    );
    this.session = session;
    // Leftovers: containers of an expired lease, or of a resumed one whose previous process
    // died before it had stopped such leftovers.
    const leftovers = !session.resumed || saved?.clean === false;
    writeState(cfg.dataDir, { node: cfg.node, leaseId: session.leaseId, clean: !leftovers });
    // Keys on a resumed, clean lease that this process did not write are its predecessor's.
    this.owned.inherit(leftovers ? undefined : session.leaseId);
    if (leftovers) {
      // Our previous lease expired (or we never had one): whatever still runs here
      // was rescheduled elsewhere, so it must go before we take new work (invariant 7).
      // If the engine is away, keep trying: starting work first could run an instance twice.
      await retryForever(log, 'stop containers of the expired lease', () => this.stopEverything());
      writeState(cfg.dataDir, { node: cfg.node, leaseId: session.leaseId, clean: true });
    }
    this.stops.push(
      session.on('lost', () => void this.onLeaseLost(session)),
      session.on('renewed', () => this.onRenewed(session)),
    );
  }

  /** etcd says our lease is gone: our instances run elsewhere now. Stop them, then start over. */
  private async onLeaseLost(lost: NodeSession): Promise<void> {
    if (this.stopped || this.session !== lost) return;
    this.log.error({ lease: lost.leaseId, alreadyFenced: this.fenced }, 'lease lost: stopping local instances and registering anew');
    this.fenced = 'lease-lost';
    await retryForever(this.log, 'fence: stop local instances', () => this.stopEverything());
    if (this.stopped) return;
    await this.register();
    // The job watch may lag behind (it was cut off too): judge from a fresh listing.
    await retryForever(this.log, 're-list jobs', () => this.jobs.relist());
    this.fenced = false;
    this.log.info({ lease: this.session?.leaseId }, 'registered anew after losing the lease');
    this.nodeLoop.kick();
    this.poller.kick();
    this.onCronChange();
  }

  /**
   * Strict mode: every so often, ask whether a whole TTL has passed since
   * the last successful renewal. If so etcd may have dropped the lease and
   * others may be starting our instances: stop them now rather than when
   * (if ever) etcd confirms it.
   */
  private watchLeaseClock(): void {
    const everyMs = Math.max(100, Math.min(500, (this.cfg.leaseTtlSeconds * 1000) / 10));
    const timer = setInterval(() => {
      const session = this.session;
      if (this.stopped || this.fenced !== false || !session || session.isLost() || !session.mayHaveExpired()) return;
      void this.fenceOnExpiry(session);
    }, everyMs);
    timer.unref();
    this.stops.push(() => clearInterval(timer));
  }

  private async fenceOnExpiry(session: NodeSession): Promise<void> {
    this.fenced = 'lease-may-have-expired';
    this.log.error(
      { lease: session.leaseId, lastRenewedAt: new Date(session.lastRenewedAt()).toISOString(), ttlSeconds: session.ttlSeconds },
      'no lease renewal for a whole TTL: fencing (stopping local instances) until the lease is renewed or replaced',
    );
    await retryForever(this.log, 'fence: stop local instances', () => this.stopEverything());
    this.log.info('fenced: local instances stopped');
    // A renewal may have come while we were stopping: lift the fence now, then.
    if (this.session === session && !session.isLost() && !session.mayHaveExpired()) this.onRenewed(session);
  }

  /** Strict mode: the lease survived the outage (nobody rescheduled us): run our instances again. */
  private onRenewed(session: NodeSession): void {
    if (this.stopped || this.fenced !== 'lease-may-have-expired' || this.session !== session || session.isLost()) return;
    this.fenced = false;
    this.log.warn({ lease: session.leaseId }, 'lease renewed after fencing: it survived; starting local instances again');
    void retryForever(this.log, 're-list jobs', () => this.jobs.relist()).then(() => {
      this.nodeLoop.kick();
      this.onCronChange();
    });
  }

  /**
   * Status and DNS writes for the node agent. Puts go on the current lease;
   * deletions follow OwnedKeys, and a DNS deletion first proves the lease
   * alive: the key is the instance's, not ours, and if our lease lapsed
   * unnoticed (we were cut off, and the job watch caught up before the
   * keepalive did) the instance runs elsewhere now and the key holds its new
   * home's record. When the lease is gone renewNow() throws (nothing is
   * deleted) and the session turns lost, so we fence.
   */
  private leaseBoundSink(): NodeStatusSink {
    return {
      putStatus: async (s: InstanceStatus) => {
        const session = this.requireSession();
        await this.store.putInstanceStatus(session, s);
        this.owned.wrote(statusKey(s.instance), session);
        this.endpoint.onStatus(s);
      },
      deleteStatus: async (instance: string) => {
        if (!this.owned.mayDelete(statusKey(instance), this.session, this.fenced !== false)) return;
        await this.store.deleteInstanceStatus(this.cfg.node, instance);
        this.owned.deleted(statusKey(instance));
        this.endpoint.onStatusDeleted(instance);
      },
      putDns: async (key, rec) => {
        const session = this.requireSession();
        await this.store.putDnsRecord(session, key, rec);
        this.owned.wrote(key, session);
      },
      deleteDns: async (key) => {
        const session = this.session;
        if (!session || !this.owned.mayDelete(key, session, this.fenced !== false)) return;
        await session.renewNow();
        await this.store.deleteDnsRecord(key);
        this.owned.deleted(key);
      },
    };
  }

  /** Every service instance and every run pod of this node (fencing; an expired lease's leftovers). */
  private async stopEverything(): Promise<void> {
    await this.nodeAgent.stopAll();
    await this.runs.removeAll();
  }

  private requireSession(): NodeSession {
    if (!this.session) throw new Error('node not registered');
    return this.session;
  }

  // ── loops ─────────────────────────────────────────────────────────

  /**
   * A cron job or a run state changed: the node-cron tasks follow the jobs,
   * the executor this node's run pods. Coalesced: a thousand claims in one
   * burst arrive as a thousand watch events, and one look after them is enough.
   */
  private onCronChange(): void {
    if (this.cronChangeQueued) return;
    this.cronChangeQueued = true;
    setImmediate(() => {
      this.cronChangeQueued = false;
      this.applyCronChange();
    });
  }

  private applyCronChange(): void {
    if (this.stopped) return;
    this.cron.setJobs(this.jobs.cronJobs());
    // Fenced: what etcd says runs here may already have been judged lost; nothing starts.
    if (this.fenced !== false || !this.session) return;
    this.runs.assign(runSlotsFor(this.cfg.node, this.session.leaseId, this.jobs.runs(), (name) => this.jobs.cronJob(name)));
  }

  private async nodeRound(): Promise<void> {
    // Fenced: our view of the schedule may be stale and others may run our instances.
    if (this.fenced !== false) return;
    // No engine ping: an unchanged round asks nothing, and an engine that is away is
    // retried by the NodeAgent's event stream, which resyncs as soon as it answers again.
    await this.nodeAgent.reconcile(this.jobs.values());
    this.firstRoundDone = true;
  }

  /** The node's lease is held and it is not fenced. */
  private leaseHeld(): boolean {
    return this.session !== undefined && !this.session.isLost() && this.fenced === false;
  }

  /** /readyz: why this agent should not count as ready, or undefined. */
  private notReadyBecause(): string | undefined {
    if (this.stopped) return 'stopping';
    if (!this.session) return 'registering the node in etcd';
    if (this.session.isLost() || this.fenced === 'lease-lost') return 'lease lost: fenced until registered anew';
    if (this.fenced === 'lease-may-have-expired') return 'lease may have expired: fenced';
    if (!this.firstRoundDone) return 'first node round not done';
    return undefined;
  }

  /**
   * The agent's record for `ozy status`. A follower's git view is the poller's
   * (`ozy status` shows it from the poller key), so followers write this only
   * when their own role changes, never per head.
   */
  private async publishAgentStatus(): Promise<void> {
    const http = this.endpoint.httpAddress;
    const status = { ...this.poller.agentStatus(), ...(http ? { http } : {}) };
    const text = JSON.stringify(status);
    if (text === this.lastAgentStatus || !this.session) return;
    await this.store.putAgentStatus(this.session, { ...status, at: new Date().toISOString() });
    this.lastAgentStatus = text;
  }
}

/**
 * Which status and DNS keys this process may delete. Each hangs on the lease
 * it was written under, so when that lease is gone the key is gone too. And
 * a DNS key belongs to the instance, not the node: after a failover the same
 * key holds the record of the instance's new home, which a deletion by the
 * old node (fencing, or stopping leftovers after a restart) would unpublish.
 * So: delete only what was written under the current live lease, by this
 * process or (a clean resumed lease) by its predecessor; nothing while
 * fenced (etcd may be out of reach, and the lease's fate decides the keys').
 */
class OwnedKeys {
  /** key → lease it was last written under, by this process. */
  private readonly written = new Map<string, string>();
  /** A lease whose keys this process did not write may still be its own (resumed after a restart). */
  private inherited: string | undefined;

  inherit(leaseId: string | undefined): void {
    this.inherited = leaseId;
  }

  wrote(key: string, session: NodeSession): void {
    this.written.set(key, session.leaseId);
  }

  deleted(key: string): void {
    this.written.delete(key);
  }

  mayDelete(key: string, session: NodeSession | undefined, fenced: boolean): boolean {
    if (fenced || !session || session.isLost()) return false;
    const lease = this.written.get(key);
    if (lease === undefined) return this.inherited === session.leaseId;
    if (lease === session.leaseId) return true;
    this.written.delete(key);
    return false;
  }
}

function statusKey(instance: string): string {
  return `status:${instance}`;
}

function statePath(dataDir: string): string {
  return path.join(dataDir, 'agent-state.json');
}

function readState(dataDir: string, node: string): AgentState | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(statePath(dataDir), 'utf8')) as Partial<AgentState>;
    // A state file without `clean` predates it: its agent adopted on resume, so do we.
    return s.node === node && typeof s.leaseId === 'string' ? { node, leaseId: s.leaseId, clean: s.clean !== false } : undefined;
  } catch {
    return undefined;
  }
}

function writeState(dataDir: string, s: AgentState): void {
  const tmp = `${statePath(dataDir)}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(s));
  fs.renameSync(tmp, statePath(dataDir));
}
