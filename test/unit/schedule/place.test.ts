import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClusterState,
  CPU,
  DEFAULT_CHECKERS,
  DISK,
  MEMORY,
  instanceDemand,
  makeRequest,
  placeAll,
  placeAsManyAsFit,
  reasonsFor,
  selectNode,
} from '../../../src/schedule';
import { Gi, Mi, node, spec } from './fixtures';

describe('instanceDemand', () => {
  test('sums containers; local volumes count as disk, shared volumes do not', () => {
    const s = spec('web', 1, { memory: 512 * Mi, cpu: 250, disk: 2 * Gi, sharedDisk: 50 * Gi, hostPorts: [80, 80] });
    s.containers.push({ ...s.containers[0], name: 'side', memory: 256 * Mi, cpu: 100, ports: [{ host: 53, container: 53, protocol: 'udp' }] });
    const d = instanceDemand(s);
    assert.deepEqual(d.amounts, [768 * Mi, 4 * Gi, 350]);
    assert.deepEqual(d.hostPorts, ['53/udp', '80/tcp']);
  });
});

describe('selectNode', () => {
  test('best fit: the feasible node left with the least of the primary resource', () => {
    const state = new ClusterState([node('a', { memory: 8 * Gi }), node('b', { memory: 3 * Gi }), node('c', { memory: 1 * Gi })]);
    const req = makeRequest(state, 'web', instanceDemand(spec('web', 1, { memory: 2 * Gi })));
    assert.equal(req.primary, MEMORY);
    assert.equal(state.names[selectNode(state, req)], 'b');
  });

  test('the primary resource is the one the job takes the largest share of', () => {
    const state = new ClusterState([node('a', { memory: 8 * Gi, cpu: 4000 })]);
    assert.equal(makeRequest(state, 'x', instanceDemand(spec('x', 1, { memory: 1 * Gi, cpu: 3000 }))).primary, CPU);
    assert.equal(makeRequest(state, 'x', instanceDemand(spec('x', 1, { memory: 1 * Gi, disk: 90 * Gi }))).primary, DISK);
  });

  test('skips nodes that fail any checker', () => {
    const state = new ClusterState([node('a', { memory: 3 * Gi, cpu: 100 }), node('b', { memory: 4 * Gi, cpu: 4000 })]);
    const req = makeRequest(state, 'web', instanceDemand(spec('web', 1, { memory: 2 * Gi, cpu: 500 })));
    assert.equal(state.names[selectNode(state, req)], 'b');
  });

  test('spread breaks ties: fewer instances of the same job first, then name', () => {
    const state = new ClusterState([node('a', {}), node('b', {}), node('c', {})]);
    const other = instanceDemand(spec('other', 1, { memory: 1 * Gi }));
    const web = instanceDemand(spec('web', 1, { memory: 1 * Gi }));
    state.add(state.idOf('a') as number, 'web', web);
    state.add(state.idOf('b') as number, 'other', other);
    // a and b now have equal free memory; b holds no web instance.
    const req = makeRequest(state, 'web', web);
    assert.equal(state.names[selectNode(state, req)], 'b');
  });

  test('host ports: one instance per node per port', () => {
    const state = new ClusterState([node('a', {}), node('b', {})]);
    const req = makeRequest(state, 'web', instanceDemand(spec('web', 2, { memory: 1 * Gi, hostPorts: [80] })));
    const placed = placeAll(state, req, 2);
    assert.ok(placed);
    assert.notEqual(placed[0], placed[1]);
    assert.equal(selectNode(state, req), -1);
    assert.equal(reasonsFor(DEFAULT_CHECKERS, state, 0, req), 'host port 80/tcp taken');
  });

  test('named reasons per checker', () => {
    const state = new ClusterState([node('a', { memory: 300 * Mi, cpu: 100, disk: 1 * Gi })]);
    const req = makeRequest(state, 'db', instanceDemand(spec('db', 1, { memory: 512 * Mi, cpu: 2000, disk: 10 * Gi })));
    assert.equal(
      reasonsFor(DEFAULT_CHECKERS, state, 0, req),
      'insufficient memory: needs 512M, 300M free; insufficient cpu: needs 2 CPUs, 0.1 CPU free; insufficient disk: needs 10G, 1G free',
    );
  });
});

describe('placeAll / placeAsManyAsFit', () => {
  test('whole or nothing: a failed placement leaves the state as it was', () => {
    const state = new ClusterState([node('a', { memory: 4 * Gi }), node('b', { memory: 4 * Gi })]);
    const before = [...state.free[MEMORY]];
    const req = makeRequest(state, 'big', instanceDemand(spec('big', 3, { memory: 3 * Gi })));
    assert.equal(placeAll(state, req, 3), null);
    assert.deepEqual([...state.free[MEMORY]], before);
    assert.equal(state.jobInstancesOn('big', 0) + state.jobInstancesOn('big', 1), 0);
  });

  test('as many as fit', () => {
    const state = new ClusterState([node('a', { memory: 4 * Gi }), node('b', { memory: 4 * Gi })]);
    const req = makeRequest(state, 'big', instanceDemand(spec('big', 3, { memory: 3 * Gi })));
    assert.equal(placeAsManyAsFit(state, req, 3).length, 2);
  });

  test('packs: fills the fuller node before opening the empty one', () => {
    const state = new ClusterState([node('a', { memory: 8 * Gi }), node('b', { memory: 8 * Gi })]);
    const req = makeRequest(state, 'web', instanceDemand(spec('web', 4, { memory: 2 * Gi })));
    const placed = placeAll(state, req, 4);
    assert.deepEqual(placed?.map((id) => state.names[id]), ['a', 'a', 'a', 'a']);
  });
});
