// Quiet jobs: most accepted jobs, most rounds. A job is quiet when its
// file asks for what is accepted ('unchanged'), every instance sits on a
// live node, and it has nothing any step of decide() acts on: no rollout,
// no failed update, no persistent volumes, not a daemon, no zone or node
// rules (and the repository does not rebalance). Every step then leaves it
// as it is, so decide() gives it no working copy and writes its outcome
// directly: a one-file change among 5,000 jobs walked each of them through
// a dozen no-op steps (~30 ms per decision).
//
// Whether a job can be quiet depends only on its accepted version, an
// immutable value that stays the very same object from round to round (the
// schedule cache keeps unchanged jobs): remembered per object, with the
// job's outcome. The quiet outcomes come in job order; the few others are
// merged in at the end (mergeQuiet) instead of sorting 5,000 names.
import type { AcceptedJob } from '../model/cluster';
import { spreadOf, type JobSpec } from '../model/job';
import type { ClusterState } from '../schedule';
import type { JobChange } from './classify';
import { isDaemonJob } from './daemons';
import { hasPersistentVolumes } from './persistent';
import { compareNames } from './round';
import type { JobOutcome } from './types';

interface Shape {
  /** Nothing but its placements could ever need a step: quietShape(). */
  quiet: boolean;
  /**
   * The live nodes (ClusterState.names, shared by every fork of one
   * accounting and never changed) that were seen to hold all its instances.
   */
  placedOn?: readonly string[];
  /** Its outcome while quiet: a pure function of the accepted job and its name. */
  outcome?: JobOutcome;
}

const shapes = new WeakMap<AcceptedJob, Shape>();

/**
 * The outcome of `change` when it is quiet (see the file comment), else
 * undefined. `state`: the round's live nodes. The outcome is frozen and
 * shared by every decision that finds the job quiet (nothing writes to an
 * outcome; 5,000 of them fresh per decision were a third of its garbage).
 */
export function quietOutcome(state: ClusterState, change: JobChange): JobOutcome | undefined {
  const a = change.accepted;
  if (change.kind !== 'unchanged' || a === undefined || change.desired === undefined || isDaemonJob(change.desired.spec)) return undefined;
  let shape = shapes.get(a);
  if (shape === undefined) {
    shape = { quiet: quietShape(a) };
    shapes.set(a, shape);
  }
  if (!shape.quiet) return undefined;
  if (shape.placedOn !== state.names) {
    for (const p of a.instances) if (p.node === null || state.idOf(p.node) === undefined) return undefined;
    shape.placedOn = state.names;
  }
  if (shape.outcome?.job !== change.name) shape.outcome = outcomeOf(change.name, a);
  return shape.outcome;
}

function quietShape(a: AcceptedJob): boolean {
  return a.rollout === undefined && a.failedUpdate === undefined && a.volumes === undefined && !isDaemonJob(a.spec) && !hasPersistentVolumes(a.spec) && !hasRules(a.spec);
}

/** spread: zones or nodes, or node labels: bringHome and keepPlacementRules have work to check. */
function hasRules(spec: JobSpec): boolean {
  return spreadOf(spec) !== 'none' || Object.keys(spec.placement?.nodeLabels ?? {}).length > 0;
}

/** What keptOutcome() says of a quiet job: its placements as they are (and an autoscaled job's count). */
function outcomeOf(name: string, a: AcceptedJob): JobOutcome {
  const out: JobOutcome = { job: name, bucket: 'unchanged', placements: Object.freeze(a.instances.map((p) => p.node)) as Array<string | null> };
  const auto = a.spec.autoscale;
  if (auto) out.autoscale = Object.freeze({ count: a.instances.length, min: auto.min, max: auto.max });
  return Object.freeze(out);
}

/** The order of a decision's outcomes: by job, then bucket. */
export function compareOutcomes(a: JobOutcome, b: JobOutcome): number {
  return compareNames(a.job, b.job) || compareNames(a.bucket, b.bucket);
}

/**
 * The quiet outcomes (in job order: classify sorts the changes) with the
 * few others (sorted) put in place by binary search: what sorting them all
 * together gives (a quiet job has no other outcome, so nothing ties), without
 * comparing 5,000 names.
 */
export function mergeQuiet(quiet: readonly JobOutcome[], others: readonly JobOutcome[]): JobOutcome[] {
  const out: JobOutcome[] = [];
  let from = 0;
  for (const o of others) {
    let lo = from;
    let hi = quiet.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareOutcomes(quiet[mid], o) <= 0) lo = mid + 1;
      else hi = mid;
    }
    for (let i = from; i < lo; i++) out.push(quiet[i]);
    out.push(o);
    from = lo;
  }
  for (let i = from; i < quiet.length; i++) out.push(quiet[i]);
  return out;
}
