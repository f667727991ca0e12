// In-memory fakes of what the node agent talks to: the container engine and
// pod runtime (one object, like a tiny podman), and the status sink.
import pino from 'pino';
import type { InstanceStatus, AcceptedJob } from '../../../src/model/cluster';
import { podTemplateHash } from '../../../src/model/hash';
import type { ContainerSpec, JobSpec } from '../../../src/model/job';
import type { NodeStatusSink } from '../../../src/agent/node-agent';
import type { NodeEngine } from '../../../src/agent/node-agent';
import type { ExecResult } from '../../../src/runtime/engine';
import type { SupervisorPods } from '../../../src/agent/instance-supervisor';
import {
  ContainerNotFoundError,
  EngineUnavailableError,
  LABEL,
  PodStartError,
  PullError,
  type ContainerState,
  type ContainerStats,
  type EngineEvent,
  type EngineEventHandlers,
  type EngineEventStream,
  type InspectedContainer,
  type PodHooks,
  type PodSpec,
  type PodStopOptions,
  type StartedPod,
} from '../../../src/runtime';

export const silentLog = pino({ level: 'silent' });

export const FAST = { resyncMs: 5, backoffBaseMs: 5, backoffMaxMs: 40, readyTimeoutMs: 3000, backoffResetMs: 60_000, drainDelayMs: 5 };

interface FakeContainer {
  id: string;
  labels: Record<string, string>;
  state: ContainerState;
  exitCode: number;
  oom: boolean;
  memory: number;
  starts: number;
  /** Cumulative CPU time and when it was last brought up to date (stats). */
  cpuNs: number;
  cpuAt: number;
}

export class FakeRuntime implements NodeEngine, SupervisorPods {
  readonly containers = new Map<string, FakeContainer>();
  /** What happened, in order: "create web-0/app", "restartPod web-0", "exec web-0/app"... */
  readonly ops: string[] = [];
  /** The options of each instance's last stopPod. */
  readonly stopOptions = new Map<string, PodStopOptions>();
  /** Open event subscriptions (the engine's /events streams). */
  private subscribers: EngineEventHandlers[] = [];
  /** events() calls: subscriptions opened, reconnects included. */
  eventSubscriptions = 0;
  /** While set, container changes send no event (events lost: only a resync can see them). */
  eventsMuted = false;
  readonly missingImages = new Set<string>();
  /** image → the registry's message */
  readonly failingImages = new Map<string, string>();
  engineDown = false;
  /** While set, a pull of a missing image waits for it. */
  pullGate: Promise<void> | undefined;
  listCalls = 0;
  /** listManaged calls for the whole node (the node agent's, not a supervisor's). */
  listNodeCalls = 0;
  /** Exit code of an exec health check, per container name. */
  execCode: (container: string) => number = () => 0;
  /** CPU a running container burns, millicores, per container name (stats). */
  cpuRate: (container: string) => number = () => 0;
  /** Container names whose stats calls fail. */
  readonly statsFailing = new Set<string>();
  statsCalls = 0;
  /** Has podman's batch endpoint (statsMany answers); false: like dockerd. */
  batchStats = false;
  batchCalls = 0;
  /** Containers sampled through batches. */
  batchSampled = 0;
  /** Container ids stats was asked about. */
  readonly statsAsked = new Set<string>();
  private seq = 0;

  constructor(readonly node: string) {}

  // ── engine ──
  async listManaged(node: string, filter: { instance?: string; job?: string } = {}): Promise<InspectedContainer[]> {
    this.listCalls++;
    if (filter.instance === undefined) this.listNodeCalls++;
    if (this.engineDown) throw new EngineUnavailableError('container engine unavailable (fake)');
    return [...this.containers.values()]
      .filter((c) => c.labels[LABEL.node] === node)
      .filter((c) => filter.instance === undefined || c.labels[LABEL.instance] === filter.instance)
      .map((c) => this.view(c));
  }
  async inspect(id: string): Promise<InspectedContainer> {
    if (this.engineDown) throw new EngineUnavailableError('container engine unavailable (fake)');
    const c = this.containers.get(id);
    if (!c) throw new Error(`no container ${id}`);
    return this.view(c);
  }
  async exec(id: string): Promise<ExecResult> {
    const c = this.containers.get(id);
    if (!c) throw new Error(`no container ${id}`);
    const name = c.labels[LABEL.container]!;
    this.ops.push(`exec ${c.labels[LABEL.instance]}/${name}`);
    const exitCode = this.execCode(name);
    return { exitCode, output: exitCode === 0 ? '' : `not ready (fake ${name})\nsecond line\n` };
  }

  async stats(id: string): Promise<ContainerStats> {
    this.statsCalls++;
    this.statsAsked.add(id);
    if (this.engineDown) throw new EngineUnavailableError('container engine unavailable (fake)');
    const c = this.containers.get(id);
    const name = c?.labels[LABEL.container];
    if (!c || name === undefined) throw new ContainerNotFoundError(`no container ${id}`);
    if (this.statsFailing.has(name)) throw new Error(`stats of ${name} failed (fake)`);
    const now = Date.now();
    // millicores × ms = µs of CPU; × 1000 = ns.
    if (c.state === 'running') c.cpuNs += this.cpuRate(name) * (now - c.cpuAt) * 1000;
    c.cpuAt = now;
    return { readAt: new Date(now).toISOString(), memoryUsage: 0, memoryLimit: c.memory, cpuTotalNs: c.cpuNs };
  }

  async statsMany(ids: readonly string[]): Promise<Map<string, ContainerStats> | undefined> {
    if (!this.batchStats) return undefined;
    this.batchCalls++;
    if (this.engineDown) throw new EngineUnavailableError('container engine unavailable (fake)');
    const out = new Map<string, ContainerStats>();
    for (const id of ids) {
      // Like podman: an unknown id fails the whole batch; stopped containers are left out.
      const c = this.containers.get(id);
      if (!c) throw new Error(`batch stats: no container ${id}`);
      if (c.state !== 'running') continue;
      this.batchSampled++;
      out.set(id, await this.stats(id));
    }
    return out;
  }

  async events(opts: { node: string }, handlers: EngineEventHandlers): Promise<EngineEventStream> {
    this.eventSubscriptions++;
    if (this.engineDown) throw new EngineUnavailableError('container engine unavailable (fake)');
    if (opts.node !== this.node) return { close: () => undefined };
    this.subscribers.push(handlers);
    return { close: () => (this.subscribers = this.subscribers.filter((h) => h !== handlers)) };
  }

  // ── pods ──
  async startPod(pod: PodSpec, hooks: PodHooks = {}): Promise<StartedPod> {
    this.ops.push(`startPod ${pod.instance}`);
    if (this.engineDown) throw new PodStartError(pod.instance, pod.containers[0]!.name, 'create', new EngineUnavailableError('down'));
    for (const c of pod.containers) {
      const failure = this.failingImages.get(c.image);
      if (failure !== undefined) throw new PodStartError(pod.instance, c.name, 'pull', new PullError(c.image, failure));
      if (this.missingImages.delete(c.image)) {
        hooks.onPullStart?.(c.image);
        await this.pullGate;
      }
    }
    const started: StartedPod['containers'] = [];
    for (const [i, c] of pod.containers.entries()) {
      for (const dep of c.dependsOn) {
        const depId = started.find((s) => s.name === dep)!.id;
        await hooks.waitReady?.(dep, depId);
      }
      const id = `c${++this.seq}`;
      this.containers.set(id, {
        id,
        labels: {
          [LABEL.job]: pod.job,
          [LABEL.instance]: pod.instance,
          [LABEL.node]: this.node,
          [LABEL.container]: c.name,
          [LABEL.spec]: pod.specHash,
          [LABEL.owner]: i === 0 ? 'true' : 'false',
        },
        state: 'running',
        exitCode: 0,
        oom: false,
        memory: c.memory,
        starts: 1,
        cpuNs: 0,
        cpuAt: Date.now(),
      });
      this.ops.push(`create ${pod.instance}/${c.name}`);
      started.push({ name: c.name, id, owner: i === 0 });
      hooks.onStarted?.(c.name, id);
    }
    return { instance: pod.instance, containers: started };
  }
  async stopPod(instance: string, opts: PodStopOptions = {}): Promise<void> {
    this.ops.push(`stopPod ${instance}`);
    this.stopOptions.set(instance, opts);
    if (this.engineDown) throw new EngineUnavailableError('down');
    for (const [id, c] of this.containers) if (c.labels[LABEL.instance] === instance && c.labels[LABEL.node] === this.node) this.containers.delete(id);
  }
  async restartPod(pod: PodSpec, hooks: PodHooks = {}): Promise<StartedPod> {
    this.ops.push(`restartPod ${pod.instance}`);
    const mine = this.of(pod.instance);
    if (mine.length < pod.containers.length) throw new ContainerNotFoundError(`${pod.instance}: a container is missing`);
    for (const c of mine) this.run(c);
    for (const c of mine) hooks.onStarted?.(c.labels[LABEL.container]!, c.id);
    return { instance: pod.instance, containers: mine.map((c) => ({ name: c.labels[LABEL.container]!, id: c.id, owner: c.labels[LABEL.owner] === 'true' })) };
  }
  async restartContainer(pod: PodSpec, container: string, hooks: PodHooks = {}): Promise<void> {
    this.ops.push(`restartContainer ${pod.instance}/${container}`);
    const c = this.of(pod.instance).find((x) => x.labels[LABEL.container] === container);
    if (!c) throw new ContainerNotFoundError(`${pod.instance}: no container ${container}`);
    this.run(c);
    hooks.onStarted?.(container, c.id);
  }
  async cleanupVolumes(instance: string): Promise<void> {
    this.ops.push(`cleanupVolumes ${instance}`);
  }
  /** Jobs with persistent volumes on this fake node (tests seed it); kept out of `ops` so op sequences stay as they were. */
  readonly persistentJobs = new Set<string>();
  async prunePersistentVolumes(keep: ReadonlyMap<string, ReadonlySet<string>>): Promise<string[]> {
    const gone = [...this.persistentJobs].filter((j) => !keep.has(j)).sort();
    for (const j of gone) this.persistentJobs.delete(j);
    return gone;
  }

  // ── test controls ──
  idOf(instance: string, container: string): string | undefined {
    return this.of(instance).find((c) => c.labels[LABEL.container] === container)?.id;
  }
  exit(instance: string, container: string, exitCode: number, oom = false): void {
    const c = this.of(instance).find((x) => x.labels[LABEL.container] === container)!;
    c.state = 'exited';
    c.exitCode = exitCode;
    c.oom = oom;
    this.emit('die', c);
  }
  remove(instance: string, container: string): void {
    const c = this.of(instance).find((x) => x.labels[LABEL.container] === container)!;
    this.containers.delete(c.id);
    this.emit('destroy', c);
  }
  /** The event stream breaks (the engine restarted): every subscriber is told, once. */
  breakEvents(): void {
    const subs = this.subscribers;
    this.subscribers = [];
    for (const h of subs) h.onEnd(new EngineUnavailableError('event stream ended (fake)'));
  }
  get subscribed(): number {
    return this.subscribers.length;
  }
  startsOf(instance: string, container: string): number {
    return this.of(instance).find((x) => x.labels[LABEL.container] === container)?.starts ?? 0;
  }
  count(prefix: string): number {
    return this.ops.filter((e) => e.startsWith(prefix)).length;
  }

  private of(instance: string): FakeContainer[] {
    return [...this.containers.values()].filter((c) => c.labels[LABEL.instance] === instance && c.labels[LABEL.node] === this.node);
  }
  private run(c: FakeContainer): void {
    c.state = 'running';
    c.exitCode = 0;
    c.oom = false;
    c.starts++;
    this.emit('start', c);
  }
  private emit(action: EngineEvent['action'], c: FakeContainer): void {
    if (this.eventsMuted) return;
    const ev: EngineEvent = { action, rawAction: action, id: c.id, labels: { ...c.labels }, timeNano: 0n };
    if (action === 'die') ev.exitCode = c.exitCode;
    for (const h of [...this.subscribers]) h.onEvent(ev);
  }
  private view(c: FakeContainer): InspectedContainer {
    const exited = c.state === 'exited';
    return {
      id: c.id,
      name: c.id,
      labels: { ...c.labels },
      state: c.state,
      exitCode: c.exitCode,
      oomKilledReported: false,
      memoryLimit: c.memory,
      stoppedByUs: false,
      oomKilled: exited && c.oom,
      ...(c.labels[LABEL.owner] === 'true' ? { ip: '10.88.0.7' } : {}),
    };
  }
}

export class FakeSink implements NodeStatusSink {
  readonly status = new Map<string, InstanceStatus>();
  readonly dns = new Map<string, { host: string; port: number; ttl: number }>();
  /** Every state written, per instance, in order. */
  readonly history = new Map<string, string[]>();
  readonly dnsOps: string[] = [];
  failing = false;

  async putStatus(s: InstanceStatus): Promise<void> {
    this.check();
    this.status.set(s.instance, s);
    const h = this.history.get(s.instance) ?? [];
    if (h[h.length - 1] !== s.state) h.push(s.state);
    this.history.set(s.instance, h);
  }
  async deleteStatus(instance: string): Promise<void> {
    this.check();
    this.status.delete(instance);
  }
  async putDns(key: string, rec: { host: string; port: number; ttl: number }): Promise<void> {
    this.check();
    this.dns.set(key, rec);
    this.dnsOps.push(`put ${key}`);
  }
  async deleteDns(key: string): Promise<void> {
    this.check();
    this.dns.delete(key);
    this.dnsOps.push(`delete ${key}`);
  }
  private check(): void {
    if (this.failing) throw new Error('etcd unavailable (fake)');
  }
}

export function container(name: string, extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name,
    image: 'localhost/img:1',
    restart: 'on-failure',
    environment: [],
    ports: [],
    dependsOn: [],
    memory: 64 * 1024 * 1024,
    cpu: 100,
    volumes: [],
    ...extra,
  };
}

export function execCheck(): NonNullable<ContainerSpec['healthcheck']> {
  return { type: 'exec', command: ['/bin/true'], intervalMs: 5, timeoutMs: 100, healthyThreshold: 1, unhealthyThreshold: 2 };
}

/** An accepted job whose instance i runs on nodes[i]. */
export function acceptedJob(name: string, containers: ContainerSpec[], nodes: Array<string | null>): AcceptedJob {
  const spec: JobSpec = { name, numInstances: nodes.length, containers };
  return {
    spec,
    specHash: podTemplateHash(spec),
    commit: 'c0ffee',
    file: `jobs/${name}.yaml`,
    acceptedAt: '2026-01-01T00:00:00Z',
    instances: nodes.map((node) => ({ node, since: '2026-01-01T00:00:00Z' })),
  };
}
