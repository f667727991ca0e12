// What one instance of a job takes from the node it is placed on.
import { versionOf, type AcceptedJob, type InstancePlacement } from '../model/cluster';
import type { JobSpec } from '../model/job';

/** Resource axes, in a fixed order so state can live in typed arrays. */
export const MEMORY = 0;
export const DISK = 1;
export const CPU = 2;
export type ResourceIndex = typeof MEMORY | typeof DISK | typeof CPU;
export const RESOURCE_INDEXES: readonly ResourceIndex[] = [MEMORY, DISK, CPU];
export const RESOURCE_NAMES = ['memory', 'disk', 'cpu'] as const;
export type ResourceName = (typeof RESOURCE_NAMES)[number];

/** Per-instance demand: [memory bytes, local disk bytes, CPU millicores] plus host ports. */
export interface Demand {
  /** Indexed by MEMORY, DISK, CPU. */
  readonly amounts: readonly [number, number, number];
  /** Host ports the pod publishes, as "80/tcp", sorted and unique. */
  readonly hostPorts: readonly string[];
}

export function portKey(port: number, protocol: string): string {
  return `${port}/${protocol}`;
}

/**
 * Sum over the pod's containers. Only `local` and `persistent` volumes
 * count as disk: a `shared` volume lives on the operator's shared
 * filesystem, not on the node, so it takes nothing from any node's disk
 * capacity. (A persistent volume whose instance was scaled away still takes
 * its space: plan/persistent.ts accounts it.)
 */
export function instanceDemand(spec: JobSpec): Demand {
  let d = demands.get(spec);
  if (d === undefined) {
    d = computeDemand(spec);
    demands.set(spec, d);
  }
  return d;
}

/**
 * Specs are never mutated once rendered or decoded, and the same objects
 * come back decision after decision (render cache, schedule cache): each
 * one's demand is computed once (it was ~8 ms of every decision at 5,000
 * jobs). A Demand is read-only, so sharing it is safe.
 */
const demands = new WeakMap<JobSpec, Demand>();

function computeDemand(spec: JobSpec): Demand {
  let memory = 0;
  let disk = 0;
  let cpu = 0;
  const ports = new Set<string>();
  for (const c of spec.containers) {
    memory += c.memory;
    cpu += c.cpu;
    for (const v of c.volumes) if (v.type !== 'shared') disk += v.space;
    for (const p of c.ports) if (p.host !== undefined) ports.add(portKey(p.host, p.protocol));
  }
  return { amounts: [memory, disk, cpu], hostPorts: [...ports].sort() };
}

/**
 * What the persistent volumes of one scaled-away instance keep taking on
 * their node until the ordinal comes back or the job goes: their space,
 * nothing else (plan/persistent.ts accounts it; `ozy status` shows it).
 */
export function retainedDemand(spec: JobSpec): Demand {
  let disk = 0;
  for (const c of spec.containers) for (const v of c.volumes) if (v.type === 'persistent') disk += v.space;
  return { amounts: [0, disk, 0], hostPorts: [] };
}

/**
 * The lowest ordinal whose persistent volumes are kept without an instance:
 * the job's count (scale-down removes the highest ordinals), or 0 for a
 * daemon, whose instances are named after their nodes, never by ordinal: a
 * record left from the job's time as a service is all data without an
 * instance (a daemon's own `<job>-<node>` volumes need no record: that
 * instance only ever runs on its node).
 */
export function firstRetainedOrdinal(job: Pick<AcceptedJob, 'spec' | 'instances'>): number {
  return job.spec.type === 'daemon' ? 0 : job.instances.length;
}

/** What instance `p` of `job` takes: the demand of the version it runs (a rolling update may pin an older one). */
export function placementDemand(job: AcceptedJob, p: InstancePlacement): Demand {
  return p.spec === undefined || p.spec === job.specHash ? instanceDemand(job.spec) : instanceDemand(versionOf(job, p).spec);
}
