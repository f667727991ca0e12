// Raw job (already valid against the schema) → the normalized JobSpec:
// units parsed to numbers, defaults applied, commands split, environment and
// ports in one form. Values the schema cannot judge (a port above 65535 in
// "70000:80", a size beyond the sane range) become findings here.
import { DEFAULT_UPDATE, type ContainerSpec, type RestartPolicy, type EnvVar, type HealthCheck, type IngressRoute, type JobSpec, type Placement, type PortMapping, type UpdatePolicy, type VolumeSpec } from '../model/job';
import type { ProblemType } from '../problems';
import * as D from './defaults';
import { describeValue, finding, type Finding, type Segment } from './findings';
import type { Container as ContainerRaw, Healthcheck as HealthcheckRaw, IngressRoute as IngressRouteRaw, Job as JobRaw } from './job-raw.generated';
import { normalizeAutoscale } from './normalize-autoscale';
import { normalizeCron, refuseCronFields, refuseForCron } from './normalize-cron';
import { splitShellWords } from './shell-words';
import { describeSize, formatCpu, parseCpu, parseDurationMs, parseSize } from './units';

export interface Normalized {
  /** Containers in the order the file declares them (see orderContainers). */
  spec: JobSpec;
  findings: Finding[];
}

export function normalizeJob(raw: JobRaw): Normalized {
  const findings: Finding[] = [];
  const containers: ContainerSpec[] = [];
  // A run ends when its containers have exited: cron containers do not restart by default.
  const restart = raw.type === 'cron' ? D.DEFAULT_CRON_RESTART : D.DEFAULT_RESTART;
  for (const [name, c] of Object.entries(raw.containers)) {
    if (c) containers.push(normalizeContainer(name, c, restart, findings));
  }
  const spec: JobSpec = { name: raw.name, numInstances: raw.numInstances ?? D.DEFAULT_NUM_INSTANCES, containers };
  if (raw.type === 'daemon') {
    spec.type = 'daemon';
    // The count follows the eligible nodes; decide() sets it each round.
    spec.numInstances = 0;
    if (raw.numInstances !== undefined) {
      findings.push(finding('invalid-job', ['numInstances'], 'a daemon job runs one instance on every eligible node: remove `numInstances`'));
    }
  }
  if (raw.type === 'cron') {
    spec.type = 'cron';
    // Its pods belong to runs (cron.instances per run); the job itself has no standing instances.
    spec.numInstances = 0;
    spec.cron = normalizeCron(raw, findings);
    findings.push(...refuseForCron(raw));
  } else {
    findings.push(...refuseCronFields(raw));
  }
  if (raw.ingress && raw.ingress.length > 0) spec.ingress = raw.ingress.flatMap((r, i) => normalizeRoute(r, ['ingress', i], findings));
  if (raw.placement) spec.placement = normalizePlacement(raw.placement, findings);
  if (raw.update) spec.update = normalizeUpdate(raw.update, findings);
  if (raw.stopGrace !== undefined) spec.stopGraceMs = updateDuration(raw.stopGrace, 0, ['stopGrace'], findings);
  if (raw.onNodeLoss !== undefined) spec.onNodeLoss = raw.onNodeLoss;
  if (raw.autoscale) spec.autoscale = normalizeAutoscale(raw, raw.autoscale, findings);
  return { spec, findings };
}

type PlacementRaw = NonNullable<JobRaw['placement']>;

/** `spread: none` is the default and is left out, so a job that spells it out hashes like one that does not. */
function normalizePlacement(p: PlacementRaw, findings: Finding[]): Placement {
  const out: Placement = {};
  if (p.nodeLabels && Object.keys(p.nodeLabels).length > 0) out.nodeLabels = stringMap(p.nodeLabels);
  if (p.spread && p.spread !== 'none') out.spread = p.spread;
  if (p.zones) {
    if (p.spread !== 'zones') findings.push(finding('invalid-job', ['placement', 'zones'], '`zones` applies to `spread: zones` only'));
    out.zones = [...p.zones];
  }
  return out;
}

function stringMap(m: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(m).sort()) if (m[k] !== undefined) out[k] = m[k]!;
  return out;
}

type UpdateRaw = NonNullable<JobRaw['update']>;

function normalizeUpdate(u: UpdateRaw, findings: Finding[]): UpdatePolicy {
  return {
    strategy: u.strategy ?? DEFAULT_UPDATE.strategy,
    maxParallel: u.maxParallel ?? DEFAULT_UPDATE.maxParallel,
    minHealthyMs: u.minHealthy === undefined ? DEFAULT_UPDATE.minHealthyMs : updateDuration(u.minHealthy, 0, ['update', 'minHealthy'], findings),
    healthyDeadlineMs:
      u.healthyDeadline === undefined ? DEFAULT_UPDATE.healthyDeadlineMs : updateDuration(u.healthyDeadline, 1_000, ['update', 'healthyDeadline'], findings),
    autoRevert: u.autoRevert ?? DEFAULT_UPDATE.autoRevert,
  };
}

/** Update timings: from `min` up to a day. */
function updateDuration(raw: string | number, min: number, at: Segment[], findings: Finding[]): number {
  const ms = parseDurationMs(raw);
  if (ms === undefined || ms < min || ms > D.MAX_UPDATE_DURATION_MS) {
    findings.push(finding('invalid-update', at, `expected a duration from ${min}ms to 24h like 10s or 5m, got ${describeValue(raw)}`));
    return ms ?? 0;
  }
  return ms;
}

/** `{host, path?, port}` or `{tcp, port}`; the schema cannot say "exactly one of host and tcp". */
function normalizeRoute(r: IngressRouteRaw, at: Segment[], findings: Finding[]): IngressRoute[] {
  if ((r.host === undefined) === (r.tcp === undefined)) {
    findings.push(finding('invalid-ingress', at, 'a route has either `host` (HTTP) or `tcp` (a TCP port), not both and not neither'));
    return [];
  }
  if (r.tcp !== undefined) {
    if (r.path !== undefined) findings.push(finding('invalid-ingress', [...at, 'path'], '`path` applies to HTTP routes (`host`), not to `tcp` routes'));
    return [{ tcp: r.tcp, port: r.port }];
  }
  return [{ host: r.host!.toLowerCase(), path: normalizePath(r.path ?? '/'), port: r.port }];
}

/** `/api/` and `/api` are the same prefix: matching is on `/` boundaries. */
function normalizePath(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

function normalizeContainer(name: string, c: ContainerRaw, defaultRestart: RestartPolicy, findings: Finding[]): ContainerSpec {
  const at: Segment[] = ['containers', name];
  const spec: ContainerSpec = {
    name,
    image: c.image,
    restart: c.restart ?? defaultRestart,
    environment: normalizeEnvironment(c.environment, at, findings),
    ports: (c.ports ?? []).flatMap((p, i) => parsePortOrReport(p, [...at, 'ports', i], findings)),
    dependsOn: [...(c.depends_on ?? [])],
    memory: boundedSize(c.memory, D.DEFAULT_MEMORY_BYTES, D.MIN_MEMORY_BYTES, D.MAX_MEMORY_BYTES, [...at, 'memory'], findings),
    cpu: boundedCpu(c.cpu, [...at, 'cpu'], findings),
    volumes: (c.volumes ?? []).map(
      (v, i): VolumeSpec => ({
        type: v.type,
        path: v.path,
        space: boundedSize(v.space, 0, D.MIN_VOLUME_BYTES, D.MAX_VOLUME_BYTES, [...at, 'volumes', i, 'space'], findings),
      }),
    ),
  };
  if (c.command !== undefined) {
    const cmd = commandOf(c.command, [...at, 'command'], 'invalid-job', findings);
    if (cmd) spec.command = cmd;
  }
  if (c.healthcheck) {
    const hc = normalizeHealthcheck(c.healthcheck, [...at, 'healthcheck'], findings);
    if (hc) spec.healthcheck = hc;
  }
  // The baseline's fields stay absent at their defaults, so a file that spells a default out hashes like one that does not.
  if (c.pids !== undefined && c.pids !== D.DEFAULT_PIDS) spec.pids = c.pids;
  if (c.user !== undefined) {
    const user = normalizeUser(c.user, [...at, 'user'], findings);
    if (user !== undefined) spec.user = user;
  }
  if (c.readOnlyRootfs === true) spec.readOnlyRootfs = true;
  return spec;
}

/** Largest uid or gid: (uid_t)-1 is "no id" to the kernel. */
const MAX_ID = 4_294_967_294;

/** `1000`, `"1000:1000"`, `"app"`: as a string; the schema checked the shape, this checks the numbers' range. */
function normalizeUser(raw: string | number, at: Segment[], findings: Finding[]): string | undefined {
  const user = String(raw);
  const outOfRange = user.split(':').some((part) => /^[0-9]+$/.test(part) && Number(part) > MAX_ID);
  if (outOfRange) {
    findings.push(finding('invalid-job', at, `expected a uid and gid from 0 to ${MAX_ID}, got ${describeValue(raw)}`));
    return undefined;
  }
  return user;
}

function commandOf(cmd: string | string[], at: Segment[], type: ProblemType, findings: Finding[]): string[] | undefined {
  if (Array.isArray(cmd)) return [...cmd];
  const split = splitShellWords(cmd);
  if (split.ok) return split.words;
  findings.push(finding(type, at, `the command string ${split.error}; quote it properly or write it as a list`));
  return undefined;
}

function normalizeEnvironment(env: ContainerRaw['environment'], at: Segment[], findings: Finding[]): EnvVar[] {
  if (env === undefined) return [];
  if (!Array.isArray(env)) {
    return Object.entries(env).flatMap(([name, value]) => (value === undefined ? [] : [{ name, value: String(value) }]));
  }
  const firstIndex = new Map<string, number>();
  const out: EnvVar[] = [];
  env.forEach((v, i) => {
    const prev = firstIndex.get(v.name);
    if (prev !== undefined) {
      // Only the name is quoted: values may be secrets.
      findings.push(finding('invalid-environment', [...at, 'environment', i, 'name'], `${v.name} is already set by environment[${prev}]`));
      return;
    }
    firstIndex.set(v.name, i);
    if ((v.value === undefined) === (v.secret === undefined)) {
      findings.push(finding('invalid-environment', [...at, 'environment', i], `${v.name}: give either \`value\` or \`secret\` (the name of secrets/<name>.age), not both and not neither`));
      return;
    }
    // A secret is bound to its file after the render (secrets/bind.ts).
    out.push(v.secret !== undefined ? { name: v.name, secret: { name: v.secret, sha256: '', ciphertext: '' } } : { name: v.name, value: String(v.value) });
  });
  return out;
}

const PORT_RE = /^(?:([0-9]{1,5}):)?([0-9]{1,5})(?:\/(tcp|udp))?$/;

/** `"80:3000"`, `"3000"`, `"53/udp"`, 3000 → PortMapping; undefined if malformed or out of range. */
export function parsePort(input: string | number): PortMapping | undefined {
  const m = PORT_RE.exec(String(input));
  if (!m) return undefined;
  const container = Number(m[2]);
  const host = m[1] === undefined ? undefined : Number(m[1]);
  const inRange = (p: number) => p >= 1 && p <= 65535;
  if (!inRange(container) || (host !== undefined && !inRange(host))) return undefined;
  const out: PortMapping = { container, protocol: m[3] === 'udp' ? 'udp' : 'tcp' };
  if (host !== undefined) out.host = host;
  return out;
}

function parsePortOrReport(input: string | number, at: Segment[], findings: Finding[]): PortMapping[] {
  const p = parsePort(input);
  if (p) return [p];
  findings.push(finding('invalid-port', at, `expected ports from 1 to 65535 like "80:3000" or "3000", got ${describeValue(input)}`));
  return [];
}

function boundedSize(
  raw: string | number | undefined,
  fallback: number,
  min: number,
  max: number,
  at: Segment[],
  findings: Finding[],
): number {
  const bytes = raw === undefined ? fallback : parseSize(raw);
  if (bytes === undefined) {
    findings.push(finding('invalid-size', at, `expected a size like 512M or 2G, got ${describeValue(raw)}`));
    return 0;
  }
  if (bytes < min || bytes > max) {
    findings.push(
      finding('invalid-size', at, `expected a size from ${describeSize(min)} to ${describeSize(max)}, got ${describeValue(raw)} (${describeSize(bytes)})`),
    );
  }
  return bytes;
}

function boundedCpu(raw: string | number | undefined, at: Segment[], findings: Finding[]): number {
  const millis = raw === undefined ? D.DEFAULT_CPU_MILLICORES : parseCpu(raw);
  if (millis === undefined) {
    findings.push(finding('invalid-cpu', at, `expected a CPU amount like 0.5, 2 or 250m, got ${describeValue(raw)}`));
    return 0;
  }
  if (millis < D.MIN_CPU_MILLICORES || millis > D.MAX_CPU_MILLICORES) {
    findings.push(
      finding(
        'invalid-cpu',
        at,
        `expected a CPU amount from ${formatCpu(D.MIN_CPU_MILLICORES)} to ${formatCpu(D.MAX_CPU_MILLICORES)} cores, got ${describeValue(raw)}`,
      ),
    );
  }
  return millis;
}

function boundedDuration(raw: string | number | undefined, fallback: number, min: number, at: Segment[], findings: Finding[]): number {
  const ms = raw === undefined ? fallback : parseDurationMs(raw);
  if (ms === undefined || ms < min || ms > D.MAX_HEALTH_DURATION_MS) {
    findings.push(finding('invalid-healthcheck', at, `expected a duration from ${min}ms to 1h like 5s or 500ms, got ${describeValue(raw)}`));
    return ms ?? 0;
  }
  return ms;
}

function normalizeHealthcheck(hc: HealthcheckRaw, at: Segment[], findings: Finding[]): HealthCheck | undefined {
  const timing = {
    intervalMs: boundedDuration(hc.interval, D.DEFAULT_HEALTH_INTERVAL_MS, D.MIN_HEALTH_INTERVAL_MS, [...at, 'interval'], findings),
    timeoutMs: boundedDuration(hc.timeout, D.DEFAULT_HEALTH_TIMEOUT_MS, D.MIN_HEALTH_TIMEOUT_MS, [...at, 'timeout'], findings),
    healthyThreshold: hc.healthy_threshold ?? D.DEFAULT_HEALTHY_THRESHOLD,
    unhealthyThreshold: hc.unhealthy_threshold ?? D.DEFAULT_UNHEALTHY_THRESHOLD,
  };
  switch (hc.type) {
    case 'http':
      return { type: 'http', port: hc.port, path: hc.path ?? D.DEFAULT_HEALTH_PATH, ...timing };
    case 'tcp':
      return { type: 'tcp', port: hc.port, ...timing };
    case 'exec': {
      const command = commandOf(hc.command, [...at, 'command'], 'invalid-healthcheck', findings);
      return command ? { type: 'exec', command, ...timing } : undefined;
    }
  }
}
