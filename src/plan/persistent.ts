// Persistent volumes follow their instance's identity (DESIGN.md,
// "Persistent volumes"). Pure rules decide() applies with a few calls:
//
//   - where a volume lives is recorded on the accepted job (`volumes`:
//     ordinal → node), written with the placements in one transaction;
//   - an instance whose volume lives on N is only ever placed on N; while N
//     is dead it waits, pending with the reason `volume on node N`, unless
//     the job says `onNodeLoss: recreate` (then the record goes and it is
//     placed like any pending instance, with a new, empty volume);
//   - a volume of an ordinal scaled away keeps its space on N (a retained
//     demand, disk only) until that ordinal comes back or the job goes;
//   - nothing moves an instance with a volume to another node (rolling
//     updates and rebalancing wait or leave it).
import { placementName, type AcceptedJob, type InstancePlacement } from '../model/cluster';
import type { JobSpec } from '../model/job';
import { DISK, firstRetainedOrdinal, fitsOn, makeRequest, reasonsFor, retainedDemand, type ClusterState, type Demand, type SchedulerPolicy } from '../schedule';

/** The working copy of one job decide() keeps (the fields these rules read and write). */
export interface PinnedJob {
  accepted: AcceptedJob;
  /** Indexed by ordinal; mutated in place. */
  instances: InstancePlacement[];
  /** What one instance on the target spec takes. */
  demand: Demand;
}

export function hasPersistentVolumes(spec: JobSpec): boolean {
  return spec.containers.some((c) => c.volumes.some((v) => v.type === 'persistent'));
}

/** The node instance `ordinal`'s persistent volumes live on, if they exist. */
export function volumeNode(job: Pick<AcceptedJob, 'volumes'>, ordinal: number): string | undefined {
  return job.volumes?.[String(ordinal)];
}

/** Why a pending instance waits for its volume's node, or undefined when it does not. */
export function volumeWait(job: Pick<AcceptedJob, 'volumes'>, ordinal: number): string | undefined {
  const node = volumeNode(job, ordinal);
  return node === undefined ? undefined : `volume on node ${node}`;
}

/**
 * The scheduler's job key for retained volumes: not a job name (those are
 * DNS labels), so spreading and per-job counts never see them.
 */
function retainedKey(job: string): string {
  return `${job}#volumes`;
}

/** Ordinals at or above `from` whose volumes exist on a live node: node id by ordinal. */
function retainedFrom(state: ClusterState, job: AcceptedJob, from: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [key, node] of Object.entries(job.volumes ?? {})) {
    const ordinal = Number(key); // NaN for a daemon instance's key: never scaled away
    const id = state.idOf(node);
    if (ordinal >= from && id !== undefined) out.push([ordinal, id]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** Account the space of every volume whose instance is scaled away (ordinals in [from, to); from defaults to the job's count, 0 for a daemon). */
export function retainVolumes(state: ClusterState, job: AcceptedJob, from = firstRetainedOrdinal(job), to = Number.POSITIVE_INFINITY): void {
  const d = retainedDemand(job.spec);
  if (d.amounts[DISK] === 0) return;
  for (const [ordinal, id] of retainedFrom(state, job, from)) if (ordinal < to) state.add(id, retainedKey(job.spec.name), d);
}

/** Undo retainVolumes (the job is deleted, or those ordinals come back). */
export function releaseVolumes(state: ClusterState, job: AcceptedJob, from = firstRetainedOrdinal(job), to = Number.POSITIVE_INFINITY): void {
  const d = retainedDemand(job.spec);
  if (d.amounts[DISK] === 0) return;
  for (const [ordinal, id] of retainedFrom(state, job, from)) if (ordinal < to) state.remove(id, retainedKey(job.spec.name), d);
}

export interface PinResult {
  /** Placements or records changed. */
  changed: boolean;
  /** instance → why it waits (its volume's node is dead or has no room). */
  waiting: Record<string, string>;
}

/**
 * Before failover: instances without a live node whose volumes exist go
 * back to that node when it is live and has room; wait (pending, with the
 * reason) when it is dead or full; with `onNodeLoss: recreate` and a dead
 * node, lose the record and are left to failover, to start empty elsewhere.
 */
export function placePinned(state: ClusterState, policy: SchedulerPolicy, job: PinnedJob, now: string): PinResult {
  const out: PinResult = { changed: false, waiting: {} };
  const name = job.accepted.spec.name;
  const req = makeRequest(state, name, job.demand);
  job.instances.forEach((p, ordinal) => {
    if (p.node !== null && state.idOf(p.node) !== undefined) return;
    const node = volumeNode(job.accepted, ordinal);
    if (node === undefined) return;
    const id = state.idOf(node);
    if (id === undefined && job.accepted.spec.onNodeLoss === 'recreate') {
      const volumes = { ...job.accepted.volumes };
      delete volumes[String(ordinal)];
      job.accepted = { ...job.accepted, volumes };
      if (p.node !== null) job.instances[ordinal] = { ...p, node: null, since: now };
      out.changed = true;
      return;
    }
    if (id !== undefined && fitsOn(state, id, req, policy)) {
      state.add(id, name, job.demand);
      job.instances[ordinal] = { ...p, node, since: now };
      out.changed = true;
      return;
    }
    if (p.node !== null) {
      job.instances[ordinal] = { ...p, node: null, since: now };
      out.changed = true;
    }
    const why = id === undefined ? 'node is not live' : reasonsFor(policy.checkers, state, id, req);
    out.waiting[`${name}-${ordinal}`] = `volume on node ${node} (${why})`;
  });
  return out;
}

/** Failover must leave this pending instance alone: it waits for its volume's node. */
export function waitsForVolume(job: Pick<AcceptedJob, 'volumes'>, p: InstancePlacement, ordinal: number): boolean {
  return p.node === null && volumeNode(job, ordinal) !== undefined;
}

/**
 * Scale-up: the new ordinals whose volumes were kept (a prefix of the new
 * range: scale-down removes the highest) go back to their node. Their
 * retained space becomes the instance's. Returns how many were appended,
 * or the reason the scale-up cannot be accepted (that node has no room);
 * undo with unpinScaleUp.
 */
export function pinScaleUp(state: ClusterState, policy: SchedulerPolicy, job: PinnedJob, want: number, now: string): number | { blocked: string } {
  const name = job.accepted.spec.name;
  const req = makeRequest(state, name, job.demand);
  const start = job.instances.length;
  let ordinal = start;
  for (; ordinal < want; ordinal++) {
    const node = volumeNode(job.accepted, ordinal);
    if (node === undefined) break;
    const id = state.idOf(node);
    if (id === undefined) {
      if (job.accepted.spec.onNodeLoss === 'recreate') break; // placed anew; the record moves with it
      job.instances.push({ node: null, since: now }); // waits for its node, like a lost instance
      continue;
    }
    releaseVolumes(state, job.accepted, ordinal, ordinal + 1);
    if (!fitsOn(state, id, req, policy)) {
      retainVolumes(state, job.accepted, ordinal, ordinal + 1);
      unpinScaleUp(state, job, start);
      return { blocked: `${name}-${ordinal}'s volume is on node ${node}: ${reasonsFor(policy.checkers, state, id, req)}` };
    }
    state.add(id, name, job.demand);
    job.instances.push({ node, since: now });
  }
  return ordinal - start;
}

/** Undo pinScaleUp: the ordinals it appended (from `start` on) are scaled away again, their space retained. */
export function unpinScaleUp(state: ClusterState, job: PinnedJob, start: number): void {
  const name = job.accepted.spec.name;
  const end = job.instances.length;
  for (const p of job.instances.slice(start)) {
    const id = p.node === null ? undefined : state.idOf(p.node);
    if (id !== undefined) state.remove(id, name, job.demand);
  }
  job.instances.length = start;
  retainVolumes(state, job.accepted, start, end);
}

/** The record after this round: every placed instance of a job with persistent volumes has its volumes where it is. */
export function recordVolumes(job: AcceptedJob): AcceptedJob {
  if (!hasPersistentVolumes(job.spec)) return job;
  let volumes: Record<string, string> | undefined;
  job.instances.forEach((p, ordinal) => {
    const key = volumeKey(job.spec.name, p, ordinal);
    if (p.node === null || job.volumes?.[key] === p.node) return;
    volumes ??= { ...job.volumes };
    volumes[key] = p.node;
  });
  return volumes === undefined ? job : { ...job, volumes };
}

/**
 * The record's key for an instance: its ordinal, or a daemon instance's
 * name (`<job>-<node>`, never all digits, so ordinal lookups and the
 * scaled-away accounting pass over it: a daemon instance is never pinned
 * or retained, it only ever runs on its node).
 */
export function volumeKey(job: string, p: InstancePlacement, ordinal: number): string {
  return p.daemon !== undefined ? placementName(job, p, ordinal) : String(ordinal);
}

/** A daemon instance whose volumes are not recorded yet (accepted before daemons had records): the job must be written. */
export function unrecordedVolumes(job: AcceptedJob, instances: readonly InstancePlacement[]): boolean {
  return hasPersistentVolumes(job.spec) && instances.some((p, i) => p.node !== null && job.volumes?.[volumeKey(job.spec.name, p, i)] !== p.node);
}
