// The normalized job model: what the renderer produces from a job file and
// what the scheduler, the store and the node runtime consume. Everything
// here is plain JSON data (it is stored in etcd as is), with units already
// parsed: bytes for sizes, millicores for CPU, milliseconds for durations.
// The raw, user-facing format is defined by schemas/job.schema.json.
import type { AutoscalePolicy } from './autoscale';

export type RestartPolicy = 'always' | 'on-failure' | 'never';

export interface PortMapping {
  /** Published on the node (the pod's network namespace owner carries it). */
  host?: number;
  container: number;
  protocol: 'tcp' | 'udp';
}

interface HealthTiming {
  /** Milliseconds between checks. */
  intervalMs: number;
  /** Milliseconds before one check counts as failed. */
  timeoutMs: number;
  /** Consecutive successes to become healthy. */
  healthyThreshold: number;
  /** Consecutive failures to become unhealthy. */
  unhealthyThreshold: number;
}

export type HealthCheck =
  | (HealthTiming & { type: 'http'; port: number; path: string })
  | (HealthTiming & { type: 'tcp'; port: number })
  | (HealthTiming & { type: 'exec'; command: string[] });

export interface VolumeSpec {
  /** `persistent`: one directory per instance identity, kept until the job is deleted (plan/persistent.ts). */
  type: 'shared' | 'local' | 'persistent';
  /** Absolute mount path inside the container. */
  path: string;
  /** Requested bytes. */
  space: number;
}

/** A plain variable (its value lives in the spec, in etcd) or one whose value is an age-encrypted secret of the repository. */
export type EnvVar = PlainEnvVar | SecretEnvVar;

export interface PlainEnvVar {
  name: string;
  value: string;
}

export interface SecretEnvVar {
  name: string;
  secret: SecretRef;
}

/**
 * `secrets/<name>.age` as the render found it (secrets/bind.ts): the
 * plaintext is never here; nodes decrypt `ciphertext` when they create the
 * container. `sha256` (of the file) makes a changed secret a changed spec.
 * Between normalizing a file and binding its secrets both are ''.
 */
export interface SecretRef {
  name: string;
  sha256: string;
  /** The file's bytes, base64. */
  ciphertext: string;
}

export function isSecretEnv(e: EnvVar): e is SecretEnvVar {
  return 'secret' in e;
}

export interface ContainerSpec {
  name: string;
  image: string;
  restart: RestartPolicy;
  command?: string[];
  environment: EnvVar[];
  ports: PortMapping[];
  dependsOn: string[];
  /** Hard memory limit, bytes. */
  memory: number;
  /** CPU limit, millicores (1000 = one core). */
  cpu: number;
  healthcheck?: HealthCheck;
  volumes: VolumeSpec[];
  /**
   * Process (and thread) limit, the engine's PidsLimit. Present only when
   * the file sets a value other than DEFAULT_PIDS: specs written before the
   * field existed hash as before, so upgrading restarts nothing.
   */
  pids?: number;
  /** `uid`, `name`, `uid:gid`…: the engine's User. Absent: the image's user. */
  user?: string;
  /** Present (true) only when the file says so, for the same reason as `pids`. */
  readOnlyRootfs?: true;
}

/** Process limit of a container whose job does not set `pids` (DESIGN.md "Security defaults"). */
export const DEFAULT_PIDS = 1024;

/** The container's process limit, its default filled in. */
export function pidsOf(c: Pick<ContainerSpec, 'pids'>): number {
  return c.pids ?? DEFAULT_PIDS;
}

/**
 * One way in from outside (job field `ingress`, served by `ozy ingress`):
 * HTTP by Host header and path prefix, or a raw TCP port on every node.
 */
export type IngressRoute = HttpIngressRoute | TcpIngressRoute;

export interface HttpIngressRoute {
  /** Lower-case; exact (`shop.example.com`) or one-label wildcard (`*.example.com`). */
  host: string;
  /** A prefix starting with '/', matched on '/' boundaries; never stripped. Default '/'. */
  path: string;
  /** The container port that serves it. */
  port: number;
}

export interface TcpIngressRoute {
  /** The port `ozy ingress` listens on for this job. */
  tcp: number;
  /** The container port connections are forwarded to. */
  port: number;
}

/** How a pod change reaches running instances (job field `update`; defaults in DEFAULT_UPDATE). */
export interface UpdatePolicy {
  strategy: 'rolling' | 'recreate';
  /** Instances replaced at once. */
  maxParallel: number;
  /** A new instance must stay healthy this long before the next batch starts. */
  minHealthyMs: number;
  /** A new instance not healthy by then fails the update. */
  healthyDeadlineMs: number;
  /** A failed update puts the previous spec back on every instance. */
  autoRevert: boolean;
}

export const DEFAULT_UPDATE: UpdatePolicy = {
  strategy: 'rolling',
  maxParallel: 1,
  minHealthyMs: 10_000,
  healthyDeadlineMs: 300_000,
  autoRevert: true,
};

/** SIGTERM → SIGKILL for a whole pod, when the job does not say (`stopGrace`). */
export const DEFAULT_STOP_GRACE_MS = 10_000;

export type Spread = 'none' | 'zones' | 'nodes';

export interface Placement {
  /** Only nodes whose labels include every one of these. */
  nodeLabels?: Record<string, string>;
  /** Absent means 'none' (bin-pack); kept absent then, so older specs hash as before. */
  spread?: Exclude<Spread, 'none'>;
  /** With spread 'zones': the zones in the file's order (else the cluster's known zones). */
  zones?: string[];
}

/** The job's spread rule ('none' when it has none). */
export function spreadOf(spec: JobSpec): Spread {
  return spec.placement?.spread ?? 'none';
}

export interface JobSpec {
  name: string;
  /**
   * Absent for a service; a daemon runs one instance per eligible node
   * (numInstances is then derived); a cron job runs to completion on its
   * schedule (`cron`), and its numInstances is 0: its pods belong to runs.
   */
  type?: 'daemon' | 'cron';
  numInstances: number;
  /** Present exactly when type is 'cron'. */
  cron?: CronPolicy;
  /** In start order: every container comes after its depends_on. */
  containers: ContainerSpec[];
  /** Routes into the job's instances; absent when the job has none. */
  ingress?: IngressRoute[];
  /** Present only when the job file says where it may run. */
  placement?: Placement;
  /** Present only when the job file has `update` (then complete, defaults filled in). */
  update?: UpdatePolicy;
  /** Present only when the job file has `stopGrace`. */
  stopGraceMs?: number;
  /** Present only when the job file has `onNodeLoss`; absent means 'wait'. */
  onNodeLoss?: 'wait' | 'recreate';
  /** Present only when the job file has `autoscale`: numInstances is then the count autoscaling keeps (plan/autoscale.ts). */
  autoscale?: AutoscalePolicy;
}

/** A cron job's schedule and run policy (job fields of `type: cron`; defaults in DESIGN.md "Cron jobs"). */
export interface CronPolicy {
  /** 5 fields, or 6 with seconds first (node-cron syntax), as written. */
  schedule: string;
  /** IANA time zone the schedule is read in. Default 'UTC'. */
  timeZone: string;
  /** A scheduled time that comes while a run is active: overlap, skip it, or stop the active one. Default 'forbid'. */
  concurrency: 'allow' | 'forbid' | 'replace';
  /** A run not started this long after its scheduled time is missed. Default 60 s. */
  startingDeadlineMs: number;
  /** Times missed while every agent was down: 'one' runs once for all of them, 'none' skips them. Default 'one'. */
  catchUp: 'none' | 'one';
  /** A run still going after this is stopped and failed; absent: no limit. */
  activeDeadlineMs?: number;
  /** A failed run is started again this many times. Default 0. */
  retries: number;
  /** Run records kept: succeeded ones, and all others (failed, missed, skipped, replaced). Default 3 and 3. */
  history: { succeeded: number; failed: number };
  /** Pods per run (the file's `numInstances`, default 1). */
  instances: number;
}

export const DEFAULT_CRON: Omit<CronPolicy, 'schedule' | 'instances'> = {
  timeZone: 'UTC',
  concurrency: 'forbid',
  startingDeadlineMs: 60_000,
  catchUp: 'one',
  retries: 0,
  history: { succeeded: 3, failed: 3 },
};

export function updatePolicyOf(spec: JobSpec): UpdatePolicy {
  return spec.update ?? DEFAULT_UPDATE;
}

export function stopGraceOf(spec: Pick<JobSpec, 'stopGraceMs'>): number {
  return spec.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
}

/** What one instance of a job needs from the node it runs on. */
export interface Resources {
  /** bytes */
  memory: number;
  /** bytes */
  disk: number;
  /** millicores */
  cpu: number;
}

/** A rendered, validated job together with where it came from. */
export interface DesiredJob {
  spec: JobSpec;
  /** Pod-template hash of `spec` (instance count excluded); see model/hash.ts podTemplateHash. */
  specHash: string;
  /** Repository-relative path of the file (or chart) it came from. */
  file: string;
}
