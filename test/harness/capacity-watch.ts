// Invariant 1 at every etcd revision, as a watcher sees it: follow the
// jobs prefix from a revision on, apply each revision's events in order to
// a job map, and after each revision compute per-node usage with the
// project's own accounting (allocatedByNode) against the nodes' capacity.
// Events of one revision are applied together before it is checked.
import type { AcceptedJob, NodeInfo } from '../../src/model/cluster';
import { allocatedByNode } from '../../src/schedule';
import type { ClusterStore, StopWatch } from '../../src/store';

export interface CapacityWatch {
  /** "rev N: node: used/capacity ..." for every revision that overfilled a node. */
  readonly violations: string[];
  /** Revisions checked so far. */
  readonly revisions: () => number;
  /** The last revision whose events were seen (checked once a later one arrives, or by flush()). */
  readonly lastRevision: () => number;
  /** Checks the last revision seen (call once the watch has seen the last write; idempotent). */
  flush(): void;
  stop: StopWatch;
}

/** Over-capacity nodes of one state, described. */
export function overCapacity(nodes: readonly NodeInfo[], jobs: Iterable<AcceptedJob>): string[] {
  const used = allocatedByNode(jobs);
  const out: string[] = [];
  for (const n of nodes) {
    const u = used.get(n.name);
    if (u && (u.memory > n.capacity.memory || u.disk > n.capacity.disk || u.cpu > n.capacity.cpu)) {
      out.push(`${n.name}: memory ${u.memory}/${n.capacity.memory}, disk ${u.disk}/${n.capacity.disk}, cpu ${u.cpu}/${n.capacity.cpu}`);
    }
  }
  return out;
}

/**
 * Starts watching `store`'s jobs at `fromRevision` (the job map starts as
 * `initial`, the state just before it). A reset (compacted history) is a
 * violation: revisions were skipped, so the check is incomplete.
 */
export async function watchCapacity(
  store: ClusterStore,
  nodes: readonly NodeInfo[],
  fromRevision: number,
  initial: ReadonlyMap<string, AcceptedJob> = new Map(),
): Promise<CapacityWatch> {
  const jobs = new Map(initial);
  const violations: string[] = [];
  let open = 0; // the revision whose events are being applied
  let done = 0; // the last revision checked
  let checked = 0;
  const check = (): void => {
    if (open === 0 || open === done) return;
    done = open;
    checked++;
    for (const v of overCapacity(nodes, jobs.values())) violations.push(`rev ${open}: ${v}`);
  };
  const stop = await store.watchJobs(fromRevision, {
    onChange: (c) => {
      if (c.revision !== open) {
        check();
        open = c.revision;
      }
      if (c.type === 'put' && c.value) jobs.set(c.name, c.value);
      else jobs.delete(c.name);
    },
    onReset: () => {
      violations.push(`watch reset after rev ${open}: revisions were skipped`);
    },
  });
  return {
    violations,
    revisions: () => checked,
    lastRevision: () => open,
    flush: check,
    stop,
  };
}
