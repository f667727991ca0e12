// The node side of the agent: what this node does with the instances the
// schedule assigns to it. reconcile() compares the accepted jobs with the
// containers the engine runs here (by label) and:
//   1. stops instances no longer assigned here (drain, containers, local volumes, status, DNS)
//   2. replaces instances whose accepted spec changed (local volumes stay: same instance)
//   3. starts instances newly assigned here
//   4. adopts instances that already run here but have no supervisor (the agent restarted):
//      their containers are kept as they are, only supervised again
//   5. retries status / DNS deletions that failed earlier
//   6. deletes the persistent volumes of jobs no longer accepted (a stopped
//      or scaled-away instance keeps its own: only the job's deletion ends them)
// Each instance is then looked after by its InstanceSupervisor. Only
// containers labelled with this node are ever touched; engine and etcd
// errors are logged and retried on the next call, never thrown.
//
// What it costs when nothing happens: nothing. reconcile() with the same
// assignments as last time (a change elsewhere in the cluster) returns
// without asking the engine; supervisors learn about their containers from
// the engine's event stream (EngineWatch), which this class routes by the
// ozy.instance label. The safety net is a slow resync (timing.resyncMs, and
// whenever the event stream reconnects): one listing of the node's
// containers, handed to every supervisor.
//
// Every stop drains first (drain.ts): out of DNS and ingress, the etcd
// writes awaited, a short delay for `ozy ingress`, then SIGTERM and SIGKILL
// within the pod's stopGrace, in reverse depends_on order (runtime/pod-stop.ts).
//
// Instances of autoscaled jobs are also sampled for CPU (cpu-sampler.ts):
// the sampler runs only while this node supervises some, and is poked
// whenever a reconcile may have changed them.
import type { Logger } from 'pino';
import type { NodeCpu } from '../model/autoscale';
import { placementName, type AcceptedJob, type InstanceStatus } from '../model/cluster';
import { stopGraceOf } from '../model/job';
import { dnsKey } from '../network/dns';
import { LABEL, groupByInstance, stopOptionsOf, type ContainerEngine, type EngineEvent, type InspectedContainer, type PodStopOptions } from '../runtime';
import { CpuSampler, DEFAULT_CPU_SAMPLE_MS } from './cpu-sampler';
import { cpuTargetOf, type CpuTarget } from './cpu-sampling';
import { drain } from './drain';
import { EngineWatch } from './engine-watch';
import { StatusPublisher, type NodeStatusSink } from './instance-publisher';
import type { Probes } from './instance-probe';
import { DEFAULT_TIMING, InstanceSupervisor, type SupervisorEngine, type SupervisorPods, type SupervisorTiming } from './instance-supervisor';
import { runningInstances } from './instance-view';
import { runsOn } from './node-jobs';
import { assignmentKey, assignmentsFor, planNode, type AssignedInstance, type NodePlan } from './node-plan';

export type { NodeStatusSink } from './instance-publisher';
export type { SupervisorTiming } from './instance-supervisor';

export interface NodeTiming extends SupervisorTiming {
  /**
   * A drain's propagation delay: after the DNS record and the endpoints are
   * gone from etcd, how long every `ozy ingress` (and DNS cache) gets to see
   * it before SIGTERM. Skipped when the instance took no traffic. Default 1000 ms.
   */
  drainDelayMs: number;
}

export const DEFAULT_NODE_TIMING: NodeTiming = { ...DEFAULT_TIMING, drainDelayMs: 1000 };

/** The engine calls of the node agent: the supervisors', the event stream and CPU samples. */
export type NodeEngine = SupervisorEngine & Pick<ContainerEngine, 'events' | 'stats' | 'statsMany'>;

export interface NodeAgentOptions {
  node: string;
  /** The node's --address: the host of DNS records for pods that publish a port. */
  address: string;
  /** e.g. "ozy.local". */
  dnsZone: string;
  /** CoreDNS etcd plugin `path`. Default "/skydns" (the store's default too). */
  dnsRoot?: string;
  engine: NodeEngine;
  pods: SupervisorPods;
  sink: NodeStatusSink;
  log: Logger;
  /** Clock for timestamps and back-off. Default Date.now. */
  now?: () => number;
  /** Resync, back-off, readiness and drain timings; defaults in DEFAULT_NODE_TIMING. Tests shorten them. */
  timing?: Partial<NodeTiming>;
  /** Event stream reconnect back-off (EngineWatch). Defaults 250 ms doubling to 2 s. */
  eventRetry?: { baseMs: number; maxMs: number };
  /** Health probes; default the real HTTP / TCP probes. */
  probes?: Probes;
  /** Whether `node` still publishes a status for `instance` (an instance moving here waits for it to go). */
  elsewhere?(node: string, instance: string): Promise<boolean>;
  /**
   * Writes the node's CPU record (null deletes it), on the node's lease.
   * Without it, nothing is sampled.
   */
  publishCpu?(record: NodeCpu | null): Promise<void>;
  /** How often instances of autoscaled jobs are sampled for CPU. Default 2000 ms. */
  cpuSampleMs?: number;
  /** A reconcile step failed (it is retried): counted by the agent's metrics. */
  onError?(what: string): void;
}

/**
 * Instances stopped at once: a stop can take the whole SIGTERM grace (busybox
 * and many PID 1s ignore SIGTERM), so one at a time would make a scale-down
 * of many instances slow; the engine handles a few in parallel well.
 */
const STOP_CONCURRENCY = 8;

/** A reconcile that left work behind (a stop failed, the listing failed) is tried again this soon. */
const UNSETTLED_RETRY_MS = 5000;

/** An instance moving here from a node that still runs it is looked at again this soon (drain, then start). */
const HANDOVER_RETRY_MS = 300;

export class NodeAgent {
  private readonly supervisors = new Map<string, InstanceSupervisor>();
  /** Publishers of terminated instances whose status / DNS deletion has not been written yet. */
  private readonly retiring = new Map<string, StatusPublisher>();
  private readonly timing: NodeTiming;
  private readonly now: () => number;
  private readonly log: Logger;
  /** Every operation runs after the previous one (reconcile, stopAll, close never overlap). */
  private tail: Promise<void> = Promise.resolve();
  private queued: { jobs: AcceptedJob[]; run: Promise<void> } | undefined;
  private closed = false;
  /** The jobs of the last reconcile() call: what a resync reconciles against. Cleared by stopAll (fenced). */
  private lastJobs: AcceptedJob[] | undefined;
  /** assignmentKey of the last reconcile that completed without leaving work behind. */
  private settledKey: string | undefined;
  /** jobSetKey of the accepted jobs the persistent volumes were last pruned against. */
  private prunedKey: string | undefined;
  private watch: EngineWatch | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly sampler: CpuSampler | undefined;

  constructor(private readonly opts: NodeAgentOptions) {
    this.timing = { ...DEFAULT_NODE_TIMING, ...(opts.timing ?? {}) };
    this.now = opts.now ?? Date.now;
    this.log = opts.log;
    const publish = opts.publishCpu;
    if (publish) {
      this.sampler = new CpuSampler({
        sampleMs: opts.cpuSampleMs ?? DEFAULT_CPU_SAMPLE_MS,
        targets: () => this.cpuTargets(),
        stats: (id) => opts.engine.stats(id),
        statsMany: (ids) => opts.engine.statsMany(ids),
        publish: (record) => publish(record),
        log: this.log.child({ loop: 'cpu' }),
      });
    }
  }

  /**
   * Brings this node in line with the accepted jobs. Idempotent; a call while
   * one runs coalesces into one more run. When this node's assignments are
   * the ones the last completed run settled, it returns at once: no engine
   * call, whatever changed elsewhere.
   */
  reconcile(jobs: Iterable<AcceptedJob>): Promise<void> {
    const list = [...jobs];
    if (this.closed) return Promise.resolve();
    this.lastJobs = list;
    this.startWatching();
    // A deleted job may have had no instance here (scaled to 0) yet left persistent volumes: a new job set is not "nothing".
    const settled = this.settledKey !== undefined && this.settledKey === assignmentKey(assignmentsFor(this.opts.node, list)) && this.prunedKey === keptKey(volumesKeptOn(this.opts.node, list));
    if (!this.queued && settled) {
      // Same spec hashes, maybe newer job data (e.g. numInstances): hand it over, nothing to ask the engine.
      for (const a of assignmentsFor(this.opts.node, list)) this.supervisors.get(a.instance)?.update(a);
      // A job may have gained or lost `autoscale` without a new spec hash.
      this.sampler?.poke();
      return Promise.resolve();
    }
    return this.enqueue(list);
  }

  /**
   * Lists this node's containers and hands each supervisor its own, even when
   * the assignments did not change: the safety net under the event stream.
   * Runs every timing.resyncMs and whenever the event stream (re)connects.
   * Nothing before the first reconcile(), nothing after stopAll() (fenced).
   */
  resync(): Promise<void> {
    if (this.closed || this.lastJobs === undefined) return Promise.resolve();
    return this.enqueue(this.lastJobs);
  }

  /** A full run (listing included) after the one under way; calls before it starts share it, with the newest jobs. */
  private enqueue(jobs: AcceptedJob[]): Promise<void> {
    if (this.queued) {
      // Not started yet: it will use the newest jobs.
      this.queued.jobs = jobs;
      return this.queued.run;
    }
    const queued: { jobs: AcceptedJob[]; run: Promise<void> } = { jobs, run: Promise.resolve() };
    queued.run = this.serialise(() => {
      this.queued = undefined;
      return this.reconcileNow(queued.jobs).finally(() => this.sampler?.poke());
    });
    this.queued = queued;
    return queued.run;
  }

  /** The event stream and the slow resync start with the first reconcile. */
  private startWatching(): void {
    if (this.watch !== undefined) return;
    this.watch = new EngineWatch({
      node: this.opts.node,
      engine: this.opts.engine,
      log: this.log,
      onEvent: (ev) => this.route(ev),
      onResync: () => void this.resync(),
      ...(this.opts.eventRetry ? { retryBaseMs: this.opts.eventRetry.baseMs, retryMaxMs: this.opts.eventRetry.maxMs } : {}),
    });
    this.watch.start();
    this.resyncTimer = setInterval(() => void this.resync(), this.timing.resyncMs);
    this.resyncTimer.unref();
  }

  /** An event goes to the supervisor of the instance its container belongs to; others' are not ours to act on. */
  private route(ev: EngineEvent): void {
    const instance = ev.labels[LABEL.instance];
    if (instance === undefined) return;
    this.supervisors.get(instance)?.notify(ev);
  }

  /**
   * Fencing (the lease expired): stops supervision, stops and removes every
   * container labelled with this node, cleans local volumes, deletes status
   * and DNS. The drains are not waited for (their writes cannot land on a
   * lost lease). Rejects when some containers could not be stopped (retry it).
   */
  stopAll(): Promise<void> {
    // Fenced: a resync must not start anything again until the next reconcile() says what to run.
    this.lastJobs = undefined;
    this.settledKey = undefined;
    return this.serialise(() => this.stopAllNow().finally(() => this.sampler?.poke()));
  }

  /** Stops supervising (timers, probes) and leaves the containers running (agent shutdown or restart). */
  close(): Promise<void> {
    this.closed = true;
    this.watch?.stop();
    clearInterval(this.resyncTimer);
    clearTimeout(this.retryTimer);
    const sampling = this.sampler?.close();
    return this.serialise(async () => {
      await sampling;
      const sups = [...this.supervisors.values()];
      this.supervisors.clear();
      await Promise.all(sups.map((s) => s.stop()));
      await Promise.all([...sups.map((s) => s.publisher), ...this.retiring.values()].map((p) => p.idle()));
    });
  }

  /** The current status of every supervised instance. */
  statuses(): InstanceStatus[] {
    return [...this.supervisors.values()].map((s) => s.status()).sort((a, b) => a.instance.localeCompare(b.instance));
  }

  /**
   * What the CPU sampler measures: the supervised instances of jobs whose
   * current spec has `autoscale` (an instance still on an older version of
   * such a job counts; its own spec gives its limit). None while fenced.
   */
  private cpuTargets(): CpuTarget[] {
    const scaled = new Set((this.lastJobs ?? []).filter((j) => j.spec.autoscale !== undefined).map((j) => j.spec.name));
    if (scaled.size === 0 || this.closed) return [];
    const out: CpuTarget[] = [];
    for (const sup of this.supervisors.values()) if (scaled.has(sup.job)) out.push(cpuTargetOf(sup.status(), sup.spec));
    return out;
  }

  // ── reconcile ─────────────────────────────────────────────────────

  private async reconcileNow(jobs: AcceptedJob[]): Promise<void> {
    if (this.closed) return;
    const assigned = assignmentsFor(this.opts.node, jobs);
    const key = assignmentKey(assigned);
    // Until this run completes cleanly, the next reconcile() must not be skipped.
    this.settledKey = undefined;
    let clean = true;
    // Each supervisor's generation before the listing: a listing that overlapped one of its restarts is not handed to it.
    const generations = new Map([...this.supervisors].map(([i, s]) => [i, s.generation]));
    let found: InspectedContainer[];
    try {
      found = await this.opts.engine.listManaged(this.opts.node);
    } catch (err) {
      this.log.warn({ err: errText(err) }, 'cannot list containers; reconcile skipped, retried next round');
      this.opts.onError?.('list');
      this.retrySoon();
      return;
    }
    const running = runningInstances(found);
    const runningJob = new Map(running.map((r) => [r.instance, r.job]));
    const plan = planNode(assigned, running);
    logPlan(this.log, plan, this.supervisors.size);
    const wanted = new Set(assigned.map((a) => a.instance));

    // 1. stop what is no longer assigned here: with containers, or only a supervisor (e.g. still pulling)
    const stops = new Map(plan.stop.map((r) => [r.instance, r.job]));
    for (const [instance, sup] of this.supervisors) if (!wanted.has(instance)) stops.set(instance, sup.job);
    const guard = async (instance: string, what: string, fn: () => Promise<void>): Promise<void> => {
      if (!(await this.guard(instance, what, fn))) clean = false;
    };
    await forEachLimited([...stops], STOP_CONCURRENCY, ([instance, job]) => guard(instance, 'stop', () => this.terminate(instance, job, false)));
    // 2. replace changed specs: old containers out first, then the new pod
    await forEachLimited(plan.replace, STOP_CONCURRENCY, (a) =>
      guard(a.instance, 'replace', async () => {
        await this.terminate(a.instance, runningJob.get(a.instance) ?? a.job, a.job === runningJob.get(a.instance));
        this.launch(a, false);
      }),
    );
    // 3. start new instances (a supervisor already starting this spec is left to it);
    //    one moving here starts once the node it left no longer runs it (invariant 2)
    let handover = false;
    for (const a of plan.start) {
      const sup = this.supervisors.get(a.instance);
      if (sup?.specHash === a.specHash) {
        sup.update(a);
        continue;
      }
      if (!sup && (await this.stillRunsOn(a))) {
        handover = true;
        continue;
      }
      await guard(a.instance, 'start', async () => {
        if (sup) await this.terminate(a.instance, sup.job, sup.job === a.job);
        this.launch(a, false);
      });
    }
    // 4. adopt what runs here without a supervisor (the agent restarted): no restart, same containers;
    //    every kept instance's supervisor gets what the listing found (the resync)
    const byInstance = groupByInstance(found);
    for (const a of plan.keep) {
      const sup = this.supervisors.get(a.instance);
      if (sup === undefined) this.launch(a, true);
      else {
        sup.update(a);
        const gen = generations.get(a.instance);
        if (gen !== undefined) sup.observed(byInstance.get(a.instance) ?? [], gen);
      }
    }
    // 5. deletions that failed earlier
    for (const [instance, pub] of [...this.retiring]) {
      if (await pub.flush()) this.retiring.delete(instance);
    }
    // 6. persistent volumes of deleted jobs (after their instances stopped above)
    if (!(await this.prunePersistent(jobs))) clean = false;
    if (handover) this.retrySoon(HANDOVER_RETRY_MS);
    else if (clean && this.retiring.size === 0) this.settledKey = key;
    else this.retrySoon();
  }

  private async prunePersistent(jobs: readonly AcceptedJob[]): Promise<boolean> {
    const keep = volumesKeptOn(this.opts.node, jobs);
    const key = keptKey(keep);
    if (key === this.prunedKey) return true;
    try {
      const gone = await this.opts.pods.prunePersistentVolumes(keep);
      if (gone.length > 0) this.log.info({ volumes: gone }, 'persistent volumes of deleted jobs, or of instances recreated elsewhere, removed');
      this.prunedKey = key;
      return true;
    } catch (err) {
      this.log.warn({ err: errText(err) }, 'cannot remove persistent volumes of deleted jobs; retried');
      return false;
    }
  }

  /**
   * `a` moved here from a live node (rolling update or rebalancing): true
   * while that node still publishes a status for it, i.e. has not drained
   * and stopped it yet. A dead node's statuses go with its lease. When etcd
   * cannot tell, wait: two copies must not run at once.
   */
  private async stillRunsOn(a: AssignedInstance): Promise<boolean> {
    if (a.from === undefined || a.from === this.opts.node || !this.opts.elsewhere) return false;
    try {
      const busy = await this.opts.elsewhere(a.from, a.instance);
      if (busy) this.log.debug({ instance: a.instance, from: a.from }, 'waiting for the node it left to stop it');
      return busy;
    } catch {
      return true;
    }
  }

  /** Work was left behind: resync soon rather than at the next slow resync (an engine outage is the event stream's to notice). */
  private retrySoon(ms = UNSETTLED_RETRY_MS): void {
    if (this.closed) return;
    if (this.retryTimer !== undefined) {
      if (ms >= UNSETTLED_RETRY_MS) return;
      clearTimeout(this.retryTimer);
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.resync();
    }, ms);
    this.retryTimer.unref();
  }

  /** Starts supervising `a`: a fresh pod, or (adopt) the containers that already run. */
  private launch(a: AssignedInstance, adopt: boolean): void {
    // A new pod has published nothing yet; an adopted one may have (the previous agent did).
    const publisher = new StatusPublisher(this.opts.sink, a.instance, this.dnsKeyOf(a.job, a.instance), this.log, { fresh: !adopt });
    // An earlier life's deletion is superseded by this one's writes (none is under way: terminate awaited it).
    const old = this.retiring.get(a.instance);
    this.retiring.delete(a.instance);
    if (old && adopt) publisher.setDns({ kind: 'absent' });
    const sup = new InstanceSupervisor({
      node: this.opts.node,
      address: this.opts.address,
      assigned: a,
      engine: this.opts.engine,
      pods: this.opts.pods,
      publisher,
      log: this.log,
      timing: this.timing,
      now: this.now,
      adopt,
      ...(this.opts.probes ? { probes: this.opts.probes } : {}),
    });
    this.supervisors.set(a.instance, sup);
    this.log.info({ instance: a.instance, spec: a.specHash, adopt }, adopt ? 'adopting running instance' : 'starting instance');
    sup.start();
  }

  /**
   * Ends one instance here: supervision, drain (out of DNS and ingress
   * first, so traffic stops before the process does; not waited for when
   * fenced), containers (within the pod's stopGrace), local volumes (unless
   * the instance lives on, being replaced), status. Throws when the
   * containers could not be removed; the next reconcile finds them and
   * tries again.
   */
  private async terminate(instance: string, job: string, keepVolumes: boolean, fenced = false): Promise<void> {
    const sup = this.supervisors.get(instance);
    this.supervisors.delete(instance);
    const publisher = sup?.publisher ?? this.retiring.get(instance) ?? new StatusPublisher(this.opts.sink, instance, this.dnsKeyOf(job, instance), this.log);
    this.retiring.set(instance, publisher);
    if (sup) await sup.stop();
    // 1. out of DNS and ingress, and (unless fenced) wait until every ingress can know it
    await drain(publisher, sup?.status(), { wait: !fenced, delayMs: this.timing.drainDelayMs, now: this.now, log: this.log });
    // 2. SIGTERM, SIGKILL when the pod's grace is over
    await this.opts.pods.stopPod(instance, this.stopOptionsOf(sup, job));
    if (!keepVolumes) await this.opts.pods.cleanupVolumes(instance);
    publisher.retire();
    if (await publisher.flush()) this.retiring.delete(instance);
    this.log.info({ instance, keepVolumes }, 'instance stopped and removed');
  }

  private async stopAllNow(): Promise<void> {
    const sups = new Map(this.supervisors);
    this.supervisors.clear();
    await Promise.all([...sups.values()].map((s) => s.stop()));
    for (const [instance, sup] of sups) this.retiring.set(instance, sup.publisher);
    let found: InspectedContainer[];
    try {
      found = await this.opts.engine.listManaged(this.opts.node);
    } catch (err) {
      throw new Error(`cannot stop this node's containers: ${errText(err)}`, { cause: err });
    }
    const jobs = new Map<string, string>([...sups].map(([i, s]) => [i, s.job]));
    for (const r of runningInstances(found)) jobs.set(r.instance, r.job);
    const failed: string[] = [];
    await forEachLimited([...jobs], STOP_CONCURRENCY, async ([instance, job]) => {
      try {
        await this.terminate(instance, job, false, true);
      } catch (err) {
        failed.push(`${instance}: ${errText(err)}`);
      }
    });
    if (failed.length > 0) throw new Error(`could not stop ${failed.length} instance(s): ${failed.join('; ')}`);
  }

  // ── helpers ───────────────────────────────────────────────────────

  private serialise(fn: () => Promise<void>): Promise<void> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** One instance's failure must not hold up the others: log it, the next round retries. False when it failed. */
  private async guard(instance: string, what: string, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      this.log.warn({ instance, err: errText(err) }, `${what} failed; retried next round`);
      this.opts.onError?.(what);
      return false;
    }
  }

  /**
   * How to stop an instance: its supervisor's spec says (stopGrace,
   * depends_on); containers without one (found by label after a restart)
   * get their job's current stopGrace, if the job is still known, and stop
   * all but the owner in one wave.
   */
  private stopOptionsOf(sup: InstanceSupervisor | undefined, job: string): PodStopOptions {
    if (sup) return stopOptionsOf(sup.spec);
    const known = this.lastJobs?.find((j) => j.spec.name === job);
    return known ? { graceMs: stopGraceOf(known.spec) } : {};
  }

  private dnsKeyOf(job: string, instance: string): string {
    return dnsKey(this.opts.dnsZone, job, instance, this.opts.dnsRoot);
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function logPlan(log: Logger, plan: NodePlan, supervised: number): void {
  const counts = { start: plan.start.length, stop: plan.stop.length, replace: plan.replace.length, keep: plan.keep.length, supervised };
  if (counts.start + counts.stop + counts.replace > 0 || counts.keep !== supervised) log.info(counts, 'node plan');
  else log.debug(counts, 'node plan');
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The persistent volumes `node` keeps, by job (sorted): the accepted jobs
 * that run or keep volumes here, each with its instances placed here and
 * those whose volume record names this node. Anything else under the node's
 * persistent root belongs to a deleted job, or to an instance recreated on
 * another node (onNodeLoss: recreate) while this one was lost. Jobs elsewhere
 * do not change it, so they cost this node no pruning.
 */
/** volumesKeptOn's answer as one string: what the last pruning was done against. */
function keptKey(keep: ReadonlyMap<string, ReadonlySet<string>>): string {
  return [...keep].map(([job, instances]) => `${job}:${[...instances].join(',')}`).join('\n');
}

export function volumesKeptOn(node: string, jobs: readonly AcceptedJob[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const j of [...jobs].filter((x) => runsOn(x, node)).sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1))) {
    const name = j.spec.name;
    const instances = new Set<string>();
    j.instances.forEach((p, i) => {
      if (p.node === node) instances.add(placementName(name, p, i));
    });
    // Keys are ordinals for services, instance names for daemons (plan/persistent.ts volumeKey).
    for (const [key, at] of Object.entries(j.volumes ?? {})) if (at === node) instances.add(/^\d+$/.test(key) ? `${name}-${key}` : key);
    out.set(name, new Set([...instances].sort()));
  }
  return out;
}
