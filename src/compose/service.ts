// One Compose service → one container of the job format, plus what belongs
// to the job (instances, daemon, stop grace) and the dependencies, which
// the caller resolves (within a pod, or reported across jobs). Every key of
// the service is either mapped here, listed in unsupported.ts, or reported
// as unknown: nothing is dropped without a finding.
import type { Segment } from '../render/findings';
import { imageReferenceProblem } from '../render/image-ref';
import type { Container } from '../render/job-raw.generated';
import { splitShellWords } from '../render/shell-words';
import * as D from '../render/defaults';
import { formatCpu, formatSize } from '../render/units';
import { composeBool, composeDurationMs } from './compose-units';
import { mapDeployment } from './deploy';
import { mapEnvironment, type FileReader } from './environment';
import { FindingList, isMapping, type Mapping } from './findings';
import { mapHealthcheck } from './healthcheck';
import type { Lookup } from './interpolate';
import { MAX_PORTS, mapExpose, mapPort } from './ports';
import { isDefaultValue, UNSUPPORTED_SERVICE_KEYS } from './unsupported';
import { MAX_VOLUMES, mapTmpfsEntry, mapVolume, type VolumeUse } from './volumes';

export interface ServiceContext {
  lookup: Lookup;
  files: FileReader;
  declaredVolumes: ReadonlySet<string>;
}

/** One `depends_on` entry; its other long-syntax keys (`restart`, `required: false`) are reported where read. */
export interface Dependency {
  service: string;
  at: Segment[];
  condition: string;
}

export interface MappedService {
  service: string;
  at: Segment[];
  /** undefined: the service could not be imported (reported). */
  container?: Container;
  replicas?: number;
  daemon?: boolean;
  stopGraceMs?: number;
  dependsOn: Dependency[];
  /** `network_mode: service:X` / `container:X`: fine inside a pod with X. */
  sharesNetworkWith?: { service: string; at: Segment[] };
  namedVolumes: Array<{ name: string; at: Segment[] }>;
}

/** Keys this file maps (each has a case below). */
const MAPPED = new Set([
  'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'depends_on', 'healthcheck',
  'restart', 'deploy', 'scale', 'mem_limit', 'cpus', 'pids_limit', 'volumes', 'tmpfs', 'user', 'read_only',
  'stop_grace_period', 'network_mode', 'privileged',
]);

const USER = /^([0-9]{1,10}|[A-Za-z_][A-Za-z0-9_.-]{0,31})(:([0-9]{1,10}|[A-Za-z_][A-Za-z0-9_.-]{0,31}))?$/;

export function mapService(service: string, raw: unknown, ctx: ServiceContext, f: FindingList): MappedService {
  const at: Segment[] = ['services', service];
  const out: MappedService = { service, at, dependsOn: [], namedVolumes: [] };
  if (!isMapping(raw)) {
    f.leftOut(at, 'expected a mapping of service keys');
    return out;
  }
  // 1. keys the job format has no place for, or that Compose does not know
  for (const [key, value] of Object.entries(raw)) {
    if (MAPPED.has(key) || key.startsWith('x-')) continue;
    const reason = UNSUPPORTED_SERVICE_KEYS[key];
    if (reason === undefined) f.leftOut([...at, key], 'not a service key of the Compose Specification');
    else if (!isDefaultValue(key, value)) f.add(reason[0], [...at, key], reason[1]);
  }
  if (composeBool(raw.privileged) === true) f.refused([...at, 'privileged'], 'the job format has no privileged mode: containers run with Docker\'s default capabilities minus NET_RAW and no-new-privileges (docs/security.md)');
  // 2. the image: without one there is nothing to run
  const image = imageOf(raw, at, f);
  // 3. everything else, so that a skipped service still lists all its findings
  const container: Partial<Container> = {};
  const command = commandOf(raw, at, f);
  if (command) container.command = command;
  const env = mapEnvironment(raw, at, ctx.lookup, ctx.files, f);
  if (Object.keys(env).length > 0) container.environment = env;
  const ports = portsOf(raw, at, f);
  if (ports.length > 0) container.ports = ports;
  const restart = restartOf(raw, at, f);
  const deployment = mapDeployment(raw, at, f);
  container.restart = restart ?? restartFromDeploy(deployment.restartCondition) ?? defaultRestart(at, f);
  if (deployment.replicas !== undefined) out.replicas = deployment.replicas;
  if (deployment.daemon) out.daemon = true;
  if (raw.user !== undefined && raw.user !== null) {
    const user = String(raw.user);
    if (USER.test(user)) container.user = typeof raw.user === 'number' ? raw.user : user;
    else f.leftOut([...at, 'user'], 'expected a uid, a name, or uid:gid / name:group');
  }
  if (composeBool(raw.read_only) === true) container.readOnlyRootfs = true;
  resourcesOf(container, deployment, at, f);
  if (raw.healthcheck !== undefined && raw.healthcheck !== null) {
    const hc = mapHealthcheck(raw.healthcheck, [...at, 'healthcheck'], f);
    if (hc) container.healthcheck = hc;
  }
  const volumes = volumesOf(raw, at, ctx, f);
  if (volumes.length > 0) container.volumes = volumes.map((v) => v.volume);
  for (const v of volumes) if (v.named) out.namedVolumes.push({ name: v.named, at: v.at ?? [...at, 'volumes'] });
  out.dependsOn = dependenciesOf(raw.depends_on, [...at, 'depends_on'], f);
  if (raw.stop_grace_period !== undefined && raw.stop_grace_period !== null) {
    const ms = composeDurationMs(raw.stop_grace_period);
    if (ms === undefined || ms > D.MAX_UPDATE_DURATION_MS) f.leftOut([...at, 'stop_grace_period'], 'expected a duration up to 24h like 30s or 1m30s');
    else out.stopGraceMs = ms;
  }
  networkModeOf(raw.network_mode, [...at, 'network_mode'], out, f);
  if (image !== undefined) out.container = { image, ...container } as Container;
  return out;
}

function imageOf(raw: Mapping, at: Segment[], f: FindingList): string | undefined {
  const image = typeof raw.image === 'string' ? raw.image.trim() : undefined;
  const hasBuild = raw.build !== undefined && raw.build !== null;
  if (image === undefined || image === '') {
    f.leftOut(at, hasBuild
      ? 'not imported: it has `build:` and no `image:`, and there is no registry to push a build to; build the image, push it where the nodes pull from, and set `image:`'
      : 'not imported: it has no `image:`');
    return undefined;
  }
  if (hasBuild) f.leftOut([...at, 'build'], `the image ${image} is pulled by the nodes, never built: build and push it yourself`);
  const why = imageReferenceProblem(image);
  if (why) {
    f.leftOut([...at, 'image'], `not imported: ${JSON.stringify(image)} is not an image reference: it ${why}`);
    return undefined;
  }
  return image;
}

/** argv from a string (split like a shell, without expansion) or a list; `[]`/`''` mean "empty". */
function argv(raw: unknown, at: Segment[], f: FindingList): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') {
    if (raw.trim() === '') return [];
    const split = splitShellWords(raw);
    if (split.ok) return split.words;
    f.leftOut(at, `the command string ${split.error}`);
    return undefined;
  }
  if (Array.isArray(raw) && raw.every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')) return raw.map(String);
  f.leftOut(at, 'expected a string or a list of strings');
  return undefined;
}

/**
 * The job format has one `command`, which replaces the image's CMD and keeps
 * its ENTRYPOINT. `entrypoint` + `command` is written as one command: what
 * Compose runs, provided the image declares no ENTRYPOINT of its own.
 */
function commandOf(raw: Mapping, at: Segment[], f: FindingList): string[] | undefined {
  const entrypoint = argv(raw.entrypoint, [...at, 'entrypoint'], f);
  const command = argv(raw.command, [...at, 'command'], f);
  if (entrypoint !== undefined && entrypoint.length > 0) {
    f.note([...at, 'entrypoint'], `the job format has no entrypoint: written as the command${command && command.length > 0 ? ', followed by `command`' : ''}, which keeps the image's ENTRYPOINT (if it declares one, put it first yourself)`);
    return [...entrypoint, ...(command ?? [])];
  }
  if (entrypoint !== undefined) f.leftOut([...at, 'entrypoint'], 'an empty entrypoint (clearing the image\'s): the job format cannot clear an image\'s ENTRYPOINT');
  if (command !== undefined && command.length === 0) {
    f.leftOut([...at, 'command'], 'an empty command (clearing the image\'s CMD): the job format has no empty command');
    return undefined;
  }
  return command;
}

function portsOf(raw: Mapping, at: Segment[], f: FindingList): string[] {
  const out: string[] = [];
  const add = (ports: string[], where: Segment[]): void => {
    for (const p of ports) {
      if (out.includes(p)) continue;
      if (out.length >= MAX_PORTS) {
        f.leftOut(where, `more than ${MAX_PORTS} ports: the rest are left out`);
        return;
      }
      out.push(p);
    }
  };
  list(raw.ports, [...at, 'ports'], f, (entry, where) => add(mapPort(entry, where, f), where));
  // `expose`: container ports for the pod's neighbours, not published; a port already listed stays as it is.
  list(raw.expose, [...at, 'expose'], f, (entry, where) => {
    const ports = mapExpose(entry, where, f).filter((p) => !out.some((o) => o === p || o.endsWith(`:${p}`)));
    add(ports, where);
  });
  return out;
}

function list(raw: unknown, at: Segment[], f: FindingList, each: (entry: unknown, at: Segment[]) => void): void {
  if (raw === undefined || raw === null) return;
  if (!Array.isArray(raw)) {
    f.leftOut(at, 'expected a list');
    return;
  }
  raw.forEach((entry, i) => each(entry, [...at, i]));
}

type Restart = NonNullable<Container['restart']>;

function restartOf(raw: Mapping, at: Segment[], f: FindingList): Restart | undefined {
  const r = raw.restart;
  if (r === undefined || r === null) return undefined;
  const where = [...at, 'restart'];
  if (r === false || r === 'no') return 'never';
  if (r === 'always') return 'always';
  if (r === 'unless-stopped') {
    f.note(where, 'unless-stopped → always: a job is stopped by removing it from the repository (or numInstances: 0)');
    return 'always';
  }
  if (typeof r === 'string' && /^on-failure(:[0-9]+)?$/.test(r)) {
    if (r !== 'on-failure') f.leftOut(where, `the retry limit of ${r}: restarts back off exponentially (1 s to 60 s) and never give up`);
    return 'on-failure';
  }
  f.leftOut(where, 'expected no, always, on-failure[:N] or unless-stopped');
  return undefined;
}

function restartFromDeploy(c: 'none' | 'on-failure' | 'any' | undefined): Restart | undefined {
  return c === 'none' ? 'never' : c === 'on-failure' ? 'on-failure' : c === 'any' ? 'always' : undefined;
}

/** Compose's default is `no`; a scheduler's services are restarted, so the job format's default is kept, and said. */
function defaultRestart(at: Segment[], f: FindingList): Restart {
  f.note(at, 'no restart policy: Compose\'s default is `no`; the job gets `restart: always` (the job format\'s default for services); set `restart: never` for a one-off');
  return D.DEFAULT_RESTART;
}

/** memory, cpu, pids: written out always, so the job shows what the scheduler reserves for it. */
function resourcesOf(c: Partial<Container>, d: ReturnType<typeof mapDeployment>, at: Segment[], f: FindingList): void {
  const defaults: string[] = [];
  let memory = d.memoryBytes;
  if (memory === undefined || memory === 0) {
    memory = D.DEFAULT_MEMORY_BYTES;
    defaults.push(`memory ${formatSize(memory)}`);
  } else if (memory < D.MIN_MEMORY_BYTES || memory > D.MAX_MEMORY_BYTES) {
    const bounded = Math.min(Math.max(memory, D.MIN_MEMORY_BYTES), D.MAX_MEMORY_BYTES);
    f.note(at, `memory limit ${formatSize(memory)} is outside the job format's 6M to 1T: ${formatSize(bounded)} is used`);
    memory = bounded;
  }
  c.memory = formatSize(memory);
  let cpu = d.cpuMillis;
  if (cpu === undefined || cpu === 0) {
    cpu = D.DEFAULT_CPU_MILLICORES;
    defaults.push(`cpu ${formatCpu(cpu)}`);
  } else if (cpu < D.MIN_CPU_MILLICORES || cpu > D.MAX_CPU_MILLICORES) {
    const bounded = Math.min(Math.max(cpu, D.MIN_CPU_MILLICORES), D.MAX_CPU_MILLICORES);
    f.note(at, `CPU limit ${formatCpu(cpu)} is outside the job format's 10m to 1024: ${formatCpu(bounded)} is used`);
    cpu = bounded;
  }
  c.cpu = formatCpu(cpu);
  if (defaults.length > 0) {
    f.note(at, `no ${defaults.map((x) => x.split(' ')[0]).join(' or ')} limit in Compose; the job format needs one to place the job: ${defaults.join(' and ')} (its defaults) written, set what the service needs`);
  }
  if (d.pids === null) {
    f.note(at, `pids -1 (unlimited): the job format always limits processes; its default ${D.DEFAULT_PIDS} applies`);
  } else if (d.pids !== undefined) {
    const bounded = Math.min(Math.max(d.pids, 8), 65_536);
    if (bounded !== d.pids) f.note(at, `pids limit ${d.pids} is outside the job format's 8 to 65536: ${bounded} is used`);
    c.pids = bounded;
  }
}

function volumesOf(raw: Mapping, at: Segment[], ctx: ServiceContext, f: FindingList): VolumeUse[] {
  const out: VolumeUse[] = [];
  const add = (v: VolumeUse | undefined, where: Segment[]): void => {
    if (!v) return;
    if (out.some((o) => o.volume.path === v.volume.path)) {
      f.leftOut(where, `${v.volume.path} is already mounted by an earlier volume`);
    } else if (out.length >= MAX_VOLUMES) {
      f.leftOut(where, `more than ${MAX_VOLUMES} volumes`);
    } else {
      out.push({ ...v, at: where });
    }
  };
  list(raw.volumes, [...at, 'volumes'], f, (entry, where) => add(mapVolume(entry, where, ctx.declaredVolumes, f), where));
  const tmpfs = typeof raw.tmpfs === 'string' ? [raw.tmpfs] : raw.tmpfs;
  const tmpfsAt: Segment[] = [...at, 'tmpfs'];
  list(tmpfs, tmpfsAt, f, (entry, where) => add(mapTmpfsEntry(entry, typeof raw.tmpfs === 'string' ? tmpfsAt : where, f), where));
  return out;
}

function dependenciesOf(raw: unknown, at: Segment[], f: FindingList): Dependency[] {
  if (raw === undefined || raw === null) return [];
  if (Array.isArray(raw)) {
    return raw.flatMap((s, i) => (typeof s === 'string' ? [{ service: s, at: [...at, i], condition: 'service_started' }] : (f.leftOut([...at, i], 'expected a service name'), [])));
  }
  if (!isMapping(raw)) {
    f.leftOut(at, 'expected a list of services or a map of service → {condition}');
    return [];
  }
  return Object.entries(raw).map(([service, spec]) => {
    const where = [...at, service];
    const m = isMapping(spec) ? spec : {};
    for (const key of Object.keys(m)) {
      if (key === 'condition' || key.startsWith('x-')) continue;
      if (key === 'required' && composeBool(m.required) !== false) continue;
      if (key === 'restart' && composeBool(m.restart) !== true) continue;
      f.leftOut([...where, key], key === 'restart' ? 'the job format does not restart a container when its dependency is updated' : key === 'required' ? 'dependencies are always required' : 'not a key of depends_on');
    }
    return { service, at: where, condition: typeof m.condition === 'string' ? m.condition : 'service_started' };
  });
}

function networkModeOf(raw: unknown, at: Segment[], out: MappedService, f: FindingList): void {
  if (raw === undefined || raw === null || raw === 'bridge' || raw === 'default') return;
  if (raw === 'host') {
    f.refused(at, 'containers cannot join the host\'s network namespace (docs/security.md): publish ports instead, like "8080:8080"');
    return;
  }
  const m = typeof raw === 'string' ? /^(service|container):(.+)$/.exec(raw) : null;
  if (m) {
    out.sharesNetworkWith = { service: m[2]!, at };
    return;
  }
  f.leftOut(at, `network mode ${JSON.stringify(raw)}: every pod has its own network namespace on the engine's network`);
}

