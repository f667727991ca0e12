// A job's placement rules hold for what runs, not only for what is placed
// next (DESIGN.md, "Placement, zones and stable identity"). A change of
// `placement` alone leaves the pod as it is, so update() takes it in place
// and every instance stays where it runs; instances that break the new
// `spread: nodes` or `nodeLabels` then move here, with the same
// drain-then-start move as rebalancing and zone homecomings (the new
// placement names the node it left in `from`), at most maxParallel at a
// time: the caller makes the moves a rollout of kind 'move', so the next
// ones wait until these are healthy for minHealthy. `spread: zones` needs
// nothing here: an instance outside its home zone is away and goes home
// (zone-moves.ts). Pure.
import type { InstancePlacement } from '../model/cluster';
import { updatePolicyOf, type JobSpec } from '../model/job';
import { labelChecker, selectHome, type ClusterState, type Demand, type PlacementRequest, type SchedulerPolicy } from '../schedule';
import { homeZone } from './placement-rules';
import type { HomeMoves } from './zone-moves';

/**
 * Ordinals, ascending, that break `req`'s rules where they run: on a node
 * without the job's labels, or (spread: nodes) sharing a node with a lower
 * ordinal of the job, which stays: the lowest ordinals keep their places,
 * as a scale-down keeps them.
 */
export function breakingRules(state: ClusterState, req: PlacementRequest, instances: readonly InstancePlacement[]): number[] {
  const rules = req.rules;
  if (rules === undefined) return [];
  const out: number[] = [];
  const taken = new Set<number>();
  instances.forEach((p, i) => {
    const id = p.node === null ? undefined : state.idOf(p.node);
    if (id === undefined) return;
    if (!labelChecker.fits(state, id, req) || (rules.onePerNode === true && taken.has(id))) out.push(i);
    taken.add(id);
  });
  return out;
}

/**
 * The next instances that break the rules, lowest ordinals first, moved
 * (accounted in `state`) to nodes that keep them, in their home zone when
 * the job spreads over zones; undefined when none can move now (no such
 * node has room: they stay, and move in a later round). The caller checks
 * that the job is not in a rollout and has no pending instance.
 */
export function keepRules(
  state: ClusterState,
  policy: SchedulerPolicy,
  job: { spec: JobSpec; instances: readonly InstancePlacement[]; demand: Demand; req: PlacementRequest; zones: readonly string[] },
  now: string,
): HomeMoves | undefined {
  const { maxParallel } = updatePolicyOf(job.spec);
  const name = job.spec.name;
  const instances = job.instances.slice();
  const moved: number[] = [];
  for (const i of breakingRules(state, job.req, job.instances)) {
    if (moved.length >= maxParallel) break;
    const p = instances[i]!;
    const from = state.idOf(p.node as string)!;
    // The schedule counts a moving instance on its new node only, as rebalancing does.
    state.remove(from, name, job.demand);
    const target = selectHome(state, job.req, homeZone(job.zones, i), policy);
    if (target < 0) {
      state.add(from, name, job.demand);
      continue;
    }
    state.add(target, name, job.demand);
    instances[i] = { node: state.names[target]!, since: now, from: p.node as string };
    moved.push(i);
  }
  return moved.length === 0 ? undefined : { instances, moved };
}
