import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterState, describeDemand, explainPlacement, instanceDemand, makeRequest, placementProblem } from '../../../src/schedule';
import { problemTypeOf } from '../../../src/problems';
import { Gi, node, spec, type PodShape } from './fixtures';

function problemFor(nodes: ReturnType<typeof node>[], count: number, shape: PodShape, scope: 'all' | 'more' | 'pending' = 'all') {
  const state = new ClusterState(nodes);
  const req = makeRequest(state, 'job', instanceDemand(spec('job', count, shape)));
  const exp = explainPlacement(state, req, count);
  return { exp, ...placementProblem(exp, { job: 'job', commit: 'c1', file: 'jobs/job.yaml', scope, perInstance: describeDemand(req) }) };
}

describe('placement problems', () => {
  test("memory alone: the seed's sentence", () => {
    // 3 × 4G = 12G needed; nodes of 5G take one each: 2 × 4G = 8G can be allocated.
    const { type, problem, exp } = problemFor([node('a', { memory: 5 * Gi }), node('b', { memory: 5 * Gi })], 3, { memory: 4 * Gi });
    assert.equal(type, 'insufficient-memory');
    assert.equal(problemTypeOf(problem), 'insufficient-memory');
    assert.match(problem.detail, /^Job requires 12G of memory but only 8G can be allocated\./);
    assert.equal(exp.fit, 2);
    assert.equal(problem.job, 'job');
    assert.equal(problem.commit, 'c1');
    assert.equal(problem.file, 'jobs/job.yaml');
    assert.deepEqual(problem.nodes, {
      a: 'room for 1 instance, then insufficient memory: needs 4G, 1G free',
      b: 'room for 1 instance, then insufficient memory: needs 4G, 1G free',
    });
  });

  test('CPU alone and disk alone', () => {
    const cpu = problemFor([node('a', { cpu: 2000 })], 3, { cpu: 1000 });
    assert.equal(cpu.type, 'insufficient-cpu');
    assert.match(cpu.problem.detail, /^Job requires 3 CPUs but only 2 CPUs can be allocated\./);
    const disk = problemFor([node('a', { disk: 25 * Gi })], 3, { disk: 10 * Gi });
    assert.equal(disk.type, 'insufficient-disk');
    assert.match(disk.problem.detail, /^Job requires 30G of local disk but only 20G can be allocated\./);
  });

  test('several resources short: insufficient-resources naming each', () => {
    const { type, problem } = problemFor([node('a', { memory: 4 * Gi, cpu: 1000 })], 2, { memory: 3 * Gi, cpu: 1000 });
    assert.equal(type, 'insufficient-resources');
    assert.match(problem.detail, /Job requires 6G of memory but only 3G can be allocated\./);
    assert.match(problem.detail, /Job requires 2 CPUs but only 1 CPU can be allocated\./);
  });

  test('enough in total but not together on one node', () => {
    // a has memory but no CPU, b has CPU but no memory.
    const { type, problem } = problemFor([node('a', { memory: 8 * Gi, cpu: 100 }), node('b', { memory: 1 * Gi, cpu: 8000 })], 1, { memory: 2 * Gi, cpu: 1000 });
    assert.equal(type, 'insufficient-resources');
    assert.match(problem.detail, /not together on the same nodes/);
  });

  test('host port free on too few nodes', () => {
    const { type, problem } = problemFor([node('a', {}), node('b', {})], 3, { memory: 1 * Gi, hostPorts: [80] });
    assert.equal(type, 'host-port-conflict');
    assert.match(problem.detail, /host port 80\/tcp/);
    assert.match(problem.detail, /only 2 live nodes have it free for 3 instances/);
  });

  test('an instance bigger than any node', () => {
    const { type, problem } = problemFor([node('a', { memory: 2 * Gi })], 1, { memory: 4 * Gi });
    assert.equal(type, 'insufficient-memory');
    assert.match(problem.detail, /^Job requires 4G of memory but none can be allocated: no live node has 4G of memory free\./);
  });

  test('no live nodes', () => {
    const { type, problem } = problemFor([], 2, { memory: 1 * Gi });
    assert.equal(type, 'no-nodes');
    assert.match(problem.detail, /no live nodes/);
  });

  test('scale-up wording counts only the new instances', () => {
    const { problem } = problemFor([node('a', { memory: 4 * Gi })], 2, { memory: 3 * Gi }, 'more');
    assert.match(problem.detail, /^Job requires 6G of memory for 2 more instances but only 3G can be allocated\./);
  });

  test('per-node reasons are capped in the problem, complete in the explanation', () => {
    const nodes = Array.from({ length: 30 }, (_, i) => node(`n${String(i).padStart(2, '0')}`, { memory: 1 * Gi }));
    const { problem, exp } = problemFor(nodes, 1, { memory: 2 * Gi });
    assert.equal(Object.keys(problem.nodes as object).length, 20);
    assert.equal(problem.nodesNotShown, 10);
    assert.equal(Object.keys(exp.nodeReasons).length, 30);
  });
});
