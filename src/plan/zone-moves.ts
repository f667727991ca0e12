// spread: zones after the fact: instances that run away from their home
// zone (it had no room or no live node when they were placed) go home once
// it has room, with the same drain-then-start move as rebalancing (the new
// placement names the node it left in `from`), at most maxParallel at a
// time: the caller makes the moves a rollout of kind 'move', so the next
// ones wait until these are healthy for minHealthy. Pure.
import type { InstancePlacement } from '../model/cluster';
import { updatePolicyOf, type JobSpec } from '../model/job';
import { inZone, nodeReasonLine, reasonsFor, selectNode, type ClusterState, type Demand, type PlacementRequest, type SchedulerPolicy } from '../schedule';
import { homeZone } from './placement-rules';

export interface HomeMoves {
  instances: InstancePlacement[];
  /** Ordinals moved this round, ascending. */
  moved: number[];
}

/**
 * The next instances to bring home, lowest ordinals first, accounted in
 * `state` on their home node; undefined when none can go now. The caller
 * checks that the job is not in a rollout and has no pending instance.
 */
export function goHome(
  state: ClusterState,
  policy: SchedulerPolicy,
  job: { spec: JobSpec; instances: readonly InstancePlacement[]; demand: Demand; req: PlacementRequest; zones: readonly string[] },
  now: string,
): HomeMoves | undefined {
  const { maxParallel } = updatePolicyOf(job.spec);
  const name = job.spec.name;
  const instances = job.instances.slice();
  const moved: number[] = [];
  for (let i = 0; i < instances.length && moved.length < maxParallel; i++) {
    const p = instances[i]!;
    const home = homeZone(job.zones, i);
    const from = p.node === null ? undefined : state.idOf(p.node);
    if (home === undefined || from === undefined || state.nodes[from]!.zone === home) continue;
    // The schedule counts a moving instance on its new node only, as rebalancing does.
    state.remove(from, name, job.demand);
    const target = selectNode(state, inZone(job.req, home), policy);
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

/** Per zone, how many instances run there (nodes without a zone count under ''). */
export function zoneCounts(state: ClusterState, instances: readonly InstancePlacement[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of instances) {
    const id = p.node === null ? undefined : state.idOf(p.node);
    if (id === undefined) continue;
    const z = state.nodes[id]!.zone ?? '';
    out[z] = (out[z] ?? 0) + 1;
  }
  return out;
}

/**
 * Why each instance outside its home zone is there, by instance name:
 * "away from zone b: zone b: no live node", or the home nodes' reasons.
 */
export function awayReasons(state: ClusterState, policy: SchedulerPolicy, req: PlacementRequest, zones: readonly string[], instances: readonly InstancePlacement[]): Record<string, string> {
  const out: Record<string, string> = {};
  instances.forEach((p, i) => {
    const home = homeZone(zones, i);
    const id = p.node === null ? undefined : state.idOf(p.node);
    if (home === undefined || id === undefined || state.nodes[id]!.zone === home) return;
    out[`${req.job}-${i}`] = `away from zone ${home}: ${homeZoneReason(state, policy, req, home)}`;
  });
  return out;
}

/** "zone b: no live node", or "zone b: node b1: insufficient memory: …; node b2: …" (at most 3 nodes named). */
export function homeZoneReason(state: ClusterState, policy: SchedulerPolicy, req: PlacementRequest, home: string): string {
  const nodes: number[] = [];
  for (let id = 0; id < state.size; id++) if (state.nodes[id]!.zone === home) nodes.push(id);
  if (nodes.length === 0) return `zone ${home}: no live node`;
  const said = nodes.slice(0, 3).map((id) => nodeReasonLine(state.names[id]!, reasonsFor(policy.checkers, state, id, req) || 'room now (moving home)'));
  return `zone ${home}: ${said.join('; ')}${nodes.length > 3 ? `; ${nodes.length - 3} more` : ''}`;
}
