// Cluster state as stored in etcd (see docs/architecture.md for the keys).
import type { JobSpec, Resources } from './job';
import type { Problem } from './problem';

export interface NodeInfo {
  name: string;
  /** How other nodes reach this one (host for DNS records). */
  address: string;
  zone?: string;
  labels: Record<string, string>;
  capacity: Resources;
  /** Random id of the agent process holding the node's lease. */
  agentId: string;
  /** etcd lease id (decimal string) the node key is attached to. */
  leaseId: string;
  startedAt: string;
}

/** Where one instance runs. `node: null` means pending (nowhere fits). */
export interface InstancePlacement {
  node: string | null;
  /** ISO time the instance got this placement (or became pending). */
  since: string;
}

/**
 * An accepted job: its spec and its placements, written together in one
 * transaction (invariant 3). `instances[i]` is ordinal i, so instance names
 * are `${spec.name}-${i}`.
 */
export interface AcceptedJob {
  spec: JobSpec;
  specHash: string;
  /** Git commit whose content was accepted. */
  commit: string;
  file: string;
  acceptedAt: string;
  instances: InstancePlacement[];
}

/** A job (or file) whose latest desired state was not accepted. */
export interface Rejection {
  /** Report key: the job name, or the file path for unparsable files. */
  key: string;
  commit: string;
  /** Hash of the rejected desired spec, '' when there is none. */
  desiredHash: string;
  problem: Problem;
  at: string;
}

export type InstanceState =
  | 'pending'
  | 'pulling'
  | 'starting'
  | 'healthy'
  | 'unhealthy'
  | 'exited'
  | 'failed';

/** Written by the agent that runs the instance, attached to its lease. */
export interface InstanceStatus {
  instance: string;
  job: string;
  node: string;
  specHash: string;
  state: InstanceState;
  /** Human-readable reason: "OOM killed", "pull failed: ...", ... */
  message?: string;
  restarts: number;
  containers: Record<string, { id?: string; state: string; exitCode?: number; oomKilled?: boolean }>;
  updatedAt: string;
  /**
   * Where other nodes reach the instance's ingress ports, keyed by the
   * container port as a decimal string ("3000"). Read by `ozy ingress`.
   */
  endpoints?: Record<string, InstanceEndpoint>;
}

/** A host (IP or name) and port another node can connect to. */
export interface InstanceEndpoint {
  host: string;
  port: number;
}

export function instanceName(job: string, ordinal: number): string {
  return `${job}-${ordinal}`;
}

export function zeroResources(): Resources {
  return { memory: 0, disk: 0, cpu: 0 };
}
