// One instance on this node, from start (or adoption) until it is stopped:
// starts its pod, watches its containers, runs their health checks,
// restarts them as their policies say, and states what to publish.
//
// Everything runs on one loop per instance, so starts, probes and restarts
// of one instance never overlap. The loop sleeps until something is due: a
// health check, a restart, a retry, or news about its containers. News comes
// from the engine's event stream (notify: a start, kill, die, OOM kill) or
// from the node's slow resync listing (observed); the supervisor never polls
// the engine, so an idle healthy instance costs no engine calls. Each round:
//   1. a pod that failed to start (pull failure...) is retried when its back-off ends
//   2. observe, if there is news: the instance's containers (exits, OOM kills, the pod IP)
//   3. a container that vanished → the pod is recreated
//   4. health checks that are due
//   5. judge: schedule a restart (policy + back-off) or give up
//   6. restart what is due: the namespace owner restarts the whole pod
//   7. publish status and DNS (written in the background)
// Engine errors are logged and the round is simply tried again later.
import type { Logger } from 'pino';
import type { InstanceStatus } from '../model/cluster';
import type { ContainerSpec, HealthCheck, JobSpec } from '../model/job';
import { dnsRecordFor } from '../network/dns';
import { ingressEndpoints } from '../network/endpoints';
import {
  ContainerNotFoundError,
  LABEL,
  PodStartError,
  PullError,
  podOf,
  stopOptionsOf,
  type ContainerEngine,
  type ContainerState,
  type EngineEvent,
  type InspectedContainer,
  type PodHooks,
  type PodRuntime,
  type PodSpec,
} from '../runtime';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, INITIAL_HEALTH, recordProbe, restartDelayMs, shouldRestart, type HealthState, type StopCause } from './health-state';
import type { StatusPublisher } from './instance-publisher';
import { containerStatuses, deriveInstanceState, isDown, stopCauseOf, type ContainerView, type PodPhase } from './instance-view';
import type { AssignedInstance } from './node-plan';
import { NETWORK_PROBES, readyTimeoutFor, runCheck, type Probes } from './instance-probe';
import type { CheckResult } from './probes';
import { InstanceNews } from './instance-news';

/** The engine calls a supervisor makes (ContainerEngine satisfies it). */
export type SupervisorEngine = Pick<ContainerEngine, 'listManaged' | 'inspect' | 'exec'>;
/** The pod calls a supervisor and the node agent make (PodRuntime satisfies it). */
export type SupervisorPods = Pick<PodRuntime, 'startPod' | 'stopPod' | 'restartPod' | 'restartContainer' | 'cleanupVolumes' | 'prunePersistentVolumes'>;

export interface SupervisorTiming {
  /**
   * The safety net under the event stream: how often the node lists its
   * containers and hands each supervisor what it found (events can be lost,
   * e.g. while the engine restarts). Default 60 s; tests shorten it, or
   * lengthen it to prove that events alone are enough.
   */
  resyncMs: number;
  /** First restart back-off; doubles per consecutive restart. Default 1000 ms (health-state.ts). */
  backoffBaseMs: number;
  /** Back-off cap. Default 60 s. */
  backoffMaxMs: number;
  /**
   * How long a container may take after a (re)start to become ready:
   * running, and healthy when it has a health check. Dependents wait this
   * long; failed checks before its first success only count once it has
   * passed (a slow starter is not restarted while it starts). Never less
   * than (healthy + unhealthy threshold) × interval + timeout of its check.
   * Default 120 s.
   */
  readyTimeoutMs: number;
  /** A container that served this long forgets its earlier restarts (back-off starts over). Default 60 s. */
  backoffResetMs: number;
}

export const DEFAULT_TIMING: SupervisorTiming = {
  resyncMs: 60_000,
  backoffBaseMs: BACKOFF_BASE_MS,
  backoffMaxMs: BACKOFF_MAX_MS,
  readyTimeoutMs: 120_000,
  backoffResetMs: 60_000,
};

export interface SupervisorOptions {
  node: string;
  /** The node's --address (DNS records of pods that publish a port). */
  address: string;
  assigned: AssignedInstance;
  engine: SupervisorEngine;
  pods: SupervisorPods;
  publisher: StatusPublisher;
  log: Logger;
  timing: SupervisorTiming;
  now: () => number;
  /** Its containers already run (the agent restarted): supervise them, do not start anything. */
  adopt: boolean;
  /** Default: real HTTP / TCP probes (probes.ts). */
  probes?: Probes;
}

/** Thrown into a pod start that is waiting on a dependency when the supervisor stops. */
export class SupervisorStoppedError extends Error {
  readonly code = 'SUPERVISOR_STOPPED';
  readonly retryable = false;
}

interface Track {
  spec: ContainerSpec;
  owner: boolean;
  id?: string;
  state: ContainerState | 'pending' | 'missing' | 'restarting';
  exitCode?: number;
  oomKilled: boolean;
  health: HealthState;
  nextProbeAt: number;
  /** Restarts since it last served for backoffResetMs: the back-off exponent. */
  consecutive: number;
  restartAt?: number;
  /** The back-off chosen for restartAt. */
  restartInMs?: number;
  gaveUp: boolean;
  servingSince?: number;
  /** When it last started (engine time when known), for the start-up grace. */
  startedAtMs?: number;
  /** Passed its health check since it last started. */
  everHealthy: boolean;
  /** What the latest health check saw when it failed (`GET /health → 404`); cleared by a pass. */
  checkFailure?: string;
  /** Why the scheduled restart is due (`exited with code 1`, `failed its health check (GET / → 500)`). */
  restartCause?: string;
}

const MIN_SLEEP_MS = 10;
const READY_POLL_MS = 100;
/** With nothing due the loop still wakes this often (it costs no engine call): back-off resets are judged on rounds. */
const IDLE_WAKE_MS = 30_000;
/** While the engine cannot be asked, news is looked at again this often. */
const OBSERVE_RETRY_MS = 1000;
/** While status / DNS writes fail, they are retried this often (no engine call). */
const PUBLISH_RETRY_MS = 1000;


export class InstanceSupervisor {
  readonly instance: string;
  readonly job: string;
  readonly publisher: StatusPublisher;
  private assigned: AssignedInstance;
  private readonly tracks: Track[];
  private phase: PodPhase;
  private restarts = 0;
  /** The latest restart's cause and time (ISO), shown next to the count. */
  private lastRestart: { cause: string; at: string } | undefined;
  private startFailures = 0;
  private podIp: string | undefined;
  /** Host ports the engine bound for the pod (the owner's), e.g. the ingress ports it chose. */
  private hostPorts: Record<string, number> | undefined;
  /** Adopted and not yet judged: leave its DNS record as the previous agent left it. */
  private undetermined: boolean;
  private current: InstanceStatus;
  private currentKey = '';
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private lastEngineError: string | undefined;
  /** What was heard about the containers since the last look (events, the resync listing). */
  private readonly news: InstanceNews;
  /** The owner was inspected since it last started (a pod without a bridge IP is not asked again every check). */
  private podIpAsked = false;
  private readonly probes: Probes;
  private readonly log: Logger;

  constructor(private readonly opts: SupervisorOptions) {
    this.assigned = opts.assigned;
    this.instance = opts.assigned.instance;
    this.job = opts.assigned.job;
    this.publisher = opts.publisher;
    this.probes = opts.probes ?? NETWORK_PROBES;
    this.log = opts.log.child({ instance: this.instance });
    this.tracks = opts.assigned.spec.containers.map((spec, i) => ({
      spec,
      owner: i === 0,
      state: 'pending',
      oomKilled: false,
      health: INITIAL_HEALTH,
      nextProbeAt: 0,
      consecutive: 0,
      gaveUp: false,
      everHealthy: false,
    }));
    this.phase = opts.adopt ? { kind: 'running' } : { kind: 'pending' };
    this.undetermined = opts.adopt;
    // Adopted containers are unknown until looked at.
    this.news = new InstanceNews(opts.adopt);
    this.current = this.buildStatus();
    // A fresh start owes the cluster no DNS record (a stale one from an earlier life goes now).
    if (!opts.adopt) this.publisher.setDns({ kind: 'absent' });
  }

  get specHash(): string {
    return this.assigned.specHash;
  }

  /** The spec it runs (its latest policies: stopGrace is not part of the hash). */
  get spec(): JobSpec {
    return this.assigned.spec;
  }

  /** Same spec hash, newer job data (e.g. numInstances changed). */
  update(assigned: AssignedInstance): void {
    if (assigned.specHash === this.assigned.specHash) this.assigned = assigned;
  }

  status(): InstanceStatus {
    return this.current;
  }

  /** Changes whenever a start or restart begins or ends; see observed(). */
  get generation(): number {
    return this.news.generation;
  }

  /** An engine event about one of this instance's containers. */
  notify(ev: EngineEvent): void {
    if (this.news.heard(ev)) this.wake?.();
  }

  /**
   * The node's resync listing of this instance's containers, taken when the
   * supervisor was at `generation`. A listing that overlapped a start or
   * restart may show a container mid-restart: then the supervisor looks
   * again itself.
   */
  observed(found: InspectedContainer[], generation: number): void {
    this.news.offered(found, generation);
    this.wake?.();
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run().catch((err: unknown) => {
      // run() handles its own errors; this is a bug guard so supervision failures never crash the agent.
      this.log.error({ err: errText(err) }, 'instance supervisor ended unexpectedly');
    });
  }

  /** Stops supervising (timers, probes); containers are left as they are. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  // ── the loop ──────────────────────────────────────────────────────

  private async run(): Promise<void> {
    this.publish();
    if (this.phase.kind === 'pending') await this.startPod();
    while (!this.stopping) {
      try {
        await this.round();
      } catch (err) {
        this.log.error({ err: errText(err) }, 'supervision round failed');
      }
      if (this.stopping) break;
      this.publish();
      await this.sleep(this.nextWakeInMs());
    }
  }

  private async round(): Promise<void> {
    const now = this.opts.now();
    // 1. a failed start is retried when its back-off ends
    if (this.phase.kind === 'failed') {
      if (now >= this.phase.retryAt) await this.startPod();
      return;
    }
    if (this.phase.kind !== 'running') return;
    // 2. observe: news from an event, or the node's resync listing
    if (!(await this.observe())) return;
    // 3. health checks
    await this.probeDue();
    // 4. judge, and 5. restart (then the loop publishes), at one instant: a restart judged in
    //    this round is never due in it, so its stopped state is published first however
    //    long the process stalls between the two (every transition is written, however brief).
    const judgedAt = this.opts.now();
    this.judge(judgedAt);
    await this.restartDue(judgedAt);
  }

  /** Creates and starts the pod; a failure becomes state `failed`, retried with back-off. */
  private async startPod(): Promise<void> {
    this.news.bump();
    this.phase = { kind: 'pending' };
    this.podIp = undefined;
    this.hostPorts = undefined;
    this.podIpAsked = false;
    for (const t of this.tracks) this.resetTrack(t, 'pending');
    this.publish();
    try {
      const started = await this.opts.pods.startPod(this.pod(), this.hooks());
      for (const c of started.containers) {
        const t = this.track(c.name);
        if (t) t.id = c.id;
      }
      this.phase = { kind: 'running' };
      this.startFailures = 0;
      this.log.info('pod started');
    } catch (err) {
      if (this.stopping) return;
      const message = startFailureMessage(err);
      const retryInMs = this.backoff(this.startFailures++);
      this.phase = { kind: 'failed', message, retryAt: this.opts.now() + retryInMs, retryInMs };
      this.log.warn({ err: message, retryInMs }, 'pod start failed');
    }
    // Look once at what was started: a container that exited at once, the engine's start times.
    this.news.lookAgain();
    this.news.bump();
    this.publish();
  }

  private hooks(): PodHooks {
    return {
      waitReady: (name, id) => this.waitReady(name, id),
      onPullStart: (image) => {
        if (this.phase.kind === 'pending') this.phase = { kind: 'pulling' };
        this.log.info({ image }, 'pulling image');
        this.publish();
      },
      onStarted: (name, id) => {
        if (this.phase.kind === 'pending' || this.phase.kind === 'pulling') this.phase = { kind: 'starting' };
        const t = this.track(name);
        if (t) {
          this.resetTrack(t, 'running');
          t.id = id;
        }
        this.publish();
      },
    };
  }

  /**
   * Resolves once `name` is ready for its dependents: running, and healthy
   * when it has a health check. Rejects when it exits, when it is not ready
   * within readyTimeoutMs, or when supervision stops.
   */
  private async waitReady(name: string, id: string): Promise<void> {
    const t = this.track(name);
    const hc = t?.spec.healthcheck;
    const deadline = this.opts.now() + this.readyTimeoutOf(hc);
    for (;;) {
      if (this.stopping) throw new SupervisorStoppedError(`supervision of ${this.instance} stopped`);
      const c = await this.opts.engine.inspect(id);
      if (isDown(c.state)) {
        const how = c.oomKilled ? 'was OOM killed' : `exited with code ${c.exitCode}`;
        throw new Error(`${name} ${how} before it was ready`);
      }
      if (c.state === 'running') {
        if (t?.owner) this.notePod(c);
        if (!t || !hc) return;
        this.record(t, hc, await this.probe(t, hc));
        this.publish();
        if (t.health.health === 'healthy') return;
      }
      if (this.opts.now() > deadline) throw new Error(`${name} was not ready within ${this.readyTimeoutOf(hc)} ms${t?.checkFailure ? ` (${t.checkFailure})` : ''}`);
      await this.sleep(hc ? hc.intervalMs : READY_POLL_MS);
    }
  }

  /**
   * Refreshes every track when there is news: an event (the engine is asked
   * for this instance's containers) or a resync listing (no engine call).
   * False when the engine could not be asked.
   */
  private async observe(): Promise<boolean> {
    // Taken before asking: an event that comes during the call is news again.
    const look = this.news.take();
    if (look === undefined) return true;
    let found: InspectedContainer[];
    if (look.kind === 'ask') {
      try {
        found = await this.opts.engine.listManaged(this.opts.node, { instance: this.instance });
        if (this.lastEngineError !== undefined) this.log.info('container engine answers again');
        this.lastEngineError = undefined;
      } catch (err) {
        this.news.lookAgain();
        const message = errText(err);
        if (message !== this.lastEngineError) this.log.warn({ err: message }, 'cannot observe containers; keeping the last known state');
        this.lastEngineError = message;
        return false;
      }
    } else {
      found = look.found;
    }
    this.apply(found);
    return true;
  }

  private apply(found: InspectedContainer[]): void {
    const byName = new Map(found.filter((c) => c.labels[LABEL.spec] === this.specHash).map((c) => [c.labels[LABEL.container], c]));
    for (const t of this.tracks) {
      const c = byName.get(t.spec.name);
      if (c === undefined) {
        t.state = 'missing';
        continue;
      }
      // A different container (recreated behind our back) has proven nothing yet.
      if (t.id !== undefined && t.id !== c.id) this.resetTrack(t, c.state);
      t.id = c.id;
      t.state = c.state;
      t.exitCode = isDown(c.state) ? c.exitCode : undefined;
      t.oomKilled = c.oomKilled;
      const started = c.startedAt === undefined ? NaN : Date.parse(c.startedAt);
      if (!Number.isNaN(started)) t.startedAtMs = started;
      else t.startedAtMs ??= this.opts.now();
      if (t.owner) this.notePod(c);
    }
  }

  private async probeDue(): Promise<void> {
    const now = this.opts.now();
    const due = this.tracks.filter(
      (t) => t.spec.healthcheck !== undefined && t.state === 'running' && t.restartAt === undefined && now >= t.nextProbeAt,
    );
    await Promise.all(
      due.map(async (t) => {
        const hc = t.spec.healthcheck!;
        const before = t.health.health;
        this.record(t, hc, await this.probe(t, hc));
        if (t.health.health !== before) this.log.info({ container: t.spec.name, health: t.health.health }, 'health changed');
      }),
    );
  }

  /** Schedules restarts the policies ask for, and notes which containers are left down. */
  private judge(now: number): void {
    for (const t of this.tracks) {
      const cause = stopCauseOf(this.viewOf(t));
      if (cause === undefined) {
        // Serving again (or still starting): nothing pending.
        t.gaveUp = false;
        if (t.restartAt !== undefined && t.state === 'running' && t.health.health !== 'unhealthy') {
          t.restartAt = undefined;
          t.restartInMs = undefined;
        }
        const serving = t.state === 'running' && (t.spec.healthcheck === undefined || t.health.health === 'healthy');
        if (!serving) t.servingSince = undefined;
        else if (t.servingSince === undefined) t.servingSince = now;
        else if (t.consecutive > 0 && now - t.servingSince >= this.opts.timing.backoffResetMs) t.consecutive = 0;
        continue;
      }
      t.servingSince = undefined;
      if (t.restartAt !== undefined || t.gaveUp) continue;
      if (shouldRestart(t.spec.restart, cause)) {
        t.restartInMs = this.backoff(t.consecutive);
        t.restartAt = now + t.restartInMs;
        t.restartCause = describeCause(cause, t);
        this.log.info({ container: t.spec.name, cause: t.restartCause, restartInMs: t.restartInMs }, 'container will be restarted');
      } else {
        t.gaveUp = true;
        this.log.info({ container: t.spec.name, cause: describeCause(cause, t), policy: t.spec.restart }, 'container left stopped (restart policy)');
      }
    }
  }

  private async restartDue(now: number): Promise<void> {
    const due = this.tracks.filter((t) => t.restartAt !== undefined && now >= t.restartAt);
    if (due.length === 0) return;
    const pod = this.pod();
    // The namespace owner cannot restart alone: the others would stay in its dead namespace.
    const whole = due.some((t) => t.owner);
    const targets = whole ? this.tracks : due;
    for (const t of due) t.consecutive++;
    const cause = due.map((t) => `container ${t.spec.name} ${t.restartCause ?? 'stopped'}`).join('; ');
    for (const t of targets) this.resetTrack(t, 'restarting');
    this.restarts++;
    this.lastRestart = { cause, at: new Date(now).toISOString() };
    this.news.bump();
    this.publish();
    try {
      if (whole) {
        this.log.info({ containers: due.map((t) => t.spec.name) }, 'restarting the pod');
        this.podIp = undefined;
        this.hostPorts = undefined;
        this.podIpAsked = false;
        await this.opts.pods.restartPod(pod, this.hooks());
      } else {
        for (const t of due) {
          this.log.info({ container: t.spec.name }, 'restarting container');
          await this.opts.pods.restartContainer(pod, t.spec.name, this.hooks());
        }
      }
    } catch (err) {
      if (this.stopping) return;
      if (err instanceof ContainerNotFoundError) {
        this.log.warn({ err: errText(err) }, 'restart found a container missing; recreating the pod');
        await this.opts.pods.stopPod(this.instance, stopOptionsOf(this.assigned.spec));
        await this.startPod();
        return;
      }
      this.log.warn({ err: errText(err) }, 'restart failed; will retry');
      // The next observation sees what is down and schedules it again with a longer back-off.
    } finally {
      // Whatever happened, look at the result once.
      this.news.lookAgain();
      this.news.bump();
    }
  }

  // ── publishing ────────────────────────────────────────────────────

  private publish(): void {
    const status = this.buildStatus();
    const { updatedAt: _at, ...rest } = status;
    const key = JSON.stringify(rest);
    if (key !== this.currentKey) {
      if (status.state !== this.current.state) this.log.info({ state: status.state, message: status.message }, 'instance state');
      this.currentKey = key;
      this.current = status;
      this.publisher.setStatus(status);
    }
    if (status.state === 'healthy') {
      this.undetermined = false;
      const record = dnsRecordFor(this.assigned.spec, this.opts.address, this.podIp);
      this.publisher.setDns(record ? { kind: 'present', record } : { kind: 'absent' });
    } else if (!(this.undetermined && status.state === 'starting')) {
      this.undetermined = false;
      this.publisher.setDns({ kind: 'absent' });
    }
    this.publisher.kick();
  }

  private buildStatus(): InstanceStatus {
    const now = this.opts.now();
    const views = this.tracks.map((t) => this.viewOf(t));
    const { state, message } = deriveInstanceState(this.phase, views);
    const status: InstanceStatus = {
      instance: this.instance,
      job: this.job,
      node: this.opts.node,
      specHash: this.specHash,
      state,
      restarts: this.restarts,
      ...(this.lastRestart ? { lastRestart: this.lastRestart } : {}),
      containers: containerStatuses(views),
      updatedAt: new Date(now).toISOString(),
    };
    if (message !== undefined) status.message = message;
    // Ingress backends: only a healthy instance is one (drained, unhealthy or gone: no endpoints).
    if (state === 'healthy') {
      const endpoints = ingressEndpoints(this.assigned.spec, this.opts.address, this.hostPorts);
      if (endpoints) status.endpoints = endpoints;
    }
    return status;
  }

  /** What the owner's inspection says of the pod: its bridge IP and bound host ports. */
  private notePod(c: { ip?: string; hostPorts?: Record<string, number> }): void {
    if (c.ip) this.podIp = c.ip;
    if (c.hostPorts) this.hostPorts = c.hostPorts;
  }

  private viewOf(t: Track): ContainerView {
    const v: ContainerView = {
      name: t.spec.name,
      state: t.state,
      oomKilled: t.oomKilled,
      memoryLimit: t.spec.memory,
      hasHealthcheck: t.spec.healthcheck !== undefined,
      health: t.health.health,
      gaveUp: t.gaveUp,
    };
    if (t.checkFailure !== undefined) v.checkFailure = t.checkFailure;
    if (t.id !== undefined) v.id = t.id;
    if (t.exitCode !== undefined) v.exitCode = t.exitCode;
    if (t.restartInMs !== undefined) v.restartInMs = t.restartInMs;
    return v;
  }

  // ── helpers ───────────────────────────────────────────────────────

  private async probe(t: Track, hc: HealthCheck): Promise<CheckResult> {
    if (hc.type !== 'exec' && this.podIp === undefined) await this.refreshPodIp();
    const ports = this.assigned.spec.containers.flatMap((c) => c.ports);
    return runCheck(hc, { containerId: t.id, podIp: this.podIp, ports }, this.opts.engine, this.probes);
  }

  /** The owner's bridge IP (undefined with network none: asked once per start, not before every check). */
  private async refreshPodIp(): Promise<void> {
    const owner = this.tracks.find((t) => t.owner);
    if (owner?.id === undefined || this.podIpAsked) return;
    try {
      const info = await this.opts.engine.inspect(owner.id);
      this.podIp = info.ip;
      if (info.hostPorts) this.hostPorts = info.hostPorts;
      this.podIpAsked = true;
    } catch {
      // The check then goes to loopback and most likely fails: the next round asks again.
    }
  }

  /** Counts one probe result; before its first success a container gets the start-up grace. */
  private record(t: Track, hc: HealthCheck, result: CheckResult): void {
    const ok = result.ok;
    t.checkFailure = ok ? undefined : result.saw;
    const now = this.opts.now();
    t.nextProbeAt = now + hc.intervalMs;
    const next = recordProbe(t.health, ok, hc);
    const starting = !t.everHealthy && now - (t.startedAtMs ?? now) < this.readyTimeoutOf(hc);
    // Still starting: the failures are kept, but do not make it unhealthy yet.
    t.health = next.health === 'unhealthy' && starting ? { ...next, health: t.health.health } : next;
    if (t.health.health === 'healthy') t.everHealthy = true;
  }

  private readyTimeoutOf(hc: HealthCheck | undefined): number {
    return readyTimeoutFor(this.opts.timing.readyTimeoutMs, hc);
  }

  private resetTrack(t: Track, state: Track['state']): void {
    t.state = state;
    t.exitCode = undefined;
    t.oomKilled = false;
    t.health = INITIAL_HEALTH;
    t.nextProbeAt = 0;
    t.restartAt = undefined;
    t.restartInMs = undefined;
    t.gaveUp = false;
    t.servingSince = undefined;
    t.startedAtMs = state === 'running' ? this.opts.now() : undefined;
    t.everHealthy = false;
    t.checkFailure = undefined;
    t.restartCause = undefined;
  }

  private track(name: string): Track | undefined {
    return this.tracks.find((t) => t.spec.name === name);
  }

  private pod(): PodSpec {
    return podOf(this.assigned.spec, this.assigned.specHash, this.assigned.instance);
  }

  private backoff(n: number): number {
    return restartDelayMs(n, this.opts.timing.backoffBaseMs, this.opts.timing.backoffMaxMs);
  }

  /** Until the next probe, restart or retry, whichever comes first; news (notify, observed) wakes it sooner. */
  private nextWakeInMs(): number {
    const now = this.opts.now();
    // News waits for nothing, unless the engine just failed to answer it.
    const observeIn = !this.news.pending ? IDLE_WAKE_MS : this.lastEngineError !== undefined ? OBSERVE_RETRY_MS : 0;
    const at: number[] = [now + observeIn];
    // A status or DNS write that failed (etcd away) is tried again soon, not at the next event.
    if (this.publisher.dirty) at.push(now + PUBLISH_RETRY_MS);
    if (this.phase.kind === 'failed') at.push(this.phase.retryAt);
    for (const t of this.tracks) {
      if (t.restartAt !== undefined) at.push(t.restartAt);
      if (t.spec.healthcheck !== undefined && t.state === 'running' && t.restartAt === undefined) at.push(t.nextProbeAt);
    }
    return Math.max(MIN_SLEEP_MS, Math.min(...at) - now);
  }

  /** Waits `ms`, or less when stop() is called. One loop per instance: one sleep at a time. */
  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

function startFailureMessage(err: unknown): string {
  if (err instanceof PodStartError && err.step === 'pull') {
    const cause = err.cause;
    if (cause instanceof PullError) return `pull failed: ${cause.image}: ${cause.registryMessage}`;
    return `pull failed: ${errText(cause)}`;
  }
  return `start failed: ${errText(err)}`;
}

function describeCause(cause: StopCause, t: Track): string {
  if (cause.kind === 'unhealthy') return t.checkFailure ? `failed its health check (${t.checkFailure})` : 'failed its health check';
  return t.oomKilled ? 'OOM killed' : t.state === 'missing' ? 'missing' : `exited with code ${cause.exitCode}`;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
