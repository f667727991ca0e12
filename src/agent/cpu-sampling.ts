// Pure part of the node's CPU sampling (cpu-sampler.ts does the I/O): which
// containers of an instance to ask the engine about, and how two samples of
// the same containers make one figure per instance.
//
// A figure needs two samples of the same container (Δusage ÷ Δtime): podman
// leaves a single sample's "previous" block empty (ENVIRONMENT.md). Samples
// are kept by container id, so a restarted or recreated container (new id)
// starts over, and an instance is published only once every one of its
// containers has a figure: a half-measured pod would look idle.
import type { InstanceCpu, NodeCpu } from '../model/autoscale';
import type { InstanceStatus } from '../model/cluster';
import type { JobSpec } from '../model/job';
import { cpuMillicores, type ContainerStats } from '../runtime/facts';

/** One instance of an autoscaled job, as the node agent knows it when a round starts. */
export interface CpuTarget {
  instance: string;
  job: string;
  /** The spec hash it runs. */
  spec: string;
  /** Healthy by its health checks (or running, without any): what the agent publishes DNS for. */
  healthy: boolean;
  /** Sum of its containers' `cpu`, millicores. */
  limit: number;
  /** The ids of the pod's containers when every one runs; empty otherwise (nothing to sample). */
  containers: string[];
}

/** What the node agent's supervisor says of an instance, turned into what to sample. */
export function cpuTargetOf(status: InstanceStatus, spec: JobSpec): CpuTarget {
  const ids: string[] = [];
  for (const c of spec.containers) {
    const seen = status.containers[c.name];
    if (seen?.id === undefined || seen.state !== 'running') {
      ids.length = 0;
      break;
    }
    ids.push(seen.id);
  }
  return {
    instance: status.instance,
    job: status.job,
    spec: status.specHash,
    healthy: status.state === 'healthy',
    limit: spec.containers.reduce((sum, c) => sum + c.cpu, 0),
    containers: ids,
  };
}

export interface CpuRound {
  /** The node's record for this round (instances with a figure only). */
  record: NodeCpu;
  /** The samples to pair with next round's, by container id. */
  samples: Map<string, ContainerStats>;
}

/**
 * One round: `prev` are the samples kept from earlier rounds, `got` this
 * round's (a container whose stats call failed is missing from it). An
 * instance gets a figure when every container has a usable pair; a failed
 * container keeps its earlier sample, so the next round measures across both
 * periods instead of starting over. Containers no longer targeted are dropped.
 */
export function cpuRound(
  targets: readonly CpuTarget[],
  prev: ReadonlyMap<string, ContainerStats>,
  got: ReadonlyMap<string, ContainerStats>,
  sampleMs: number,
): CpuRound {
  const samples = new Map<string, ContainerStats>();
  const instances: Record<string, InstanceCpu> = {};
  for (const t of targets) {
    let used = 0;
    let complete = t.containers.length > 0;
    for (const id of t.containers) {
      const before = prev.get(id);
      const now = got.get(id);
      const pair = before && now ? millicores(before, now) : undefined;
      // Keep the newer sample unless this one is unusable as a later point (same or earlier read time).
      const keep = now && (before === undefined || pair !== 'stale') ? now : before;
      if (keep) samples.set(id, keep);
      if (typeof pair === 'number') used += pair;
      else complete = false;
    }
    if (complete) instances[t.instance] = { job: t.job, spec: t.spec, healthy: t.healthy, used: Math.round(used), limit: t.limit };
  }
  return { record: { sampleMs, instances }, samples };
}

/**
 * Millicores between two samples of one container; 'stale' when the engine
 * answered with a sample no newer than the last (nothing to divide by), or
 * 'reset' when the counter went backwards (the container restarted under
 * the same id): no figure this round either way.
 */
function millicores(prev: ContainerStats, cur: ContainerStats): number | 'stale' | 'reset' {
  if (!(Date.parse(cur.readAt) > Date.parse(prev.readAt))) return 'stale';
  if (cur.cpuTotalNs < prev.cpuTotalNs) return 'reset';
  return cpuMillicores(prev, cur);
}
