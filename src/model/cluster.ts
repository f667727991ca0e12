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
  /**
   * The version this instance runs when it is not the job's `specHash`: a
   * key of `AcceptedJob.versions` (a rolling update has not reached it yet).
   */
  spec?: string;
  /** A daemon instance's name suffix: the node it belongs to (`<job>-<node>`). */
  daemon?: string;
  /**
   * The node it moved from (rolling update or rebalancing, not failover): the
   * new node starts it only once that node no longer runs it (drain, then start).
   */
  from?: string;
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
  /** Older versions some instances still run, by spec hash (only while a rolling update is under way). */
  versions?: Record<string, JobVersion>;
  /** The rolling update (or revert) under way, if any. */
  rollout?: Rollout;
  /** The last update that failed: its spec is not tried again until the job's file changes. */
  failedUpdate?: FailedUpdate;
  /**
   * Where each instance's `persistent` volumes live, by ordinal (decimal
   * string) → node; also for ordinals scaled away (their data is kept).
   * A daemon's are keyed by instance name (`<job>-<node>` → node): nothing
   * to pin, but the node must know it keeps them (node-jobs.ts runsOn)
   * while the instance is gone, or it would delete them as a deleted job's.
   * Written with the placements (invariant 3); see plan/persistent.ts.
   */
  volumes?: Record<string, string>;
}

/** A job spec some instances still run during a rolling update. */
export interface JobVersion {
  spec: JobSpec;
  commit: string;
}

/**
 * Progress of a rolling update toward the job's `specHash`. Instances
 * still pinned to another version (`InstancePlacement.spec`) are replaced
 * in ordinal order, `maxParallel` at a time.
 */
export interface Rollout {
  /** 'update' rolls a new spec in; 'revert' puts the previous one back after a failure; 'move' rebalances. */
  kind: 'update' | 'revert' | 'move';
  /** The commit of the spec being rolled in. */
  commit: string;
  /** Spec hash every instance ran when the update began: what a revert restores. */
  from: string;
  /** Ordinals already given the new spec, waiting to be healthy for minHealthy. */
  batch: number[];
  startedAt: string;
  /** Why the next batch cannot start (no room on any node), when it cannot. */
  blocked?: string;
  /** The update failed without autoRevert: nothing moves until the job's file changes. */
  halted?: boolean;
}

export interface FailedUpdate {
  /** Pod template hash of the spec that failed. */
  specHash: string;
  /** Hash of the failed pod with its update policy (plan/rollout.ts attemptHash): the file asks again for exactly this. */
  attempt: string;
  /** The commit that brought it. */
  commit: string;
  instance: string;
  reason: string;
  reverted: boolean;
  at: string;
}

/** The spec and hash instance `p` of `job` runs. */
export function versionOf(job: AcceptedJob, p: InstancePlacement): { spec: JobSpec; specHash: string } {
  if (p.spec === undefined || p.spec === job.specHash) return { spec: job.spec, specHash: job.specHash };
  const v = job.versions?.[p.spec];
  // A pin without its version cannot happen in a well-formed job; running the job's spec is the safe reading.
  return v ? { spec: v.spec, specHash: p.spec } : { spec: job.spec, specHash: job.specHash };
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
  /** The latest restart: why (`container app exited with code 1`) and when (ISO). */
  lastRestart?: { cause: string; at: string };
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

/** Name of the instance at `ordinal` of `job`: `<job>-<ordinal>`, or `<job>-<node>` for a daemon's. */
export function placementName(job: string, p: InstancePlacement, ordinal: number): string {
  return p.daemon !== undefined ? `${job}-${p.daemon}` : `${job}-${ordinal}`;
}

/** `node` holds persistent volumes of `job` (its instances there may be scaled away). */
export function hasVolumesOn(job: AcceptedJob, node: string): boolean {
  return job.volumes !== undefined && Object.values(job.volumes).includes(node);
}

export function zeroResources(): Resources {
  return { memory: 0, disk: 0, cpu: 0 };
}
