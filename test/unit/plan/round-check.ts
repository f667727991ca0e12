// Checks of an ordered round, with the project's own accounting
// (allocatedByNode) rather than safe-order's: apply the writes one at a
// time and look at every node after each.
import assert from 'node:assert/strict';
import type { AcceptedJob, NodeInfo } from '../../../src/model/cluster';
import type { RoundWrite, RoundWrites } from '../../../src/plan';
import { allocatedByNode, placementDemand } from '../../../src/schedule';

export function applyWrite(jobs: Map<string, AcceptedJob>, w: RoundWrite): void {
  if (w.kind === 'delete-job') jobs.delete(w.name);
  else if (w.kind === 'put-job' || w.kind === 'leave-job') jobs.set(w.job.spec.name, w.job);
}

/** The jobs after every write of the round, as one atomic transaction would leave them. */
export function applyRound(read: ReadonlyMap<string, AcceptedJob>, round: RoundWrites): Map<string, AcceptedJob> {
  const jobs = new Map(read);
  for (const name of round.deleteJobs) jobs.delete(name);
  for (const job of round.putJobs) jobs.set(job.spec.name, job);
  return jobs;
}

/** Nodes (live ones only: dead nodes have no capacity to respect) over capacity, with what they hold. */
export function overCapacity(nodes: readonly NodeInfo[], jobs: Iterable<AcceptedJob>): string[] {
  const out: string[] = [];
  const used = allocatedByNode(jobs);
  for (const n of nodes) {
    const u = used.get(n.name);
    if (!u) continue;
    if (u.memory > n.capacity.memory || u.disk > n.capacity.disk || u.cpu > n.capacity.cpu) {
      out.push(`${n.name}: ${u.memory}/${n.capacity.memory} B, ${u.disk}/${n.capacity.disk} B disk, ${u.cpu}/${n.capacity.cpu} mCPU`);
    }
  }
  return out;
}

/** Host ports claimed twice on one node. */
export function portClashes(jobs: Iterable<AcceptedJob>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const j of jobs) {
    for (const p of j.instances) {
      if (p.node === null) continue;
      // The version this instance runs (a rolling update pins older ones).
      for (const port of placementDemand(j, p).hostPorts) {
        const key = `${p.node}:${port}`;
        if (seen.has(key)) out.push(key);
        seen.add(key);
      }
    }
  }
  return out;
}

/**
 * Applies `writes` one by one from `read` and asserts that after each one no
 * node is over capacity and no host port is taken twice (given that neither
 * was the case before nor is after the whole round); that the end state is
 * the round's; and that a job's key is written at most twice, a leave first.
 */
export function checkEveryPrefix(
  where: string,
  nodes: readonly NodeInfo[],
  read: ReadonlyMap<string, AcceptedJob>,
  round: RoundWrites,
  writes: readonly RoundWrite[],
): void {
  const jobs = new Map(read);
  const seen = new Map<string, RoundWrite['kind']>();
  writes.forEach((w, i) => {
    if (w.kind === 'put-job' || w.kind === 'leave-job') {
      const prev = seen.get(w.job.spec.name);
      assert.ok(prev === undefined || (prev === 'leave-job' && w.kind === 'put-job'), `${where}: ${w.job.spec.name} written as ${prev} then ${w.kind}`);
      seen.set(w.job.spec.name, w.kind);
    }
    applyWrite(jobs, w);
    assert.deepEqual(overCapacity(nodes, jobs.values()), [], `${where}: over capacity after write ${i + 1}/${writes.length} (${w.kind})`);
    assert.deepEqual(portClashes(jobs.values()), [], `${where}: host port twice after write ${i + 1}`);
  });
  assert.deepEqual(jobs, applyRound(read, round), `${where}: the whole order ends where the round does`);
  const rejections = writes.filter((w) => w.kind === 'put-rejection' || w.kind === 'delete-rejection').length;
  assert.equal(rejections, round.putRejections.length + round.deleteRejections.length, `${where}: every report write kept`);
}

/** The writes in the order used before the safe order: deletes, then puts as given (name order). */
export function naiveOrder(round: RoundWrites): RoundWrite[] {
  return [...round.deleteJobs.map((name) => ({ kind: 'delete-job' as const, name })), ...round.putJobs.map((job) => ({ kind: 'put-job' as const, job }))];
}

/** True when some prefix of `writes` puts a node over capacity (for showing the checks can fail). */
export function somePrefixOverCapacity(nodes: readonly NodeInfo[], read: ReadonlyMap<string, AcceptedJob>, writes: readonly RoundWrite[]): boolean {
  const jobs = new Map(read);
  for (const w of writes) {
    applyWrite(jobs, w);
    if (overCapacity(nodes, jobs.values()).length > 0) return true;
  }
  return false;
}
