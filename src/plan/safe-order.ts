// The order of a scheduling round's writes, so that a round applied as
// several etcd transactions is safe at every revision in between
// (DESIGN.md "Scale"; invariant 1). Pure.
//
// Every transaction is visible to every watcher and stays if the committing
// agent dies before the next one, so ANY prefix of the writes must leave
// every node within capacity. We guarantee more, without knowing the
// capacities: after any prefix, each node's load (memory, disk, CPU, host
// ports) is at most the larger of its load before the round and after it.
// Both of those are within capacity (the start by assumption, the end by
// decide()), so every prefix is too.
//
// The order:
//   1. job deletes, then puts whose load rises on no node: they only free;
//   2. the other puts, each as soon as it fits under the bound given what
//      was already written (a job moving onto a node waits for the jobs
//      leaving that node);
//   3. when none fits (a cycle: A moves onto B's node while B moves onto
//      A's), one waiting job gets a "leave" write: its old version with
//      every instance whose node or demand changes set to pending. A leave
//      takes no more than the old version nor the final one on any node, so
//      it only frees. Back to 2;
//   4. the final versions of the jobs that left: the load is then at most
//      the final one everywhere, so each fits;
//   5. rejection deletes and puts (they take no capacity).
// A round cut short after a leave leaves the old spec with some instances
// pending: the next round's decide() places them again and applies the new
// spec (an update re-places every instance, a scale or a reschedule places
// the pending ones), so it completes the round.
import type { AcceptedJob, Rejection } from '../model/cluster';
import { placementDemand, type Demand } from '../schedule';
import { NodeLoad, footprintOf, neverRises, type Footprint } from './node-load';

/** The writes of one round, as decide() returns them (and ClusterStore.commitSchedule takes them). */
export interface RoundWrites {
  putJobs: readonly AcceptedJob[];
  deleteJobs: readonly string[];
  putRejections: readonly Rejection[];
  deleteRejections: readonly string[];
}

export type RoundWrite =
  | { kind: 'delete-job'; name: string }
  | { kind: 'put-job'; job: AcceptedJob }
  /** An intermediate version of a job the round also puts later: see leaveVersion(). */
  | { kind: 'leave-job'; job: AcceptedJob }
  | { kind: 'delete-rejection'; key: string }
  | { kind: 'put-rejection'; rejection: Rejection };

export interface SafeOrder {
  /** Every prefix is safe; a job's key appears twice (leave, then put) when it needed a leave. */
  writes: RoundWrite[];
  /** How many leave writes were needed (0 when reordering alone sufficed). */
  leaves: number;
}

interface Waiting {
  job: AcceptedJob;
  /** What the job takes as written so far. */
  current: Footprint;
  final: Footprint;
}

/**
 * Orders `round` so that applying any prefix keeps every node within
 * max(load before, load after). `read` holds the accepted jobs the round
 * was decided on (only those the round writes are looked up); `now` stamps
 * the instances a leave write makes pending. Names are assumed distinct
 * (the store refuses a round that writes one key twice).
 */
export function safeWriteOrder(read: ReadonlyMap<string, AcceptedJob>, round: RoundWrites, now: string): SafeOrder {
  // Only jobs the round writes change: the others add the same to every state.
  const before = new NodeLoad();
  const after = new NodeLoad();
  for (const name of round.deleteJobs) before.add(footprintOf(read.get(name)));
  for (const job of round.putJobs) {
    before.add(footprintOf(read.get(job.spec.name)));
    after.add(footprintOf(job));
  }
  const bound = NodeLoad.max(before, after);
  const load = before; // from here on: the load as written so far
  const writes: RoundWrite[] = [];

  // 1. Writes that only free.
  for (const name of round.deleteJobs) {
    writes.push({ kind: 'delete-job', name });
    load.add(footprintOf(read.get(name)), -1);
  }
  let waiting: Waiting[] = [];
  for (const job of round.putJobs) {
    const w: Waiting = { job, current: footprintOf(read.get(job.spec.name)), final: footprintOf(job) };
    if (neverRises(w.current, w.final)) {
      writes.push({ kind: 'put-job', job });
      load.replace(w.current, w.final);
    } else {
      waiting.push(w);
    }
  }

  // 2–3. The rest as soon as they fit; a leave write when nothing does. A
  // job that left waits for the end: its final version only adds load (a
  // leave takes no more than it anywhere), so holding it back never blocks
  // another job, and keeps its two writes apart (they cannot share a
  // transaction: etcd refuses a key twice in one).
  let leaves = 0;
  const left: Waiting[] = [];
  while (waiting.length > 0) {
    const stuck: Waiting[] = [];
    for (const w of waiting) {
      if (load.fitsAfterReplace(w.current, w.final, bound)) {
        writes.push({ kind: 'put-job', job: w.job });
        load.replace(w.current, w.final);
      } else {
        stuck.push(w);
      }
    }
    if (stuck.length < waiting.length) {
      waiting = stuck; // progress frees room for others: sweep again
      continue;
    }
    // A cycle: the first stuck job leaves, which only frees.
    const next = stuck[0]!;
    waiting = stuck.slice(1);
    left.push(next);
    const old = read.get(next.job.spec.name);
    if (!old) continue; // a create: nothing to leave
    const leave = leaveVersion(old, next.job, now);
    if (leave.instances.every((p, i) => p === old.instances[i])) continue; // nothing moves off a node
    writes.push({ kind: 'leave-job', job: leave });
    const fp = footprintOf(leave);
    load.replace(next.current, fp);
    next.current = fp;
    leaves++;
  }
  // 4. Everything left is at most its final version now, so each final fits.
  for (const w of left) writes.push({ kind: 'put-job', job: w.job });

  // 5. Reports take no capacity.
  for (const key of round.deleteRejections) writes.push({ kind: 'delete-rejection', key });
  for (const rejection of round.putRejections) writes.push({ kind: 'put-rejection', rejection });
  return { writes, leaves };
}

/**
 * The "leave" version of a job moving from `before` to `after`: `before`'s
 * spec, count and placements, except that every instance that will not stay
 * on its node with at least its current demand is pending. It takes no more
 * than `before` (a subset of its instances) nor `after` (each kept instance
 * is matched by the same ordinal on the same node with a demand at least as
 * large) on any node.
 */
export function leaveVersion(before: AcceptedJob, after: AcceptedJob, now: string): AcceptedJob {
  const instances = before.instances.map((p, i) => {
    const next = after.instances[i];
    const stays = next !== undefined && next.node === p.node && covers(placementDemand(after, next), placementDemand(before, p));
    return p.node === null || stays ? p : { ...p, node: null, since: now };
  });
  return { ...before, instances };
}

/** `big` needs at least what `small` needs, in every dimension and host port. */
function covers(big: Demand, small: Demand): boolean {
  return big.amounts.every((a, i) => a >= small.amounts[i]) && small.hostPorts.every((p) => big.hostPorts.includes(p));
}
