import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterState, MEMORY, allocatedByNode, explainPlacement, instanceDemand, makeRequest } from '../../../src/schedule';
import { Gi, accepted, desired, node, spec } from './fixtures';

describe('ClusterState', () => {
  test('add and remove account resources, host ports and per-job counts', () => {
    const state = new ClusterState([node('a', { memory: 4 * Gi })]);
    const d = instanceDemand(spec('web', 1, { memory: 1 * Gi, hostPorts: [80] }));
    state.add(0, 'web', d, 2);
    assert.equal(state.free[MEMORY][0], 2 * Gi);
    assert.ok(state.portTaken(0, '80/tcp'));
    assert.equal(state.jobInstancesOn('web', 0), 2);
    state.remove(0, 'web', d);
    assert.ok(state.portTaken(0, '80/tcp'), 'still one instance holding the port');
    state.remove(0, 'web', d);
    assert.ok(!state.portTaken(0, '80/tcp'));
    assert.equal(state.free[MEMORY][0], 4 * Gi);
  });

  test('whatIf shows the node with extra instances and then restores it exactly', () => {
    const state = new ClusterState([node('a', { memory: 4 * Gi }), node('b', { memory: 2 * Gi })]);
    const d = instanceDemand(spec('web', 1, { memory: 1 * Gi, hostPorts: [80] }));
    const order = [...state.indexes[MEMORY].order];
    const seen = state.whatIf(0, 'web', d, 3, () => [state.free[MEMORY][0], state.portTaken(0, '80/tcp'), state.jobInstancesOn('web', 0)]);
    assert.deepEqual(seen, [1 * Gi, true, 3]);
    assert.equal(state.free[MEMORY][0], 4 * Gi);
    assert.ok(!state.portTaken(0, '80/tcp'));
    assert.equal(state.jobInstancesOn('web', 0), 0);
    assert.deepEqual([...state.indexes[MEMORY].order], order);
  });

  test('explaining a failure leaves the state untouched', () => {
    const state = new ClusterState([node('a', { memory: 4 * Gi }), node('b', { memory: 3 * Gi })]);
    const req = makeRequest(state, 'big', instanceDemand(spec('big', 5, { memory: 2 * Gi })));
    const before = [[...state.free[MEMORY]], [...state.indexes[MEMORY].order]];
    explainPlacement(state, req, 5);
    assert.deepEqual([[...state.free[MEMORY]], [...state.indexes[MEMORY].order]], before);
  });

  test('duplicate node names count once', () => {
    assert.equal(new ClusterState([node('a', {}), node('a', {})]).size, 1);
  });
});

test('allocatedByNode sums what accepted jobs place on each node', () => {
  const web = accepted(desired('web', 3, { memory: 1 * Gi, cpu: 500, disk: 2 * Gi, sharedDisk: 9 * Gi }), ['a', 'a', null]);
  const db = accepted(desired('db', 1, { memory: 2 * Gi }), ['b']);
  assert.deepEqual(Object.fromEntries(allocatedByNode([web, db])), {
    a: { memory: 2 * Gi, disk: 4 * Gi, cpu: 1000 },
    b: { memory: 2 * Gi, disk: 0, cpu: 0 },
  });
});

test('addAll leaves the same free amounts, ports, job counts and best-fit order as one add() at a time', () => {
  const nodes = Array.from({ length: 12 }, (_, i) => node(`n${String(i).padStart(2, '0')}`, { memory: 16 * Gi, cpu: 8000, disk: 50 * Gi }));
  const jobs = Array.from({ length: 40 }, (_, i) => ({
    name: `j${i}`,
    demand: instanceDemand(spec(`j${i}`, 1, { memory: (1 + (i % 5)) * Gi, cpu: 100 * (i % 7), disk: (i % 3) * Gi, hostPorts: i % 4 === 0 ? [8000 + i] : [] })),
    on: [i % 12, (i * 5) % 12],
  }));
  const one = new ClusterState(nodes);
  for (const j of jobs) for (const id of j.on) one.add(id, j.name, j.demand);
  const bulk = new ClusterState(nodes);
  bulk.addAll((add) => {
    for (const j of jobs) for (const id of j.on) add(id, j.name, j.demand);
  });
  assert.deepEqual(bulk.free, one.free);
  assert.deepEqual(bulk.indexes.map((x) => [...x.order]), one.indexes.map((x) => [...x.order]));
  for (const j of jobs) for (const id of j.on) assert.equal(bulk.jobInstancesOn(j.name, id), one.jobInstancesOn(j.name, id));
  assert.equal(bulk.portTaken(0, '8000/tcp'), one.portTaken(0, '8000/tcp'));
  assert.equal(bulk.portTaken(0, '8000/tcp'), true);
});

test('instanceDemand is computed once per spec object (decisions repeat it for every accepted job)', () => {
  const s = spec('web', 3, { memory: 1 * Gi, hostPorts: [80] });
  const d = instanceDemand(s);
  assert.equal(instanceDemand(s), d, 'the same spec object gives the very same Demand');
  assert.notEqual(instanceDemand({ ...s }), d, 'a different spec object is computed afresh');
  assert.deepEqual(instanceDemand({ ...s }), d);
});
