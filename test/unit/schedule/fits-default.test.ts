// fitsDefault() is DEFAULT_CHECKERS folded into one function for the
// candidate walk: it must answer exactly as the chain does, on any state and
// request (resources short or negative, ports taken, labels, zones, one per
// node), or placements would disagree with their explanations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterState, DEFAULT_CHECKERS, feasible, fitsDefault, instanceDemand, makeRequest, inZone, type PlacementRequest, type PlacementRules } from '../../../src/schedule';
import type { NodeInfo } from '../../../src/model/cluster';
import { prng } from '../../harness/random';
import { Gi, node, pick, spec } from './fixtures';

test('fitsDefault agrees with the default checker chain on random states and requests', () => {
  const rand = prng(13);
  for (let round = 0; round < 40; round++) {
    const nodes: NodeInfo[] = Array.from({ length: 8 }, (_, i) => ({
      ...node(`n${i}`, { memory: pick(rand, [2, 4, 8]) * Gi, cpu: pick(rand, [1000, 4000]), disk: pick(rand, [10, 100]) * Gi }, pick(rand, ['a', 'b', undefined])),
      labels: (rand() < 0.5 ? { disk: 'ssd' } : {}) as Record<string, string>,
    }));
    const state = new ClusterState(nodes);
    const requests: PlacementRequest[] = [];
    for (let j = 0; j < 6; j++) {
      const shape = { memory: pick(rand, [0, 1, 3]) * Gi, cpu: pick(rand, [0, 500, 1500]), disk: pick(rand, [0, 5, 40]) * Gi, hostPorts: rand() < 0.3 ? [80] : [] };
      const job = `job${j}`;
      const rules: PlacementRules = {};
      if (rand() < 0.4) rules.labels = [['disk', 'ssd']];
      if (rand() < 0.4) rules.onePerNode = true;
      requests.push({ ...makeRequest(state, job, instanceDemand(spec(job, 1, shape))), ...(rand() < 0.7 ? { rules } : {}) });
    }
    // Fill the nodes at random (past capacity too: free goes negative).
    for (let k = 0; k < 20; k++) {
      const req = pick(rand, requests);
      state.add(Math.floor(rand() * nodes.length), req.job, req.demand);
    }
    for (const req of requests) {
      for (const zone of [undefined, 'a', 'b']) {
        const held = zone === undefined ? req : inZone(req, zone);
        for (let id = 0; id < state.size; id++) {
          assert.equal(fitsDefault(state, id, req, zone), feasible(DEFAULT_CHECKERS, state, id, held), `${req.job} on ${state.names[id]} (zone ${zone})`);
        }
      }
    }
  }
});
