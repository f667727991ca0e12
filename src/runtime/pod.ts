// Pod-level operations on top of the ContainerEngine: one instance's
// containers, sharing the namespace owner's network namespace.
//
// Order matters in both directions. Start: the owner first (it holds the
// namespace), each container after the ones it depends on are ready. Stop:
// in waves, reverse depends_on order, within one deadline for the whole pod
// (pod-stop.ts). Remove: the others first, the owner last — podman refuses
// to remove an owner that others still join, and a restarted owner leaves
// the others in a dead namespace, so restarting the owner restarts the
// whole pod.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { isSecretEnv, stopGraceOf, type ContainerSpec, type JobSpec, type PlainEnvVar, type SecretRef } from '../model/job';
import type { ContainerEngine, InspectedContainer } from './engine';
import { compareEngineTimes } from './facts';
import { ContainerHasDependentsError, ContainerNameConflictError, ContainerNotFoundError, PodStartError } from './errors';
import { LABEL, containerName, ownerOf, toCreateOptions, type EngineCreateOptions, type PodContext } from './translate';
import { ingressPorts } from '../network/endpoints';
import { instanceVolumesDir, persistentJobDir, persistentRoot, volumeResolver, type VolumeRoots } from './volumes';
import { dependsOnOf, stopTimeoutSec, stopWaves, type PodStopOptions } from './pod-stop';

export type { PodStopOptions } from './pod-stop';

/** One instance of a job, as the runtime needs it. */
export interface PodSpec {
  job: string;
  /** `<job>-<ordinal>` */
  instance: string;
  /** The accepted job's specHash. */
  specHash: string;
  /** In start order (dependencies first); the first is the namespace owner. */
  containers: ContainerSpec[];
  /** Container ports other nodes must reach (the job's ingress ports). */
  reachablePorts?: number[];
  /** SIGTERM → SIGKILL for the whole pod when a restart stops it. Default: the runtime's stopTimeoutSec. */
  stopGraceMs?: number;
  /** Labels added to every container (a cron run's ozy.run / ozy.attempt); the standard ones win on a clash. */
  labels?: Record<string, string>;
}

export function podOf(spec: JobSpec, specHash: string, instance: string): PodSpec {
  const pod: PodSpec = { job: spec.name, instance, specHash, containers: spec.containers, stopGraceMs: stopGraceOf(spec) };
  const reachable = ingressPorts(spec);
  if (reachable.length > 0) pod.reachablePorts = reachable;
  return pod;
}


export interface PodHooks {
  /**
   * Awaited before starting a container that depends on `container`, once
   * per container that something depends on (the agent awaits its health
   * check here, or returns at once when it has none). A rejection aborts
   * the start.
   */
  waitReady?(container: string, id: string): Promise<void>;
  /** An image is missing and its pull begins (instance state "pulling"). */
  onPullStart?(image: string): void;
  /** A container was started. */
  onStarted?(container: string, id: string): void;
}

export interface PodRuntimeOptions {
  engine: ContainerEngine;
  /** This node's name (label ozy.node); only its containers are touched. */
  node: string;
  /** Where local and shared volumes live. */
  volumes: VolumeRoots;
  /** Host IP published ports bind to. Default '0.0.0.0'. */
  hostIp?: string;
  /** Name server and search domain of every pod (agent --container-dns). Default: the engine's. */
  dns?: { server: string; search: string };
  /** The owner's network: the engine's bridge (default) or 'none' (pods that need no network, tests). */
  ownerNetwork?: 'bridge' | 'none';
  /** Seconds between SIGTERM and SIGKILL for a pod whose stop names no grace. Default 10. */
  stopTimeoutSec?: number;
  /** Clock of the stop deadlines. Default Date.now. */
  now?: () => number;
  /** Decrypts a secret variable's value (the agent's --secrets-identity); absent: pods with secrets cannot start. */
  revealSecret?(ref: SecretRef): Promise<string>;
}

export interface StartedContainer {
  name: string;
  id: string;
  owner: boolean;
}

export interface StartedPod {
  instance: string;
  containers: StartedContainer[];
}

export class PodRuntime {
  private readonly engine: ContainerEngine;
  private readonly stopTimeoutSec: number;
  private readonly now: () => number;

  constructor(private readonly opts: PodRuntimeOptions) {
    this.engine = opts.engine;
    this.stopTimeoutSec = opts.stopTimeoutSec ?? 10;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Pulls missing images, creates the volume directories, then creates and
   * starts the containers in order. On any failure the containers created
   * so far are removed again and a PodStartError says which step failed.
   */
  async startPod(pod: PodSpec, hooks: PodHooks = {}): Promise<StartedPod> {
    const owner = ownerOf(pod.containers);
    // 1. images, before anything is created: a pull failure leaves nothing behind
    for (const image of new Set(pod.containers.map((c) => c.image))) {
      const c = pod.containers.find((x) => x.image === image)!;
      try {
        await this.engine.ensureImage(image, { onPullStart: () => hooks.onPullStart?.(image) });
      } catch (err) {
        throw new PodStartError(pod.instance, c.name, 'pull', err);
      }
    }
    // 1b. secrets, decrypted into a copy of the containers that lives only for this call
    const containers: ContainerSpec[] = [];
    for (const c of pod.containers) {
      try {
        containers.push(await this.revealed(c));
      } catch (err) {
        throw new PodStartError(pod.instance, c.name, 'secrets', err);
      }
    }
    // 2. volume directories (podman, unlike dockerd, does not create a missing bind source)
    const resolveVolume = volumeResolver(this.opts.volumes, pod.job, pod.instance);
    for (const c of pod.containers) {
      try {
        for (const [i, v] of c.volumes.entries()) await fs.mkdir(resolveVolume(c, v, i), { recursive: true });
      } catch (err) {
        throw new PodStartError(pod.instance, c.name, 'volumes', err);
      }
    }
    // 3. containers in start order, each after its dependencies are ready
    const started: StartedContainer[] = [];
    const ready = new Set<string>();
    const ctx = this.contextOf(pod);
    let ownerId: string | undefined;
    for (const c of containers) {
      let step: 'create' | 'start' | 'ready' = 'ready';
      try {
        for (const dep of c.dependsOn) {
          const depId = started.find((s) => s.name === dep)?.id;
          if (depId === undefined || ready.has(dep)) continue;
          await hooks.waitReady?.(dep, depId);
          ready.add(dep);
        }
        step = 'create';
        const createOpts = toCreateOptions(ctx, containers, c, ownerId, {
          hostIp: this.opts.hostIp,
          ownerNetwork: this.opts.ownerNetwork,
          ...(pod.reachablePorts ? { reachablePorts: pod.reachablePorts } : {}),
          ...(this.opts.dns ? { dns: this.opts.dns } : {}),
          resolveVolume,
        });
        const id = await this.createReplacingLeftover(createOpts, pod.instance);
        started.push({ name: c.name, id, owner: c.name === owner.name });
        if (c.name === owner.name) ownerId = id;
        step = 'start';
        await this.engine.start(id);
        hooks.onStarted?.(c.name, id);
      } catch (err) {
        await this.removeQuietly([...started].reverse().map((s) => s.id));
        throw new PodStartError(pod.instance, c.name, step, err);
      }
    }
    return { instance: pod.instance, containers: started };
  }

  /** `c` with every secret variable's value decrypted (the same object when it has none). */
  private async revealed(c: ContainerSpec): Promise<ContainerSpec> {
    if (!c.environment.some(isSecretEnv)) return c;
    const environment: PlainEnvVar[] = [];
    for (const e of c.environment) {
      if (!isSecretEnv(e)) environment.push(e);
      else if (!this.opts.revealSecret) throw new Error(`secret "${e.secret.name}" (${e.name}): this agent has no --secrets-identity`);
      else {
        try {
          environment.push({ name: e.name, value: await this.opts.revealSecret(e.secret) });
        } catch (err) {
          throw new Error(`secret "${e.secret.name}" (${e.name}): ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    return { ...c, environment };
  }

  /**
   * Stops every container of `instance` on this node in waves (reverse
   * depends_on, the owner last) within one grace for the whole pod, then
   * removes them (others first, owner last).
   */
  async stopPod(instance: string, opts: PodStopOptions = {}): Promise<void> {
    const found = await this.engine.listManaged(this.opts.node, { instance });
    await this.stopInWaves(found, opts);
    const containers = stopOrder(found);
    for (const c of containers) {
      try {
        await this.engine.remove(c.id, { force: true });
      } catch (err) {
        if (!(err instanceof ContainerHasDependentsError)) throw err;
        // Something joined the owner after we listed: remove the newcomers, then the owner.
        const rest = stopOrder(await this.engine.listManaged(this.opts.node, { instance })).filter((x) => x.id !== c.id);
        for (const r of rest) await this.engine.remove(r.id, { force: true });
        await this.engine.remove(c.id, { force: true });
      }
    }
  }

  /**
   * Stops every container of `instance` on this node like stopPod, but
   * keeps them: a cron run stopped at its activeDeadline still has exit
   * codes and output to report before it is removed.
   */
  async haltPod(instance: string, opts: PodStopOptions = {}): Promise<void> {
    await this.stopInWaves(await this.engine.listManaged(this.opts.node, { instance }), opts);
  }

  /**
   * Restarts the existing containers of `pod` (same ids): all stop, then
   * start in order with the same readiness waits as startPod. Throws
   * ContainerNotFoundError when one is missing (recreate the pod instead).
   */
  async restartPod(pod: PodSpec, hooks: PodHooks = {}): Promise<StartedPod> {
    const existing = await this.engine.listManaged(this.opts.node, { instance: pod.instance });
    const byName = new Map(existing.map((c) => [c.labels[LABEL.container], c]));
    const missing = pod.containers.filter((c) => !byName.has(c.name)).map((c) => c.name);
    if (missing.length > 0) {
      throw new ContainerNotFoundError(`instance ${pod.instance}: cannot restart, missing container(s) ${missing.join(', ')}`);
    }
    await this.stopInWaves(existing, { dependsOn: dependsOnOf(pod.containers), ...graceOf(pod) });
    const owner = ownerOf(pod.containers);
    const started: StartedContainer[] = [];
    const ready = new Set<string>();
    for (const c of pod.containers) {
      const id = byName.get(c.name)!.id;
      for (const dep of c.dependsOn) {
        const depId = started.find((s) => s.name === dep)?.id;
        if (depId === undefined || ready.has(dep)) continue;
        await hooks.waitReady?.(dep, depId);
        ready.add(dep);
      }
      await this.engine.start(id);
      hooks.onStarted?.(c.name, id);
      started.push({ name: c.name, id, owner: c.name === owner.name });
    }
    return { instance: pod.instance, containers: started };
  }

  /**
   * Restarts one container. The namespace owner cannot restart alone (the
   * others would be left in its dead namespace), so it restarts the pod.
   */
  async restartContainer(pod: PodSpec, container: string, hooks: PodHooks = {}): Promise<void> {
    if (ownerOf(pod.containers).name === container) {
      await this.restartPod(pod, hooks);
      return;
    }
    const [c] = await this.engine.listManaged(this.opts.node, { instance: pod.instance }).then((l) =>
      l.filter((x) => x.labels[LABEL.container] === container),
    );
    if (c === undefined) throw new ContainerNotFoundError(`instance ${pod.instance}: no container ${container}`);
    // One container alone: the whole grace is its.
    if (isActive(c)) await this.engine.stop(c.id, stopTimeoutSec(this.now() + (pod.stopGraceMs ?? this.stopTimeoutSec * 1000), this.now()));
    await this.engine.start(c.id);
    hooks.onStarted?.(container, c.id);
  }

  /** Deletes the instance's local volume directories (after stopPod). */
  async cleanupVolumes(instance: string): Promise<void> {
    await fs.rm(instanceVolumesDir(this.opts.volumes.dataDir, instance), { recursive: true, force: true });
  }

  /**
   * Deletes the persistent volumes this node must no longer keep: every job
   * directory not in `keep`, and inside a kept job every instance directory
   * not in its set (an instance recreated elsewhere after this node was lost,
   * `onNodeLoss: recreate`: its old copy here is abandoned). Returns what
   * went, as `job` or `job/instance`.
   */
  async prunePersistentVolumes(keep: ReadonlyMap<string, ReadonlySet<string>>): Promise<string[]> {
    const root = persistentRoot(this.opts.volumes.dataDir);
    const dirs = async (dir: string): Promise<string[]> => {
      try {
        return (await fs.readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    };
    const gone: string[] = [];
    for (const job of (await dirs(root)).sort()) {
      const instances = keep.get(job);
      const jobDir = persistentJobDir(this.opts.volumes.dataDir, job);
      if (!instances) {
        await fs.rm(jobDir, { recursive: true, force: true });
        gone.push(job);
        continue;
      }
      for (const instance of (await dirs(jobDir)).sort()) {
        if (instances.has(instance)) continue;
        await fs.rm(path.join(jobDir, instance), { recursive: true, force: true });
        gone.push(`${job}/${instance}`);
      }
    }
    return gone;
  }

  private contextOf(pod: PodSpec): PodContext {
    const ctx: PodContext = { job: pod.job, instance: pod.instance, node: this.opts.node, specHash: pod.specHash };
    if (pod.labels !== undefined) ctx.extraLabels = pod.labels;
    return ctx;
  }

  /**
   * Stops the active containers wave after wave (pod-stop.ts), each wave's
   * in parallel, all under one deadline: a wave that begins late gets only
   * what is left of the grace, none (SIGKILL at once) past it.
   */
  private async stopInWaves(found: readonly InspectedContainer[], opts: PodStopOptions): Promise<void> {
    const deadline = this.now() + (opts.graceMs ?? this.stopTimeoutSec * 1000);
    for (const wave of stopWaves(found.filter(isActive), opts.dependsOn)) {
      const t = stopTimeoutSec(deadline, this.now());
      const results = await Promise.allSettled(wave.map((c) => this.engine.stop(c.id, t)));
      for (const r of results) {
        // Gone meanwhile (removed by hand, or it was already on its way out): nothing left to stop.
        if (r.status === 'rejected' && !(r.reason instanceof ContainerNotFoundError)) throw r.reason;
      }
    }
  }

  /**
   * Creates the container. A container of the same name left by an earlier
   * attempt of this instance on this node is removed first; one of another
   * node (several nodes sharing one engine, as in tests) is never touched:
   * ours then gets a node-qualified name instead.
   */
  private async createReplacingLeftover(opts: EngineCreateOptions, instance: string): Promise<string> {
    try {
      return await this.engine.create(opts);
    } catch (err) {
      if (!(err instanceof ContainerNameConflictError)) throw err;
    }
    let other: InspectedContainer | undefined;
    try {
      other = await this.engine.inspect(opts.name);
    } catch (err) {
      if (!(err instanceof ContainerNotFoundError)) throw err;
    }
    if (other !== undefined && other.labels[LABEL.node] === this.opts.node && other.labels[LABEL.instance] === instance) {
      await this.engine.remove(other.id, { force: true });
      return this.engine.create(opts);
    }
    if (other === undefined) return this.engine.create(opts);
    const container = opts.Labels[LABEL.container] ?? '';
    return this.engine.create({ ...opts, name: containerName(instance, container, this.opts.node) });
  }

  private async removeQuietly(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      try {
        await this.engine.remove(id, { force: true });
      } catch {
        // Best effort: the start already failed; stopPod cleans up what remains.
      }
    }
  }
}

/** The node's containers by instance (label ozy.instance), e.g. to adopt them after an agent restart. */
export function groupByInstance<T extends { labels: Record<string, string> }>(containers: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const c of containers) {
    const instance = c.labels[LABEL.instance];
    if (instance === undefined) continue;
    const list = out.get(instance);
    if (list) list.push(c);
    else out.set(instance, [c]);
  }
  return out;
}

function graceOf(pod: PodSpec): PodStopOptions {
  return pod.stopGraceMs === undefined ? {} : { graceMs: pod.stopGraceMs };
}

function isActive(c: InspectedContainer): boolean {
  return c.state === 'running' || c.state === 'restarting' || c.state === 'paused';
}

/** Others first, newest first (reverse start order); owners last. */
export function stopOrder<T extends { labels: Record<string, string>; createdAt?: string }>(containers: readonly T[]): T[] {
  const isOwner = (c: T): boolean => c.labels[LABEL.owner] === 'true';
  const newestFirst = (a: T, b: T): number => compareEngineTimes(b.createdAt, a.createdAt);
  return [...containers.filter((c) => !isOwner(c)).sort(newestFirst), ...containers.filter(isOwner).sort(newestFirst)];
}
