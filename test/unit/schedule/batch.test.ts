import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterState, instanceDemand, makeRequest, placeBatch, placementStream, type BatchRequest } from '../../../src/schedule';
import { Gi, node, spec, type PodShape } from './fixtures';

function request(state: ClusterState, name: string, count: number, shape: PodShape, mode: BatchRequest['mode'] = 'whole'): BatchRequest {
  return { req: makeRequest(state, name, instanceDemand(spec(name, count, shape))), count, mode };
}

describe('placeBatch', () => {
  test('a whole request that does not fit is rolled back and does not block the others', () => {
    const state = new ClusterState([node('a', { memory: 4 * Gi }), node('b', { memory: 4 * Gi })]);
    const results = placeBatch(state, [request(state, 'huge', 3, { memory: 3 * Gi }), request(state, 'small', 4, { memory: 1 * Gi })]);
    assert.equal(results[0], null);
    assert.equal(results[1]?.length, 4);
    assert.equal(state.jobInstancesOn('huge', 0) + state.jobInstancesOn('huge', 1), 0);
  });

  test('a request that gave up is retried after rollbacks made room', () => {
    // Stream: p, q, q, p, q. The second p finds no memory (q took some) and p is
    // rolled back; then q's third instance finds no CPU and q is rolled back.
    // Retried alone, p now fits; q still does not.
    const state = new ClusterState([node('a', { memory: 4 * Gi, cpu: 4000 })]);
    const p = request(state, 'p', 2, { memory: 2 * Gi, cpu: 100 });
    const q = request(state, 'q', 3, { memory: 100 * 1024 * 1024, cpu: 2000 });
    assert.deepEqual(placementStream(state, [p, q]), [0, 1, 1, 0, 1]);
    const results = placeBatch(state, [p, q]);
    assert.deepEqual(results[0], [0, 0]);
    assert.equal(results[1], null);
  });

  test('as-many-as-fit requests keep what they got', () => {
    const state = new ClusterState([node('a', { memory: 4 * Gi })]);
    const results = placeBatch(state, [request(state, 'x', 3, { memory: 2 * Gi }, 'as-many-as-fit')]);
    assert.equal(results[0]?.length, 2);
  });

  test('stream: host-port instances first, then classes interleaved, biggest first', () => {
    const state = new ClusterState([node('a', { memory: 8 * Gi, cpu: 8000 })]);
    const reqs = [
      request(state, 'mem-small', 2, { memory: 1 * Gi, cpu: 100 }),
      request(state, 'mem-big', 2, { memory: 2 * Gi, cpu: 100 }),
      request(state, 'cpu', 2, { memory: 100, cpu: 2000 }),
      request(state, 'port', 1, { memory: 100, hostPorts: [80] }),
    ];
    const names = placementStream(state, reqs).map((i) => reqs[i].req.job);
    assert.equal(names[0], 'port');
    assert.deepEqual(names.slice(1), ['mem-big', 'cpu', 'mem-big', 'cpu', 'mem-small', 'mem-small']);
  });
});
