// Which rejection keys to write and which to remove. A report commit is
// only worth making when the judgement changed: same desired spec and same
// problem (type, detail, field errors) → no write, and the stored problem
// keeps the commit at which it was first judged that way.
import type { Rejection } from '../model/cluster';
import { canonicalJson } from '../model/hash';
import type { Problem } from '../model/problem';
import { problemTypeOf } from '../problems';

export interface WantedRejection {
  desiredHash: string;
  problem: Problem;
  /** The commit the report names, when not the judged one (a failed update names the commit that brought it). */
  commit?: string;
}

export interface RejectionWrites {
  put: Rejection[];
  remove: string[];
  /** key → the problem now in force (the stored one when unchanged). */
  effective: Map<string, Problem>;
}

export function reconcileRejections(
  wanted: ReadonlyMap<string, WantedRejection>,
  existing: ReadonlyMap<string, Rejection>,
  commit: string,
  at: string,
): RejectionWrites {
  const put: Rejection[] = [];
  const effective = new Map<string, Problem>();
  for (const key of [...wanted.keys()].sort()) {
    const w = wanted.get(key) as WantedRejection;
    const old = existing.get(key);
    if (old && old.desiredHash === w.desiredHash && sameProblem(old.problem, w.problem)) {
      effective.set(key, { ...w.problem, commit: old.problem.commit ?? old.commit });
      continue;
    }
    const named = w.commit ?? commit;
    const problem = { ...w.problem, commit: named };
    put.push({ key, commit: named, desiredHash: w.desiredHash, problem, at });
    effective.set(key, problem);
  }
  const remove = [...existing.keys()].filter((k) => !wanted.has(k)).sort();
  return { put, remove, effective };
}

/** Same judgement: extension members such as per-node reasons do not count (they churn with load). */
export function sameProblem(a: Problem, b: Problem): boolean {
  return (
    problemTypeOf(a) === problemTypeOf(b) &&
    a.detail === b.detail &&
    canonicalJson(a.errors ?? []) === canonicalJson(b.errors ?? [])
  );
}
