// Daemon jobs in decide(): one instance per live eligible node, named after
// it, placed before any service instance.
import type { AcceptedJob, InstancePlacement } from '../model/cluster';
import type { DesiredJob, JobSpec } from '../model/job';
import { makeProblem } from '../problems';
import { describeDemand, fitsOn, instanceDemand, makeRequest, nodeReasonLine, reasonsFor } from '../schedule';
import { retainVolumes, unrecordedVolumes } from './persistent';
import { beginRollout } from './rollout';
import { acceptedVersion, demandAt, release, type Kept, type Round } from './round';

export function isDaemonJob(spec: JobSpec): boolean {
  return spec.type === 'daemon';
}

/** Live nodes whose labels include every one of `spec.placement.nodeLabels`, by name. */
export function eligibleNodes(round: Round, spec: JobSpec): string[] {
  const want = Object.entries(spec.placement?.nodeLabels ?? {});
  return round.state.names.filter((name) => {
    const labels = round.state.nodes[round.state.idOf(name)!]!.labels;
    return want.every(([k, v]) => labels[k] === v);
  });
}

/**
 * A daemon's instances follow the nodes: one per live eligible node, named
 * after it, added when a node joins (if it fits there), dropped when its
 * node dies or stops matching. A pod change rolls node by node (the rolling
 * mechanism; an instance never moves to another node). Nodes it does not fit
 * on are named in the job's report while it runs on the others.
 */
export function daemon(round: Round, k: Kept): void {
  const { state, now } = round;
  const name = k.change.name;
  const desired = k.change.desired;
  if (desired && !isDaemonJob(desired.spec)) {
    // A daemon becoming a service: its instances go, the service is placed afresh.
    release(round, k, k.instances);
    k.instances = [];
    k.accepted = {
      ...k.accepted,
      spec: { ...k.accepted.spec, type: undefined },
      instances: [],
    };
    delete k.accepted.spec.type;
    delete k.accepted.rollout;
    delete k.accepted.versions;
    return;
  }
  const eligible = eligibleNodes(round, (desired ?? k.accepted).spec);
  const wanted = new Set(eligible);
  // A service turning daemon: its ordinals' persistent volumes stay on their nodes without instances (persistent.ts).
  if (!isDaemonJob(k.accepted.spec)) retainVolumes(state, k.accepted, 0, k.accepted.instances.length);
  // Drop instances whose node died or no longer matches (the batch follows the ordinals that remain).
  const keep: number[] = [];
  k.instances.forEach((p, i) => {
    if (p.node !== null && wanted.has(p.node) && p.daemon === p.node) keep.push(i);
    else if (p.node !== null && state.idOf(p.node) !== undefined) state.remove(state.idOf(p.node)!, name, demandAt(k, p));
  });
  if (keep.length !== k.instances.length) {
    const index = new Map(keep.map((old, i) => [old, i]));
    k.instances = keep.map((i) => k.instances[i]!);
    const r = k.accepted.rollout;
    if (r)
      k.accepted = {
        ...k.accepted,
        rollout: {
          ...r,
          batch: r.batch.flatMap((i) => (index.has(i) ? [index.get(i)!] : [])),
        },
      };
    k.dirty = true;
    if (k.bucket === 'unchanged') k.bucket = 'reschedule';
  }
  // A new pod: the instances that run keep their version, pinned; advanceRollout() rolls them.
  if (desired && k.change.kind === 'update') {
    const before = { ...k.accepted, instances: k.instances };
    const pinned = k.instances.map((p) => ({
      ...p,
      spec: p.spec ?? before.specHash,
    }));
    k.accepted = acceptedVersion(round, desired, k.accepted);
    k.accepted =
      desired.specHash === before.specHash ? { ...k.accepted, instances: k.instances } : beginRollout(before, { ...k.accepted, instances: pinned }, now);
    k.instances = k.accepted.instances.slice();
    k.demand = instanceDemand(desired.spec);
    k.dirty = true;
    k.bucket = 'update';
  }
  // Nodes without their instance: added when it fits.
  const have = new Set(k.instances.map((p) => p.node));
  const req = makeRequest(state, name, k.demand);
  const reasons: Record<string, string> = {};
  for (const node of eligible) {
    if (have.has(node)) continue;
    const id = state.idOf(node)!;
    if (fitsOn(state, id, req, round.policy)) {
      state.add(id, name, k.demand);
      k.instances.push({ node, since: now, daemon: node });
      k.dirty = true;
      if (k.bucket === 'unchanged') k.bucket = 'reschedule';
    } else {
      reasons[node] = reasonsFor(round.policy.checkers, state, id, req);
    }
  }
  // A daemon accepted before its volumes were recorded gets its record written once (decide: recordVolumes).
  if (unrecordedVolumes(k.accepted, k.instances)) k.dirty = true;
  if (k.dirty)
    k.accepted = {
      ...k.accepted,
      spec: { ...k.accepted.spec, numInstances: k.instances.length },
    };
  daemonShortfall(round, name, k.accepted.file, describeDemand(req), eligible.length, reasons, k.accepted.commit);
}

export function createDaemon(round: Round, desired: DesiredJob): AcceptedJob {
  const { state, now } = round;
  const name = desired.spec.name;
  const demand = instanceDemand(desired.spec);
  const req = makeRequest(state, name, demand);
  const eligible = eligibleNodes(round, desired.spec);
  const instances: InstancePlacement[] = [];
  const reasons: Record<string, string> = {};
  for (const node of eligible) {
    const id = state.idOf(node)!;
    if (fitsOn(state, id, req, round.policy)) {
      state.add(id, name, demand);
      instances.push({ node, since: now, daemon: node });
    } else {
      reasons[node] = reasonsFor(round.policy.checkers, state, id, req);
    }
  }
  daemonShortfall(round, name, desired.file, describeDemand(req), eligible.length, reasons, round.input.commit);
  return {
    spec: { ...desired.spec, numInstances: instances.length },
    specHash: desired.specHash,
    commit: round.input.commit,
    file: desired.file,
    acceptedAt: now,
    instances,
  };
}

/** The report of a daemon that does not fit on every eligible node (it still runs on the others). */
export function daemonShortfall(
  round: Round,
  job: string,
  file: string,
  perInstance: string,
  eligible: number,
  reasons: Record<string, string>,
  commit: string,
): void {
  const missing = Object.keys(reasons);
  if (missing.length === 0 || round.wanted.has(job)) return;
  const list = missing.map((n) => nodeReasonLine(n, reasons[n]!)).join('; ');
  const problem = makeProblem('daemon-not-placed', {
    job,
    file,
    commit,
    detail: `daemon job "${job}" runs on ${eligible - missing.length} of ${eligible} eligible nodes; each instance needs ${perInstance} and it does not fit on: ${list}.`,
    extra: { nodes: reasons },
  });
  round.wanted.set(job, { desiredHash: '', problem });
  round.nodeReasons.set(job, reasons);
}
