// Pure translation from the job model to Docker Engine API create options.
//
// A pod is the containers of one instance sharing one network namespace.
// The namespace owner is the first container in start order (the order of
// spec.containers): it gets normal bridge networking and carries every
// published port of the pod; the others join it with NetworkMode
// `container:<ownerId>`, so they reach each other on localhost.
//
// Only what the job format allows reaches the engine: no privileged mode,
// no host namespaces, no mounts except the volume directories the resolver
// names. Restarts are the agent's job, so the engine's policy is 'no'.
// Every container also gets the security baseline (baseline.ts).
import { isSecretEnv, pidsOf, type ContainerSpec, type EnvVar, type PortMapping } from '../model/job';
import { BASELINE_CAP_DROP, BASELINE_SECURITY_OPT, boundedLogConfig, tmpfsForReadOnly, type EngineLogConfig } from './baseline';
import { createHash } from 'node:crypto';
import type { VolumeResolver } from './volumes';

export { instanceVolumesDir, localVolumePath, persistentVolumePath, sharedVolumePath, sharedVolumeName, volumeResolver } from './volumes';
export type { VolumeResolver, VolumeRoots } from './volumes';

/** Label keys, as DESIGN.md names them (plus ozy.owner). */
export const LABEL = {
  job: 'ozy.job',
  instance: 'ozy.instance',
  node: 'ozy.node',
  container: 'ozy.container',
  spec: 'ozy.spec',
  /** 'true' on the pod's network-namespace owner, 'false' on the others. */
  owner: 'ozy.owner',
  /** On the containers of a cron run's pod: the run (`<job>-<unix seconds>`); DESIGN.md "Cron jobs". */
  run: 'ozy.run',
  /** With ozy.run: which try of the run (0 first; a retry on the same node is a new attempt). */
  attempt: 'ozy.attempt',
} as const;

/** The instance a container belongs to. */
export interface PodContext {
  job: string;
  /** `<job>-<ordinal>` */
  instance: string;
  node: string;
  /** The accepted job's specHash (label `ozy.spec`). */
  specHash: string;
  /**
   * More labels for every container of the pod (a cron run's ozy.run and
   * ozy.attempt). They never override the labels above: ozy.node in
   * particular is what keeps agents off each other's containers.
   */
  extraLabels?: Readonly<Record<string, string>>;
}

export interface TranslateOptions {
  /** Host IP published ports bind to. Default '0.0.0.0'. */
  hostIp?: string;
  /**
   * Network of the namespace owner. Default: the engine's bridge. 'none'
   * for pods that need no network (tests); published ports are then dropped.
   */
  ownerNetwork?: 'bridge' | 'none';
  /** Host directory of each volume. Required when a container has volumes. */
  resolveVolume?: VolumeResolver;
  /** Container TCP ports other nodes must reach (ingress): published on an engine-chosen host port unless the job publishes them. */
  reachablePorts?: readonly number[];
  /** Name server of the pod (agent --container-dns) and its search domain; set on the owner, whose resolver the pod shares. */
  dns?: { server: string; search: string };
}

/** The Docker Engine API's POST /containers/create body (the part we use). */
export interface EngineCreateOptions {
  name: string;
  Image: string;
  Cmd?: string[];
  Env: string[];
  Labels: Record<string, string>;
  ExposedPorts?: Record<string, Record<string, never>>;
  /** The job's `user`; absent: the image's. */
  User?: string;
  Tty: false;
  OpenStdin: false;
  HostConfig: EngineHostConfig;
}

export interface EngineHostConfig {
  NetworkMode?: string;
  PortBindings?: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  Dns?: string[];
  DnsSearch?: string[];
  Memory?: number;
  MemorySwap?: number;
  NanoCpus?: number;
  Binds?: string[];
  RestartPolicy: { Name: 'no' };
  Privileged: false;
  /** The baseline (baseline.ts): always set. */
  SecurityOpt: string[];
  CapDrop: string[];
  PidsLimit: number;
  LogConfig: EngineLogConfig;
  /** With the job's readOnlyRootfs, and then Tmpfs for /tmp. */
  ReadonlyRootfs?: true;
  Tmpfs?: Record<string, string>;
}

export const DEFAULT_HOST_IP = '0.0.0.0';

/**
 * runc (cgroup v1 CFS) refuses a quota below 1 ms per 100 ms period, i.e.
 * 10 millicores; smaller requests get that floor.
 */
export const MIN_ENGINE_MILLICORES = 10;

/**
 * `ozy-<instance>-<container>`, made a valid engine name. With `node`:
 * `ozy-<instance>-<container>-<node>`, the fallback when another node
 * sharing the same engine (tests) holds the plain name.
 */
export function containerName(instance: string, container: string, node?: string): string {
  const raw = node === undefined ? `ozy-${instance}-${container}` : `ozy-${instance}-${container}-${node}`;
  const clean = raw.replace(/[^a-zA-Z0-9_.-]/g, '-');
  if (clean === raw) return raw;
  // Replacing characters could make two names equal; a hash of the original keeps them apart.
  return `${clean}-${createHash('sha256').update(raw).digest('hex').slice(0, 6)}`;
}

/** The namespace owner: the first container in start order. */
export function ownerOf<T extends { name: string }>(containers: readonly T[]): T {
  const first = containers[0];
  if (first === undefined) throw new Error('a pod needs at least one container');
  return first;
}

/** Every published port of the pod (the owner carries them all). */
export function podPorts(containers: readonly ContainerSpec[]): PortMapping[] {
  return containers.flatMap((c) => c.ports);
}

export function podLabels(ctx: PodContext, container: string, isOwner: boolean): Record<string, string> {
  return {
    ...(ctx.extraLabels ?? {}),
    [LABEL.job]: ctx.job,
    [LABEL.instance]: ctx.instance,
    [LABEL.node]: ctx.node,
    [LABEL.container]: container,
    [LABEL.spec]: ctx.specHash,
    [LABEL.owner]: isOwner ? 'true' : 'false',
  };
}

/**
 * Create options for one container of a pod. `ownerId` is the engine id of
 * the namespace owner; it is required for every container but the owner.
 */
export function toCreateOptions(
  ctx: PodContext,
  containers: readonly ContainerSpec[],
  container: ContainerSpec,
  ownerId: string | undefined,
  opts: TranslateOptions = {},
): EngineCreateOptions {
  const isOwner = ownerOf(containers).name === container.name;
  const host: EngineHostConfig = {
    RestartPolicy: { Name: 'no' },
    Privileged: false,
    SecurityOpt: [...BASELINE_SECURITY_OPT],
    CapDrop: [...BASELINE_CAP_DROP],
    PidsLimit: pidsOf(container),
    LogConfig: boundedLogConfig(),
  };
  const out: EngineCreateOptions = {
    name: containerName(ctx.instance, container.name),
    Image: container.image,
    Env: container.environment.map(envEntry),
    Labels: podLabels(ctx, container.name, isOwner),
    Tty: false,
    OpenStdin: false,
    HostConfig: host,
  };
  if (container.command !== undefined) out.Cmd = [...container.command];
  if (container.user !== undefined) out.User = container.user;
  if (container.readOnlyRootfs) {
    host.ReadonlyRootfs = true;
    const tmpfs = tmpfsForReadOnly(container);
    if (tmpfs) host.Tmpfs = tmpfs;
  }

  if (isOwner) {
    const ports = podPorts(containers);
    if (ports.length > 0) out.ExposedPorts = exposedPorts(ports);
    if (opts.ownerNetwork === 'none') {
      host.NetworkMode = 'none';
    } else {
      const bindings = portBindings(ports, opts.hostIp ?? DEFAULT_HOST_IP, opts.reachablePorts ?? []);
      if (bindings !== undefined) host.PortBindings = bindings;
      if (opts.dns) {
        host.Dns = [opts.dns.server];
        host.DnsSearch = [opts.dns.search];
      }
    }
  } else {
    if (ownerId === undefined || ownerId === '') {
      throw new Error(`container ${container.name} joins the pod's namespace: the owner's id is required`);
    }
    host.NetworkMode = `container:${ownerId}`;
  }

  if (container.memory > 0) {
    host.Memory = container.memory;
    // Equal to Memory: no swap on top, so the limit is the real limit.
    host.MemorySwap = container.memory;
  }
  if (container.cpu > 0) host.NanoCpus = Math.max(container.cpu, MIN_ENGINE_MILLICORES) * 1_000_000;

  if (container.volumes.length > 0) {
    const resolve = opts.resolveVolume;
    if (resolve === undefined) throw new Error(`container ${container.name} has volumes but no volume resolver was given`);
    host.Binds = container.volumes.map((v, i) => `${resolve(container, v, i)}:${v.path}`);
  }
  return out;
}

function portKey(p: PortMapping): string {
  return `${p.container}/${p.protocol}`;
}

function exposedPorts(ports: readonly PortMapping[]): Record<string, Record<string, never>> {
  const out: Record<string, Record<string, never>> = {};
  for (const p of ports) out[portKey(p)] = {};
  return out;
}

/**
 * Ports with a host side are published on it; a bare container port is just
 * declared, unless it must be reachable from other nodes (an ingress port):
 * then it is published on a host port the engine chooses (HostPort "").
 */
function portBindings(
  ports: readonly PortMapping[],
  hostIp: string,
  reachable: readonly number[],
): Record<string, Array<{ HostIp: string; HostPort: string }>> | undefined {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of ports) {
    if (p.host === undefined) continue;
    (out[portKey(p)] ??= []).push({ HostIp: hostIp, HostPort: String(p.host) });
  }
  for (const port of reachable) {
    const key = `${port}/tcp`;
    if (out[key] === undefined) out[key] = [{ HostIp: hostIp, HostPort: '' }];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * `NAME=value`. Secrets are revealed by the pod runtime just before the
 * create call (PodRuntime `secrets`); one that reaches here unrevealed is a
 * bug, and must not become an empty variable.
 */
function envEntry(e: EnvVar): string {
  if (isSecretEnv(e)) throw new Error(`secret ${e.secret.name} of ${e.name} was not revealed before the container was created`);
  return `${e.name}=${e.value}`;
}
