// A home-zone walk goes up its zone's own free order (ClusterState keeps one
// per zone and resource in step with the cluster-wide ones). It must choose
// exactly the node a walk of the whole order that skips other zones' nodes
// would: checked on random adds, removes and forks against that walk,
// written out here as the oracle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterState, DEFAULT_CHECKERS, DEFAULT_TIE_BREAKERS, feasible, inZone, instanceDemand, makeRequest, selectHome, selectNode, type Demand, type PlacementRequest } from '../../../src/schedule';
import { atFloor, compareTies } from '../../../src/schedule/rank';
import { prng } from '../../harness/random';
import { Gi, node, pick, spec } from './fixtures';

/** Best fit over the whole order, nodes outside `zone` refused by the zone checker. */
function oracle(state: ClusterState, req: PlacementRequest, zone: string): number {
  const held = inZone(req, zone);
  const index = state.indexes[req.primary];
  const free = state.free[req.primary];
  let best = -1;
  let key = 0;
  for (let pos = index.firstWithAtLeast(req.demand.amounts[req.primary]); pos < index.order.length; pos++) {
    const n = index.order[pos]!;
    if (best >= 0 && free[n] !== key) break;
    if (!feasible(DEFAULT_CHECKERS, state, n, held)) continue;
    if (best < 0) {
      best = n;
      key = free[n]!;
    } else if (compareTies(DEFAULT_TIE_BREAKERS, state, held, n, best) < 0) best = n;
    if (atFloor(DEFAULT_TIE_BREAKERS, state, held, best)) break;
  }
  return best;
}

test('a home-zone walk over its zone\'s order picks what a walk of every node would', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const rand = prng(seed);
    // Some nodes without a zone; zone d has none live.
    const nodes = Array.from({ length: 60 }, (_, i) => node(`n${String(i).padStart(2, '0')}`, { memory: pick(rand, [8, 16]) * Gi, cpu: pick(rand, [4000, 8000]), disk: 100 * Gi }, pick(rand, ['a', 'b', 'c', undefined])));
    let state = new ClusterState(nodes);
    const requests: PlacementRequest[] = Array.from({ length: 8 }, (_, j) => makeRequest(state, `job${j}`, instanceDemand(spec(`job${j}`, 1, { memory: pick(rand, [0.5, 1, 3]) * Gi, cpu: pick(rand, [100, 1000, 2500]), disk: pick(rand, [0, 10]) * Gi }))));
    const placed: Array<[number, string, Demand]> = [];
    for (let step = 0; step < 800; step++) {
      const roll = rand();
      if (roll < 0.25 && placed.length > 0) {
        const [id, job, demand] = placed.splice(Math.floor(rand() * placed.length), 1)[0]!;
        state.remove(id, job, demand);
        continue;
      }
      if (roll < 0.28) state = state.fork();
      const req = pick(rand, requests);
      const zone = pick(rand, ['a', 'b', 'c', 'd']);
      const chosen = selectNode(state, inZone(req, zone));
      assert.equal(chosen, oracle(state, req, zone), `seed ${seed} step ${step} zone ${zone}`);
      const id = selectHome(state, req, zone);
      assert.equal(id, chosen >= 0 ? chosen : selectNode(state, req), 'selectHome: home when it fits, else anywhere');
      if (id >= 0) {
        state.add(id, req.job, req.demand);
        placed.push([id, req.job, req.demand]);
      }
    }
  }
});
