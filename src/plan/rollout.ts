// Rolling updates, one step at a time. Pure: the accepted job, what the
// driver saw of the instances in the current batch, and a way to give one
// instance the target spec (decide() owns the capacity accounting) → the
// job's next version.
//
// The job's `spec` is the target; an instance still on an older version is
// pinned to it (`InstancePlacement.spec`, the version kept in `versions`).
// A step:
//   1. judges the batch: each new instance must be healthy for minHealthy;
//      one that fails (not healthy within healthyDeadline, crash-looping)
//      fails the update: with autoRevert the version every instance ran
//      before becomes the target again (the same rolling mechanism, the
//      failed instances first); without, the update halts where it is;
//   2. tops the batch up to maxParallel with the lowest pinned ordinals;
//   3. ends the rollout once no instance is pinned and the batch is done.
// A revert never fails: what it restores ran before; an instance that does
// not come back healthy in time is left to its restart policy.
import type { AcceptedJob, FailedUpdate, InstancePlacement, InstanceState, JobVersion, Rollout } from '../model/cluster';
import { placementName } from '../model/cluster';
import { updatePolicyOf, type JobSpec, type UpdatePolicy } from '../model/job';
import { specHash } from '../model/hash';

/**
 * What the driver saw of one instance of a batch, on its own monotonic clock
 * (agent/rollout-observer.ts). A new driver starts its clocks afresh: it
 * waits longer, it never fails an instance early.
 */
export interface InstanceHealth {
  /** How long this instance has been in the batch, as far as the observer knows. */
  waitedMs: number;
  /** How long it has been healthy on the target spec without a break; absent while it is not. */
  healthyMs?: number;
  /** Its node's last published state on the target spec, if any. */
  state?: InstanceState;
  /** Restarts on the target spec. */
  restarts: number;
  message?: string;
}

export type Verdict = { kind: 'ready' } | { kind: 'waiting' } | { kind: 'failed'; reason: string };

/** Restarts on the new spec that count as crash-looping. */
export const CRASH_LOOP_RESTARTS = 3;

export function judge(h: InstanceHealth | undefined, policy: UpdatePolicy): Verdict {
  if (h === undefined) return { kind: 'waiting' };
  if (h.healthyMs !== undefined && h.healthyMs >= policy.minHealthyMs) return { kind: 'ready' };
  const why = h.message ? ` (${h.message})` : '';
  if (h.state === 'failed') return { kind: 'failed', reason: `its pod failed${why}` };
  if (h.restarts >= CRASH_LOOP_RESTARTS) return { kind: 'failed', reason: `it is crash-looping: ${h.restarts} restarts${why}` };
  if (h.healthyMs === undefined && h.waitedMs >= policy.healthyDeadlineMs) {
    return { kind: 'failed', reason: `it was not healthy within ${formatMs(policy.healthyDeadlineMs)}${why}` };
  }
  return { kind: 'waiting' };
}

export interface RolloutContext {
  now: string;
  /** By instance name; only the batch is looked up. */
  health: ReadonlyMap<string, InstanceHealth>;
  /**
   * Give the instance at `ordinal` (placed as `p`, on an older version) the
   * target spec: its new placement, on the same node when the target's demand
   * fits there, else on another node, or pending when it had no node; or the
   * reason nowhere fits (nothing changed then).
   */
  switchToTarget(job: AcceptedJob, ordinal: number, p: InstancePlacement): InstancePlacement | { blocked: string };
}

export interface RolloutStep {
  job: AcceptedJob;
  /** The job differs from the input and must be written. */
  changed: boolean;
  /** Set in the step in which the update failed. */
  failed?: FailedUpdate;
}

/** The hash of a spec with its update policy: a failed update is tried again when either changes. */
export function attemptHash(spec: JobSpec): string {
  return specHash({ ...spec, numInstances: 0, placement: undefined });
}

/** Instance `p` runs the job's target spec. */
export function onTarget(job: AcceptedJob, p: InstancePlacement): boolean {
  return p.spec === undefined || p.spec === job.specHash;
}

/**
 * Starts a rolling update of `job` (already carrying the new spec, hash and
 * commit) from `before`. The caller pinned every instance that keeps running
 * the version it runs (`spec`: a hash of `before`'s spec or versions); the
 * others take the new spec.
 */
export function beginRollout(before: AcceptedJob, job: AcceptedJob, now: string): AcceptedJob {
  const known = (h: string): JobVersion | undefined => (h === before.specHash ? { spec: before.spec, commit: before.commit } : before.versions?.[h]);
  const versions: Record<string, JobVersion> = {};
  const instances = job.instances.map((p) => {
    if (p.spec === undefined || p.spec === job.specHash) return unpinned(p);
    const v = known(p.spec);
    if (!v) return unpinned(p); // cannot happen: every pin names a version the job carried
    versions[p.spec] = v;
    return p;
  });
  // The version a failure goes back to: what every instance ran when the first unfinished update began.
  const from = before.rollout?.kind === 'update' ? before.rollout.from : before.specHash;
  const fromVersion = known(from);
  if (fromVersion) versions[from] = fromVersion;
  const rollout: Rollout = { kind: 'update', commit: job.commit, from, batch: [], startedAt: now };
  const out: AcceptedJob = { ...job, instances, versions, rollout };
  delete out.failedUpdate;
  return out;
}

export function stepRollout(job: AcceptedJob, ctx: RolloutContext, first: readonly number[] = []): RolloutStep {
  const r = job.rollout;
  if (!r || r.halted) return { job, changed: false };
  const policy = updatePolicyOf(job.spec);
  const name = job.spec.name;
  const instances = job.instances.slice();
  let changed = false;

  // 1. The batch: new instances that have not yet been healthy for minHealthy.
  const batch: number[] = [];
  for (const i of r.batch) {
    const p = instances[i];
    if (p === undefined || !onTarget(job, p)) {
      changed = true; // scaled away, or re-pinned
      continue;
    }
    if (p.node === null) {
      batch.push(i); // waits for a node (failover places it)
      continue;
    }
    const verdict = judge(ctx.health.get(placementName(name, p, i)), policy);
    // Only an update fails: a revert or a move brings back what ran before, and moves on.
    if (verdict.kind === 'failed' && r.kind === 'update') return fail(job, i, verdict.reason, ctx, policy);
    if (verdict.kind === 'waiting') batch.push(i);
    else changed = true; // ready (or a revert moving on)
  }

  // 2. Top the batch up: the lowest pinned ordinals (the ones asked for first, first).
  let blocked: string | undefined;
  const pinned = instances.flatMap((p, i) => (onTarget(job, p) ? [] : [i]));
  const order = [...first.filter((i) => pinned.includes(i)), ...pinned.filter((i) => !first.includes(i))];
  for (const i of order) {
    if (batch.length >= policy.maxParallel) break;
    const next = ctx.switchToTarget(job, i, instances[i]!);
    if ('blocked' in next) {
      blocked = next.blocked;
      break;
    }
    instances[i] = next;
    batch.push(i);
    changed = true;
  }

  // 3. Done: every instance on the target and healthy long enough.
  if (batch.length === 0 && instances.every((p) => onTarget(job, p))) {
    const out: AcceptedJob = { ...job, instances: instances.map(unpinned) };
    delete out.rollout;
    delete out.versions;
    return { job: out, changed: true };
  }
  if (blocked !== r.blocked) changed = true;
  if (!changed) return { job, changed: false };
  const rollout: Rollout = { ...r, batch };
  if (blocked === undefined) delete rollout.blocked;
  else rollout.blocked = blocked;
  return { job: { ...job, instances, rollout, versions: liveVersions(job, instances, r.from) }, changed: true };
}

/** The update failed at `ordinal`: revert (autoRevert) or halt. */
function fail(job: AcceptedJob, ordinal: number, reason: string, ctx: RolloutContext, policy: UpdatePolicy): RolloutStep {
  const r = job.rollout as Rollout;
  const back = job.versions?.[r.from];
  const failed: FailedUpdate = {
    specHash: job.specHash,
    attempt: attemptHash(job.spec),
    commit: r.commit,
    instance: placementName(job.spec.name, job.instances[ordinal]!, ordinal),
    reason,
    reverted: policy.autoRevert && back !== undefined,
    at: ctx.now,
  };
  if (!failed.reverted || back === undefined) {
    return { job: { ...job, rollout: { ...r, batch: [], halted: true }, failedUpdate: failed }, changed: true, failed };
  }
  // The previous version is the target again; whatever runs the failed one is pinned to it.
  const versions: Record<string, JobVersion> = { ...job.versions, [job.specHash]: { spec: job.spec, commit: job.commit } };
  const instances = job.instances.map((p) => {
    const runs = p.spec ?? job.specHash;
    return runs === r.from ? unpinned(p) : { ...p, spec: runs };
  });
  delete versions[r.from];
  const reverting: AcceptedJob = {
    ...job,
    // The count is the job's now (a version remembers the count it had then).
    spec: { ...back.spec, numInstances: job.spec.numInstances },
    specHash: r.from,
    commit: back.commit,
    instances,
    versions,
    rollout: { kind: 'revert', commit: back.commit, from: r.from, batch: [], startedAt: ctx.now },
    failedUpdate: failed,
  };
  const step = stepRollout(reverting, ctx, r.batch);
  return { job: step.job, changed: true, failed };
}

/** Versions still pinned by an instance, and the one a failure goes back to. */
function liveVersions(job: AcceptedJob, instances: readonly InstancePlacement[], from: string): Record<string, JobVersion> {
  const out: Record<string, JobVersion> = {};
  for (const p of instances) if (p.spec !== undefined && p.spec !== job.specHash && job.versions?.[p.spec]) out[p.spec] = job.versions[p.spec]!;
  if (from !== job.specHash && job.versions?.[from]) out[from] = job.versions[from]!;
  return out;
}

function unpinned(p: InstancePlacement): InstancePlacement {
  if (p.spec === undefined) return p;
  const { spec: _pin, ...rest } = p;
  return rest;
}

/** How far the rollout is: instances on the target and out of the batch, of all. */
export function rolloutProgress(job: AcceptedJob): { done: number; total: number } {
  const inBatch = new Set(job.rollout?.batch ?? []);
  const done = job.instances.filter((p, i) => onTarget(job, p) && !inBatch.has(i)).length;
  return { done, total: job.instances.length };
}

function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
