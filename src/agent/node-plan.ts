// "What should this node run?" — pure: accepted jobs + the containers found
// on the node → which instances to start, stop, replace or keep.
import type { AcceptedJob } from '../model/cluster';
import { hasVolumesOn, placementName, versionOf } from '../model/cluster';
import type { JobSpec } from '../model/job';

export interface AssignedInstance {
  instance: string;
  job: string;
  ordinal: number;
  spec: JobSpec;
  specHash: string;
  /** The node it moved from: it starts here once that node no longer runs it. */
  from?: string;
}

/** What the node runs now, grouped from container labels. */
export interface RunningInstance {
  instance: string;
  job: string;
  specHash: string;
}

export interface NodePlan {
  start: AssignedInstance[];
  /** Instances with containers here that are no longer assigned here. */
  stop: RunningInstance[];
  /** Assigned here, but running another spec: stop, then start the new one. */
  replace: AssignedInstance[];
  keep: AssignedInstance[];
}

export function assignmentsFor(node: string, jobs: Iterable<AcceptedJob>): AssignedInstance[] {
  const out: AssignedInstance[] = [];
  for (const job of jobs) {
    job.instances.forEach((p, ordinal) => {
      if (p.node !== node) return;
      const { spec, specHash } = versionOf(job, p);
      out.push({ instance: placementName(job.spec.name, p, ordinal), job: job.spec.name, ordinal, spec, specHash, ...(p.from !== undefined ? { from: p.from } : {}) });
    });
  }
  return out.sort((a, b) => a.instance.localeCompare(b.instance));
}

export function planNode(assigned: AssignedInstance[], running: RunningInstance[]): NodePlan {
  const runningBy = new Map(running.map((r) => [r.instance, r]));
  const plan: NodePlan = { start: [], stop: [], replace: [], keep: [] };
  const wanted = new Set<string>();
  for (const a of assigned) {
    wanted.add(a.instance);
    const r = runningBy.get(a.instance);
    if (!r) plan.start.push(a);
    else if (r.specHash !== a.specHash || r.job !== a.job) plan.replace.push(a);
    else plan.keep.push(a);
  }
  for (const r of running) if (!wanted.has(r.instance)) plan.stop.push(r);
  plan.stop.sort((a, b) => a.instance.localeCompare(b.instance));
  return plan;
}

/**
 * What this node runs, as one comparable value: instance, job and spec hash
 * of every assignment. Equal keys mean reconcile has nothing to do (no
 * engine call needed); a change anywhere else in the cluster leaves it equal.
 */
export function assignmentKey(assigned: readonly AssignedInstance[]): string {
  return assigned.map((a) => `${a.instance}\u0000${a.job}\u0000${a.specHash}`).join('\u0001');
}

/**
 * Whether a change of one accepted job (put or delete: `before` / `after`
 * undefined) changes what this node must run. A job with no instance here
 * before or after, or whose instances here keep their spec, does not.
 */
export function jobChangeConcernsNode(node: string, before: AcceptedJob | undefined, after: AcceptedJob | undefined): boolean {
  const here = (j: AcceptedJob | undefined): string => (j === undefined ? '' : assignmentKey(assignmentsFor(node, [j])));
  // A job keeping only persistent volumes here concerns the node when it goes (they are deleted then).
  const volumes = (j: AcceptedJob | undefined): boolean => j !== undefined && hasVolumesOn(j, node);
  return here(before) !== here(after) || volumes(before) !== volumes(after);
}
