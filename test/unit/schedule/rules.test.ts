// Placement rules as checkers: labels, one per node, home zone; and the
// explanations they give when a job does not fit.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClusterState,
  explainPlacement,
  instanceDemand,
  makeRequest,
  placeAll,
  placeBatch,
  placementProblem,
  reasonsFor,
  DEFAULT_CHECKERS,
  selectHome,
  type PlacementRules,
} from '../../../src/schedule';
import type { NodeInfo } from '../../../src/model/cluster';
import { Gi, node, spec } from './fixtures';

function labelled(name: string, labels: Record<string, string>, zone?: string): NodeInfo {
  return { ...node(name, {}, zone), labels };
}

function request(state: ClusterState, rules: PlacementRules, memory = 1 * Gi) {
  return { ...makeRequest(state, 'web', instanceDemand(spec('web', 1, { memory }))), rules };
}

describe('node labels', () => {
  test('only matching nodes are chosen, the others say which label is missing', () => {
    const state = new ClusterState([labelled('n1', { disk: 'hdd' }), labelled('n2', { disk: 'ssd', gpu: 'yes' }), labelled('n3', {})]);
    const req = request(state, { labels: [['disk', 'ssd']] });
    assert.deepEqual(placeAll(state, req, 3)?.map((id) => state.names[id]), ['n2', 'n2', 'n2']);
    assert.equal(reasonsFor(DEFAULT_CHECKERS, state, state.idOf('n3')!, req), 'missing label disk=ssd');
    assert.equal(reasonsFor(DEFAULT_CHECKERS, state, state.idOf('n1')!, req), 'missing label disk=ssd');
  });
  test('no matching node: a no-eligible-nodes problem naming the label, every node with its reason', () => {
    const state = new ClusterState([labelled('n1', {}), labelled('n2', {})]);
    const req = request(state, { labels: [['disk', 'ssd']] });
    assert.equal(placeAll(state, req, 1), null);
    const exp = explainPlacement(state, req, 1);
    const { type, problem } = placementProblem(exp, { job: 'web', scope: 'all', perInstance: '1G memory' });
    assert.equal(type, 'no-eligible-nodes');
    assert.match(problem.detail ?? '', /No live node carries the label disk=ssd/);
    assert.deepEqual(exp.nodeReasons, { n1: 'missing label disk=ssd', n2: 'missing label disk=ssd' });
  });
});

describe('spread: nodes', () => {
  test('no two instances on one node although best fit would stack them', () => {
    const state = new ClusterState([node('n1', { memory: 64 * Gi }), node('n2', { memory: 8 * Gi }), node('n3', { memory: 8 * Gi })]);
    const req = request(state, { onePerNode: true });
    const nodes = placeAll(state, req, 3)!.map((id) => state.names[id]);
    assert.deepEqual([...nodes].sort(), ['n1', 'n2', 'n3']);
  });
  test('4 instances on 3 nodes: whole job refused, spread-conflict, each node names what it runs', () => {
    const state = new ClusterState([node('n1', {}), node('n2', {}), node('n3', {})]);
    const names = new Map([['n1', 'web-0'], ['n2', 'web-1'], ['n3', 'web-2']]);
    const req = request(state, { onePerNode: true, occupant: (n) => names.get(n) });
    assert.equal(placeAll(state, req, 4), null);
    assert.equal(state.jobInstancesOn('web', 0), 0, 'rolled back');
    const [got] = placeBatch(state, [{ req, count: 4, mode: 'whole' }]);
    assert.equal(got, null);
    const exp = explainPlacement(state, req, 4);
    const { type, problem } = placementProblem(exp, { job: 'web', scope: 'all', perInstance: '1G memory' });
    assert.equal(type, 'spread-conflict');
    assert.match(problem.detail ?? '', /only 3 live nodes run none of its instances, for 4 instances/);
    assert.match(exp.nodeReasons.n2 ?? '', /room for 1 instance, then already runs web-1/);
    // Once they run: the reason names the instance there.
    placeAll(state, req, 3);
    assert.equal(reasonsFor(DEFAULT_CHECKERS, state, state.idOf('n2')!, req), 'already runs web-1');
  });
});

describe('home zones', () => {
  const nodes = [node('a1', {}, 'a'), node('a2', {}, 'a'), node('b1', {}, 'b'), node('c1', { memory: 1 * Gi }, 'c')];
  test('an instance goes to its home zone when a node there fits', () => {
    const state = new ClusterState(nodes);
    const req = request(state, {});
    const got = placeAll(state, req, 4, undefined, ['a', 'b', 'c', 'a'])!.map((id) => state.nodes[id]!.zone);
    assert.deepEqual(got, ['a', 'b', 'c', 'a']);
  });
  test('away when the home zone has no room or no live node, home first otherwise', () => {
    const state = new ClusterState(nodes);
    const req = request(state, {}, 2 * Gi);
    assert.equal(state.nodes[selectHome(state, req, 'c')]!.zone !== 'c', true, 'c1 is too small');
    assert.equal(state.nodes[selectHome(state, req, 'd')]!.zone !== undefined, true, 'zone d has no node');
    assert.equal(state.nodes[selectHome(state, req, 'b')]!.zone, 'b');
  });
  test('in a batch, each instance of a request gets its own home', () => {
    const state = new ClusterState(nodes);
    const req = request(state, {});
    const [got] = placeBatch(state, [{ req, count: 3, mode: 'whole', homes: ['c', 'b', 'a'] }]);
    assert.deepEqual(got!.map((id) => state.nodes[id]!.zone), ['c', 'b', 'a']);
  });
  test('the zone checker names the node\'s zone', () => {
    const state = new ClusterState(nodes);
    const req = request(state, { zone: 'b' });
    assert.equal(reasonsFor(DEFAULT_CHECKERS, state, state.idOf('a1')!, req), 'in zone a, not b');
  });
});
