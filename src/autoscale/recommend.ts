// What CPU use says an autoscaled job's count should be, from one look at
// its instances (pure). The formula is HPA's, `ceil(counted × average ÷
// target)`, with its two guards against instances that say nothing yet:
//   - only healthy instances measured on the spec they run, not in an
//     update's batch and not moving, count (a starting or updating instance
//     has no figure, or a misleading one);
//   - for a scale-up the others are taken as idle (they are about to share
//     the load: a rolling update does not scale up), for a scale-down as
//     using exactly the target (a slow starter is not a reason to stop
//     instances). Pending instances (capped by capacity) are neither.
// A ratio within 10 % of the target changes nothing.
import type { AutoscalePolicy, InstanceCpu } from '../model/autoscale';
import { placementName, versionOf, type AcceptedJob } from '../model/cluster';

export const TOLERANCE = 0.1;

export interface Recommendation {
  /** The job's count now (placed and pending instances). */
  count: number;
  /** Instances whose figure counted. */
  counted: number;
  /** Placed instances without a usable figure (starting, unhealthy, updating, not measured yet). */
  uncounted: number;
  /** Average use of the counted instances, percent of their pod's CPU limit; undefined when none counted. */
  averagePercent?: number;
  /** The count CPU use asks for, within [min, max] (the count itself when nothing says otherwise). */
  wanted: number;
}

/**
 * `measured(instance, node)` is the instance's latest fresh figure from the
 * node it is placed on, if any (the caller drops stale ones, and figures
 * from a node it no longer runs on).
 */
export function recommend(job: AcceptedJob, policy: AutoscalePolicy, measured: (instance: string, node: string) => InstanceCpu | undefined): Recommendation {
  const count = job.instances.length;
  const batch = new Set(job.rollout?.batch ?? []);
  let counted = 0;
  let placed = 0;
  let sum = 0;
  job.instances.forEach((p, ordinal) => {
    if (p.node === null) return;
    placed++;
    if (batch.has(ordinal) || p.from !== undefined) return;
    const m = measured(placementName(job.spec.name, p, ordinal), p.node);
    if (!m || !m.healthy || m.limit <= 0 || m.spec !== versionOf(job, p).specHash) return;
    counted++;
    sum += (m.used / m.limit) * 100;
  });
  const uncounted = placed - counted;
  const clamp = (n: number): number => Math.min(policy.max, Math.max(policy.min, n));
  if (counted === 0) return { count, counted, uncounted, wanted: clamp(count) };
  const averagePercent = sum / counted;
  const ratio = averagePercent / policy.cpuPercent;
  let wanted = count;
  if (Math.abs(ratio - 1) > TOLERANCE) {
    wanted = ratio > 1 ? Math.max(count, ceil(counted * ratio)) : Math.min(count, ceil(counted * ratio + uncounted));
  }
  return { count, counted, uncounted, averagePercent, wanted: clamp(Math.max(1, wanted)) };
}

/** ceil that forgives floating-point dust (2 × 1.5 = 3.0000000000000004 must be 3). */
function ceil(x: number): number {
  return Math.ceil(x - 1e-9);
}
