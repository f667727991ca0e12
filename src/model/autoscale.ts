// Autoscaling on CPU (DESIGN.md "Autoscaling on CPU"; docs/autoscaling.md):
// the job field's normalized form and what nodes publish of their instances'
// CPU use. Plain JSON, stored in etcd as is.

/** Job field `autoscale`, units parsed. */
export interface AutoscalePolicy {
  /** Fewest instances, at least 1. */
  min: number;
  /** Most instances, at least `min`. */
  max: number;
  /** Target average CPU use, percent of the pod's CPU limit (sum of its containers' `cpu`). */
  cpuPercent: number;
  /** A lower count must be wanted continuously this long before scaling down. */
  scaleDownAfterMs: number;
}

export const DEFAULT_SCALE_DOWN_AFTER_MS = 5 * 60_000;

/**
 * `<prefix>/cpu/<node>`, on the node's lease: the measured CPU use of the
 * node's instances of autoscaled jobs, rewritten every sample period.
 */
export interface NodeCpu {
  /** How often the node samples (ms): a record older than a few periods is stale. */
  sampleMs: number;
  /** Instance name (`<job>-<ordinal>`) → its last measurement. */
  instances: Record<string, InstanceCpu>;
}

export interface InstanceCpu {
  job: string;
  /** The spec hash the instance runs (its `ozy.spec`). */
  spec: string;
  /** Healthy by its health check (or running, without one) when sampled. */
  healthy: boolean;
  /** Millicores used over the last sample period, summed over the pod's containers (Δusage ÷ Δtime). */
  used: number;
  /** The pod's CPU limit, millicores (sum of its containers' `cpu`). */
  limit: number;
}
