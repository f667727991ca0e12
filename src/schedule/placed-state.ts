// The cluster with every accepted instance accounted: where each decision
// starts. Accounting is O(instances) (10,000 at 5,000 jobs, ~9 ms), yet a
// poller's next decision usually sees the same nodes and all but one of the
// same accepted jobs: the schedule cache keeps unchanged jobs as the very
// same objects. So the last accounting is remembered, brought up to date by
// removing and adding the instances of the jobs whose object changed, and
// each decision gets a fork() of it to mutate.
//
// The result is the state a fresh accounting would build, exactly: amounts
// are integers (bytes, millicores), so adding and removing them in any
// order gives the same free amounts, and the best-fit indexes order nodes
// by the unique key (free, id). Inputs that break either assumption
// (a non-integer amount) are accounted from scratch every time.
import type { AcceptedJob, NodeInfo } from '../model/cluster';
import { ClusterState } from './cluster-state';
import { placementDemand, type Demand } from './demand';

/** What placedState() did, for tests and benchmarks. */
export const placedStats = {
  /** Accountings built from scratch. */
  built: 0,
  /** Jobs whose instances were re-accounted on top of the remembered accounting. */
  patched: 0,
};

interface Memo {
  nodes: readonly NodeInfo[];
  /** The accepted job objects the state accounts, by name. */
  jobs: Map<string, AcceptedJob>;
  /** The same in the order the caller's map listed them: the next map usually lists them so again. */
  names: string[];
  order: AcceptedJob[];
  state: ClusterState;
}

/** One slot: the poller decides on one cluster; anything else just rebuilds. */
let memo: Memo | undefined;

/** Beyond this share of changed jobs, patching costs about as much as accounting afresh. */
const PATCH_SHARE = 0.25;

/**
 * A ClusterState of `nodes` (the live ones) with every instance of `jobs`
 * that sits on one of them accounted, each taking what the version it runs
 * needs. The caller owns the result (a fork: nothing it does shows later).
 */
export function placedState(nodes: readonly NodeInfo[], jobs: ReadonlyMap<string, AcceptedJob>): ClusterState {
  if (memo && sameNodes(memo.nodes, nodes) && patch(memo, jobs)) return memo.state.fork();
  const built = build(nodes, jobs);
  // Not remembered unless exact (see the file comment): then every call builds afresh.
  memo = built.exact ? { nodes: nodes.slice(), jobs: new Map(jobs), names: [...jobs.keys()], order: [...jobs.values()], state: built.state } : undefined;
  return built.exact ? built.state.fork() : built.state;
}

/** Forget the remembered accounting (tests). */
export function forgetPlacedState(): void {
  memo = undefined;
}

function build(nodes: readonly NodeInfo[], jobs: ReadonlyMap<string, AcceptedJob>): { state: ClusterState; exact: boolean } {
  placedStats.built++;
  const state = new ClusterState(nodes);
  let exact = nodes.every((n) => Number.isInteger(n.capacity.memory) && Number.isInteger(n.capacity.disk) && Number.isInteger(n.capacity.cpu));
  state.addAll((add) => {
    for (const [name, job] of jobs) {
      for (const p of job.instances) {
        const id = p.node === null ? undefined : state.idOf(p.node);
        if (id === undefined) continue;
        const demand = placementDemand(job, p);
        exact &&= integral(demand);
        add(id, name, demand);
      }
    }
  });
  return { state, exact };
}

/** Bring `m` up to `jobs` in place; false when that is not worth it (or not exact). */
function patch(m: Memo, jobs: ReadonlyMap<string, AcceptedJob>): boolean {
  const changed: string[] = [];
  let same = 0;
  // Walked in step with the last map's order (array reads, not 5,000 hash
  // lookups); a name out of step is looked up. forEach, not for..of: no
  // [name, job] pair allocated per job, every round.
  let i = 0;
  let inStep = true;
  jobs.forEach((job, name) => {
    if (m.order[i] === job && m.names[i] === name) same++;
    else {
      inStep = false;
      if (m.jobs.get(name) === job) same++;
      else changed.push(name);
    }
    i++;
  });
  if (same < m.jobs.size) for (const name of m.jobs.keys()) if (!jobs.has(name)) changed.push(name);
  if (changed.length > Math.max(16, PATCH_SHARE * jobs.size)) return false;
  for (const name of changed) {
    const next = jobs.get(name);
    if (next && !next.instances.every((p) => integral(placementDemand(next, p)))) return false;
  }
  for (const name of changed) {
    const before = m.jobs.get(name);
    const next = jobs.get(name);
    if (before) each(m.state, before, (id, d) => m.state.remove(id, name, d));
    if (next) {
      each(m.state, next, (id, d) => m.state.add(id, name, d));
      m.jobs.set(name, next);
    } else m.jobs.delete(name);
    placedStats.patched++;
  }
  if (!inStep || m.order.length !== jobs.size) {
    m.names = [...jobs.keys()];
    m.order = [...jobs.values()];
  }
  return true;
}

function each(state: ClusterState, job: AcceptedJob, fn: (id: number, demand: Demand) => void): void {
  for (const p of job.instances) {
    const id = p.node === null ? undefined : state.idOf(p.node);
    if (id !== undefined) fn(id, placementDemand(job, p));
  }
}

/** Same live nodes, the same objects in the same order (a node that re-registered is a new object). */
function sameNodes(a: readonly NodeInfo[], b: readonly NodeInfo[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function integral(d: Demand): boolean {
  return Number.isSafeInteger(d.amounts[0]) && Number.isSafeInteger(d.amounts[1]) && Number.isSafeInteger(d.amounts[2]);
}
