// Placement rules through decide(): zone by ordinal, away and going home in
// health-gated batches, spread: nodes rejection with reasons, node labels.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AcceptedJob, NodeInfo } from '../../../src/model/cluster';
import { podTemplateHash } from '../../../src/model/hash';
import { DEFAULT_UPDATE, type DesiredJob, type JobSpec, type Placement } from '../../../src/model/job';
import { decide, type ClusterView, type Decision } from '../../../src/plan';
import type { InstanceHealth } from '../../../src/plan/rollout';
import { problemTypeOf } from '../../../src/problems';
import { Gi, applyDecision, container, input, node, view } from '../schedule/fixtures';

function job(n: number, placement: Placement, memory = 1 * Gi, maxParallel = 1): DesiredJob {
  const spec: JobSpec = { name: 'web', numInstances: n, containers: [container({ memory })], placement, update: { ...DEFAULT_UPDATE, minHealthyMs: 1000, maxParallel } };
  return { spec, specHash: podTemplateHash(spec), file: 'jobs/web.yaml' };
}

const healthy: InstanceHealth = { waitedMs: 5000, healthyMs: 5000, state: 'healthy', restarts: 0 };

function round(cluster: ClusterView, wanted: DesiredJob, health: Record<string, InstanceHealth> = {}): { d: Decision; cluster: ClusterView } {
  const d = decide({ ...input([wanted], cluster), health: new Map(Object.entries(health)) });
  return { d, cluster: applyDecision(cluster, d) };
}

function web(c: ClusterView): AcceptedJob {
  const j = c.jobs.get('web');
  assert.ok(j, 'web is accepted');
  return j;
}

function zonesOfInstances(c: ClusterView, nodes: readonly NodeInfo[]): Array<string | undefined> {
  const zone = new Map(nodes.map((n) => [n.name, n.zone]));
  return web(c).instances.map((p) => (p.node === null ? undefined : zone.get(p.node)));
}

/** Two big nodes per zone a, b, c: best fit alone would pack everything onto one node. */
const six = ['a', 'b', 'c'].flatMap((z) => [node(`${z}1`, { memory: 16 * Gi }, z), node(`${z}2`, { memory: 16 * Gi }, z)]);

describe('spread: zones', () => {
  test('instance i is in zone Z[i mod |Z|], Z the known zones sorted', () => {
    const { cluster, d } = round(view(six), job(6, { spread: 'zones' }));
    assert.deepEqual(zonesOfInstances(cluster, six), ['a', 'b', 'c', 'a', 'b', 'c']);
    assert.deepEqual(d.outcomes[0]?.zones, { a: 2, b: 2, c: 2 }, 'ozy plan shows per-zone counts');
  });
  test('placement.zones gives the order', () => {
    const { cluster } = round(view(six), job(4, { spread: 'zones', zones: ['c', 'a'] }));
    assert.deepEqual(zonesOfInstances(cluster, six), ['c', 'a', 'c', 'a']);
  });
  test('scale-down removes the highest ordinals: one per zone remains', () => {
    let c = round(view(six), job(6, { spread: 'zones' })).cluster;
    c = round(c, job(3, { spread: 'zones' })).cluster;
    assert.deepEqual(zonesOfInstances(c, six), ['a', 'b', 'c']);
    c = round(c, job(5, { spread: 'zones' })).cluster;
    assert.deepEqual(zonesOfInstances(c, six), ['a', 'b', 'c', 'a', 'b'], 'scale-up gives new ordinals their homes');
  });
  test('a remembered zone without live nodes keeps its place: its instances are away, the others stay home', () => {
    const live = six.filter((n) => n.zone !== 'b');
    const { cluster, d } = round({ ...view(live), zones: ['a', 'b', 'c'] }, job(3, { spread: 'zones' }));
    const zones = zonesOfInstances(cluster, live);
    assert.equal(zones[0], 'a');
    assert.notEqual(zones[1], 'b');
    assert.equal(zones[2], 'c', 'homes did not reshuffle');
    assert.deepEqual(d.outcomes[0]?.away, { 'web-1': 'away from zone b: zone b: no live node' });
  });
  test('a zone without room: away with the home nodes\' reasons', () => {
    const small = six.map((n) => (n.zone === 'c' ? node(n.name, { memory: 512 * 1024 * 1024 }, 'c') : n));
    const { cluster, d } = round(view(small), job(3, { spread: 'zones' }));
    assert.notEqual(zonesOfInstances(cluster, small)[2], 'c');
    assert.match(d.outcomes[0]?.away?.['web-2'] ?? '', /^away from zone c: zone c: node c1: insufficient memory/);
  });
  test('zone c dies: its instances fail over away; it returns: they go home maxParallel at a time, health-gated', () => {
    let c = round(view(six), job(6, { spread: 'zones' })).cluster;
    const withoutC = six.filter((n) => n.zone !== 'c');
    c = round({ ...c, nodes: withoutC, zones: ['a', 'b', 'c'] }, job(6, { spread: 'zones' })).cluster;
    const away = zonesOfInstances(c, six);
    assert.ok(away[2] !== 'c' && away[5] !== 'c' && away[2] !== undefined && away[5] !== undefined, `failed over away: ${away.join(',')}`);
    assert.equal(web(c).rollout, undefined, 'nothing to move while c is down');

    // Zone c is back: web-2 moves first (drain, then start: `from`), web-5 waits.
    c = { ...c, nodes: six };
    const first = round(c, job(6, { spread: 'zones' }));
    c = first.cluster;
    assert.deepEqual(web(c).rollout?.batch, [2]);
    assert.equal(web(c).rollout?.kind, 'move');
    assert.equal(zonesOfInstances(c, six)[2], 'c');
    assert.ok(web(c).instances[2]?.from !== undefined, 'the new node waits for the old one');
    assert.notEqual(zonesOfInstances(c, six)[5], 'c');
    assert.match(first.d.outcomes[0]?.strategy ?? '', /^going home/);

    // Not healthy yet: web-5 still waits.
    c = round(c, job(6, { spread: 'zones' }), { 'web-2': { ...healthy, healthyMs: 100 } }).cluster;
    assert.deepEqual(web(c).rollout?.batch, [2]);
    // Healthy: web-5 goes home, then the move ends.
    c = round(c, job(6, { spread: 'zones' }), { 'web-2': healthy }).cluster;
    assert.deepEqual(web(c).rollout?.batch, [5]);
    c = round(c, job(6, { spread: 'zones' }), { 'web-5': healthy }).cluster;
    assert.equal(web(c).rollout, undefined);
    assert.deepEqual(zonesOfInstances(c, six), ['a', 'b', 'c', 'a', 'b', 'c']);
  });
  test('maxParallel 2: both away instances go home in one batch', () => {
    let c = round(view(six), job(6, { spread: 'zones' }, 1 * Gi, 2)).cluster;
    c = round({ ...c, nodes: six.filter((n) => n.zone !== 'c'), zones: ['a', 'b', 'c'] }, job(6, { spread: 'zones' }, 1 * Gi, 2)).cluster;
    c = round({ ...c, nodes: six }, job(6, { spread: 'zones' }, 1 * Gi, 2)).cluster;
    assert.deepEqual(web(c).rollout?.batch, [2, 5]);
  });
});

describe('spread: nodes', () => {
  const three = [node('n1', { memory: 16 * Gi }), node('n2', { memory: 16 * Gi }), node('n3', { memory: 16 * Gi })];
  test('create: one instance per node', () => {
    const { cluster } = round(view(three), job(3, { spread: 'nodes' }));
    assert.deepEqual(web(cluster).instances.map((p) => p.node).sort(), ['n1', 'n2', 'n3']);
  });
  test('create of 4 on 3 nodes is rejected whole, with the reason per node', () => {
    const { d, cluster } = round(view(three), job(4, { spread: 'nodes' }));
    assert.equal(cluster.jobs.has('web'), false);
    const out = d.outcomes[0]!;
    assert.equal(out.bucket, 'rejected');
    assert.equal(problemTypeOf(out.problem!), 'spread-conflict');
    assert.match(out.nodeReasons?.n2 ?? '', /room for 1 instance, then already runs an instance of web/);
  });
  test('scale-up past the node count is rejected; the reasons name the instances', () => {
    const c = round(view(three), job(3, { spread: 'nodes' })).cluster;
    const r = round(c, job(4, { spread: 'nodes' }));
    const out = r.d.outcomes[0]!;
    assert.equal(out.bucket, 'rejected');
    const onN2 = web(c).instances.findIndex((p) => p.node === 'n2');
    assert.equal(out.nodeReasons?.n2, `already runs web-${onN2}`);
    assert.equal(web(r.cluster).instances.length, 3);
  });
  test('an update keeps the spread', () => {
    let c = round(view(three), job(3, { spread: 'nodes' })).cluster;
    const v2 = job(3, { spread: 'nodes' }, 2 * Gi);
    for (let i = 0; i < 4; i++) c = round(c, v2, { 'web-0': healthy, 'web-1': healthy, 'web-2': healthy }).cluster;
    assert.equal(new Set(web(c).instances.map((p) => p.node)).size, 3);
  });
});

describe('node labels for services', () => {
  const nodes = [{ ...node('n1', { memory: 16 * Gi }), labels: { disk: 'ssd' } }, node('n2', { memory: 64 * Gi }), { ...node('n3', { memory: 16 * Gi }), labels: { disk: 'hdd' } }];
  test('only matching nodes', () => {
    const { cluster } = round(view(nodes), job(3, { nodeLabels: { disk: 'ssd' } }));
    assert.deepEqual(web(cluster).instances.map((p) => p.node), ['n1', 'n1', 'n1']);
  });
  test('too little room on the matching nodes: rejected, every other node says which label it lacks', () => {
    const { d } = round(view(nodes), job(20, { nodeLabels: { disk: 'ssd' } }));
    const out = d.outcomes[0]!;
    assert.equal(out.bucket, 'rejected');
    assert.equal(out.nodeReasons?.n2, 'missing label disk=ssd');
    assert.equal(out.nodeReasons?.n3, 'missing label disk=ssd');
    assert.match(out.nodeReasons?.n1 ?? '', /room for 16 instances, then insufficient memory/);
  });
  test('failover keeps to matching nodes and leaves the rest pending', () => {
    let c = round(view(nodes), job(2, { nodeLabels: { disk: 'ssd' } })).cluster;
    c = round({ ...c, nodes: nodes.filter((n) => n.name !== 'n1') }, job(2, { nodeLabels: { disk: 'ssd' } })).cluster;
    assert.deepEqual(web(c).instances.map((p) => p.node), [null, null]);
  });
});
