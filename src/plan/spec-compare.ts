// Comparing two job specs field by field (canonical JSON) is the costly
// part of classifying a job, and a poller classifies every job every round:
// 5,000 jobs cost ~10,000 canonical serialisations (~5 ms) per one-file
// change. Specs are immutable values, and from one round to the next both
// sides are the very same objects (the render replays unchanged files'
// specs; the schedule cache keeps unchanged accepted jobs), so each pair's
// answer is remembered, keyed by the two objects.
import { canonicalJson, podTemplate } from '../model/hash';
import type { JobSpec } from '../model/job';

/** Canonical comparisons actually computed (not answered from the memo): for tests and benchmarks. */
export const specCompareStats = { computed: 0 };

interface Remembered {
  other: JobSpec;
  sameTemplate?: boolean;
  samePolicy?: boolean;
}

/** One remembered partner per spec: a desired spec meets one accepted spec per round. */
const memo = new WeakMap<JobSpec, Remembered>();

function entry(a: JobSpec, b: JobSpec): Remembered {
  let e = memo.get(a);
  if (e === undefined || e.other !== b) {
    e = { other: b };
    memo.set(a, e);
  }
  return e;
}

/**
 * Same pod template (everything the pod hash covers). A scale or a policy
 * change is not a pod change: the running instances keep it, nothing restarts.
 */
export function sameTemplate(a: JobSpec, b: JobSpec): boolean {
  const e = entry(a, b);
  if (e.sameTemplate === undefined) {
    specCompareStats.computed++;
    e.sameTemplate = canonicalJson(podTemplate(a)) === canonicalJson(podTemplate(b));
  }
  return e.sameTemplate;
}

/** The fields outside the pod template (see podTemplate in model/hash.ts): update, stopGrace, placement, autoscale. */
export function samePolicy(a: JobSpec, b: JobSpec): boolean {
  const e = entry(a, b);
  if (e.samePolicy === undefined) {
    specCompareStats.computed++;
    e.samePolicy = canonicalJson([a.update, a.stopGraceMs, a.placement, a.autoscale]) === canonicalJson([b.update, b.stopGraceMs, b.placement, b.autoscale]);
  }
  return e.samePolicy;
}
