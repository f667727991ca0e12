// The count of an autoscaled job this round (DESIGN.md "Autoscaling on CPU").
// The count lives in etcd, as the accepted job's number of instances: git's
// `numInstances` is only where it starts (the job is created, or gains
// `autoscale`), and the file's `min`/`max` clamp it every round, so changing
// them in git re-clamps at once. The autoscaler's wanted count, when it has
// one, replaces the accepted count; it is clamped the same way. Everything
// else about the job (its pod, its policies) comes from git as usual, so an
// update rolls out without resetting the count.
import type { AcceptedJob } from '../model/cluster';
import type { DesiredJob } from '../model/job';

/** The count `desired` keeps: wanted (the autoscaler's), else accepted (when it autoscaled already), else the file's; within [min, max]. */
export function autoscaledCount(desired: DesiredJob, accepted: AcceptedJob | undefined, wanted: number | undefined): number {
  const policy = desired.spec.autoscale;
  if (!policy) return desired.spec.numInstances;
  const base = wanted ?? (accepted?.spec.autoscale !== undefined ? accepted.instances.length : desired.spec.numInstances);
  return Math.min(policy.max, Math.max(policy.min, base));
}

/** Rewritten desired jobs, remembered per desired job and count: from one round to the next they are the same objects (spec-compare's memo keeps working). */
const rewritten = new WeakMap<DesiredJob, DesiredJob>();

/**
 * The desired set with every autoscaled job's numInstances replaced by the
 * count it keeps. The array itself when no job autoscales (most clusters).
 */
export function withAutoscaledCounts(desired: readonly DesiredJob[], accepted: ReadonlyMap<string, AcceptedJob>, wanted?: ReadonlyMap<string, number>): readonly DesiredJob[] {
  if (!desired.some((d) => d.spec.autoscale !== undefined)) return desired;
  return desired.map((d) => {
    if (!d.spec.autoscale) return d;
    const count = autoscaledCount(d, accepted.get(d.spec.name), wanted?.get(d.spec.name));
    if (count === d.spec.numInstances) return d;
    const known = rewritten.get(d);
    if (known?.spec.numInstances === count) return known;
    const out: DesiredJob = { ...d, spec: { ...d.spec, numInstances: count } };
    rewritten.set(d, out);
    return out;
  });
}
