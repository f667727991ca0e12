// How a pod stops (pure): in which waves, and with how much time each.
//
// A container stops only once nothing still running depends on it (reverse
// depends_on order); containers without an order between them stop together,
// so a pod of N containers that all ignore SIGTERM takes one grace, not N.
// The namespace owner always stops last: the others live in its network
// namespace. The whole pod shares one deadline (start + grace): each engine
// stop gets what is left of it, so the grace is the pod's, not each
// container's (DESIGN.md, "Rolling updates and migration").
import { stopGraceOf, type JobSpec } from '../model/job';
import { compareEngineTimes } from './facts';
import { LABEL } from './translate';

/** How to stop one pod. */
export interface PodStopOptions {
  /**
   * SIGTERM → SIGKILL for the whole pod, from the moment the stop begins.
   * Default: the PodRuntime's stopTimeoutSec.
   */
  graceMs?: number;
  /**
   * Each container's depends_on, by container name. Without it (an orphan
   * found by label, whose spec is unknown) every container but the owner
   * stops in one wave, then the owner.
   */
  dependsOn?: ReadonlyMap<string, readonly string[]>;
}

/** The stop options of an instance of `spec`: its grace and its containers' depends_on. */
export function stopOptionsOf(spec: Pick<JobSpec, 'stopGraceMs'> & { containers: ReadonlyArray<{ name: string; dependsOn: readonly string[] }> }): Required<PodStopOptions> {
  return {
    graceMs: stopGraceOf(spec),
    dependsOn: dependsOnOf(spec.containers),
  };
}

/** Each container's depends_on, by name. */
export function dependsOnOf(containers: ReadonlyArray<{ name: string; dependsOn: readonly string[] }>): Map<string, readonly string[]> {
  return new Map(containers.map((c) => [c.name, c.dependsOn]));
}

type Labelled = { labels: Record<string, string>; createdAt?: string };

/**
 * The containers to stop, in waves: each wave holds the containers that no
 * container of a later wave depends on; the owner (label ozy.owner=true) is
 * alone in the last wave. Within a wave, newest first (a stable order for
 * logs and tests; the wave's stops run in parallel). Dependencies on
 * containers not in the list (already stopped, or gone) do not hold anything
 * back. A dependency cycle (the schema refuses one) cannot deadlock: what is
 * left then stops in one wave.
 */
export function stopWaves<T extends Labelled>(containers: readonly T[], dependsOn?: ReadonlyMap<string, readonly string[]>): T[][] {
  const isOwner = (c: T): boolean => c.labels[LABEL.owner] === 'true';
  const newestFirst = (a: T, b: T): number => compareEngineTimes(b.createdAt, a.createdAt);
  const owners = containers.filter(isOwner).sort(newestFirst);
  let left = containers.filter((c) => !isOwner(c)).sort(newestFirst);
  const waves: T[][] = [];
  if (dependsOn === undefined) {
    if (left.length > 0) waves.push(left);
  } else {
    const nameOf = (c: T): string | undefined => c.labels[LABEL.container];
    while (left.length > 0) {
      // Names something still running depends on: those wait for a later wave.
      const needed = new Set(left.flatMap((c) => dependsOn.get(nameOf(c) ?? '') ?? []));
      const wave = left.filter((c) => !needed.has(nameOf(c) ?? ''));
      if (wave.length === 0) {
        waves.push(left);
        break;
      }
      waves.push(wave);
      left = left.filter((c) => !wave.includes(c));
    }
  }
  if (owners.length > 0) waves.push(owners);
  return waves;
}

/**
 * The engine's stop timeout (whole seconds, the Docker API's `t`) for a stop
 * that begins at `nowMs` under the pod's `deadlineMs`: what is left, rounded
 * up so a container never gets less than the pod's grace allows; 0 (SIGKILL
 * at once) when the deadline has passed.
 */
export function stopTimeoutSec(deadlineMs: number, nowMs: number): number {
  return Math.max(0, Math.ceil((deadlineMs - nowMs) / 1000));
}
