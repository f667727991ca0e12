// The normalized job model: what the renderer produces from a job file and
// what the scheduler, the store and the node runtime consume. Everything
// here is plain JSON data (it is stored in etcd as is), with units already
// parsed: bytes for sizes, millicores for CPU, milliseconds for durations.
// The raw, user-facing format is defined by schemas/job.schema.json.

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
  type: 'shared' | 'local';
  /** Absolute mount path inside the container. */
  path: string;
  /** Requested bytes. */
  space: number;
}

export interface EnvVar {
  name: string;
  value: string;
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

export interface JobSpec {
  name: string;
  numInstances: number;
  /** In start order: every container comes after its depends_on. */
  containers: ContainerSpec[];
  /** Routes into the job's instances; absent when the job has none. */
  ingress?: IngressRoute[];
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
