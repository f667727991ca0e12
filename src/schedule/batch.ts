// Placing many jobs' instances in one go. Placing job after job, each in
// a run of identical instances, packs poorly across resources: a run of
// memory-heavy instances fills nodes' memory and strands their CPU. So a
// batch is placed as one interleaved stream of instances:
//
//   1. instances with host ports first (the most constrained: one per node
//      per port), biggest first;
//   2. then the rest, split into classes by primary resource, each class
//      biggest first ("decreasing"), merged so that every class advances in
//      proportion to its total demand: the stream stays balanced.
//
// Each instance goes to its best-fit node (place.ts). A whole-or-nothing
// job whose instance finds no node is rolled back at once (freeing room
// for the rest of the stream) and retried alone, biggest first, after it.
import type { ClusterState } from './cluster-state';
import type { PlacementRequest } from './checkers';
import { CPU, DISK, MEMORY } from './demand';
import { DEFAULT_POLICY, demandSize, placeAll, placeAsManyAsFit, selectHome, type Homes, type SchedulerPolicy } from './place';

export interface BatchRequest {
  req: PlacementRequest;
  count: number;
  /** 'whole': all `count` instances or none (create, scale-up); 'as-many-as-fit': failover. */
  mode: 'whole' | 'as-many-as-fit';
  /** Home zone of each instance, in order (spread: zones); absent: any zone. */
  homes?: Homes;
}

/**
 * Per request, in request order: the node ids its instances went to (in
 * placement order), or null for a whole request that did not fit. State is
 * updated with every placement returned.
 */
export function placeBatch(state: ClusterState, requests: readonly BatchRequest[], policy: SchedulerPolicy = DEFAULT_POLICY): Array<number[] | null> {
  const placed: number[][] = requests.map(() => []);
  const gaveUp: boolean[] = requests.map(() => false);
  for (const i of placementStream(state, requests)) {
    if (gaveUp[i]) continue;
    const { req, mode, homes } = requests[i];
    // The stream keeps a request's instances in order, so the next one is the placed count.
    const node = selectHome(state, req, homes?.[placed[i].length], policy);
    if (node >= 0) {
      state.add(node, req.job, req.demand);
      placed[i].push(node);
      continue;
    }
    gaveUp[i] = true;
    if (mode === 'whole') {
      for (const n of placed[i]) state.remove(n, req.job, req.demand);
      placed[i] = [];
    }
  }
  // Those that gave up get one more try alone: rollbacks may have made room.
  const result: Array<number[] | null> = placed.slice();
  for (const i of bySizeDescending(state, requests, requests.map((_, i) => i).filter((i) => gaveUp[i]))) {
    const { req, count, mode, homes } = requests[i];
    if (mode === 'whole') result[i] = placeAll(state, req, count, policy, homes);
    else result[i] = [...placed[i], ...placeAsManyAsFit(state, req, count - placed[i].length, policy, homes?.slice(placed[i].length))];
  }
  return result;
}

/** The order instances are placed in: request indexes, one entry per instance. */
export function placementStream(state: ClusterState, requests: readonly BatchRequest[]): number[] {
  const all = requests.map((_, i) => i).filter((i) => requests[i].count > 0);
  const stream: number[] = [];
  for (const i of bySizeDescending(state, requests, all.filter((i) => requests[i].req.demand.hostPorts.length > 0))) {
    for (let k = 0; k < requests[i].count; k++) stream.push(i);
  }
  const rest = all.filter((i) => requests[i].req.demand.hostPorts.length === 0);
  const classes = [MEMORY, CPU, DISK].map((r) => bySizeDescending(state, requests, rest.filter((i) => requests[i].req.primary === r)));
  const sizes = requests.map((r) => demandSize(state, r.req.demand));
  const size = (i: number) => sizes[i];
  const total = classes.map((c) => c.reduce((s, i) => s + size(i) * requests[i].count, 0));
  const done = [0, 0, 0];
  const at = [0, 0, 0]; // position in the class
  const taken = [0, 0, 0]; // instances taken from the request at that position
  for (;;) {
    // The class furthest behind its share of the stream goes next.
    let c = -1;
    for (let k = 0; k < 3; k++) {
      if (at[k] >= classes[k].length) continue;
      if (c < 0 || done[k] / (total[k] || 1) < done[c] / (total[c] || 1)) c = k;
    }
    if (c < 0) break;
    const i = classes[c][at[c]];
    stream.push(i);
    done[c] += size(i);
    if (++taken[c] >= requests[i].count) {
      at[c]++;
      taken[c] = 0;
    }
  }
  return stream;
}

/** Biggest instance first, then job name, then request order: deterministic. */
function bySizeDescending(state: ClusterState, requests: readonly BatchRequest[], indexes: number[]): number[] {
  const size = indexes.map((i) => demandSize(state, requests[i].req.demand));
  const pos = new Map(indexes.map((i, k) => [i, k]));
  return indexes.slice().sort((a, b) => {
    const sa = size[pos.get(a) as number];
    const sb = size[pos.get(b) as number];
    if (sa !== sb) return sa > sb ? -1 : 1;
    const ja = requests[a].req.job;
    const jb = requests[b].req.job;
    if (ja !== jb) return ja < jb ? -1 : 1;
    return a - b;
  });
}
