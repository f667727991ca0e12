// A placement-only change (same pod) applies to the instances already
// running: co-located instances spread over nodes, instances on nodes
// without the new labels leave them, instances outside their new home zone
// go home; each by drain-then-start moves, maxParallel at a time, gated on
// health. A change the cluster cannot satisfy is rejected whole.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AcceptedJob } from '../../../src/model/cluster';
import { podTemplateHash } from '../../../src/model/hash';
import { DEFAULT_UPDATE, type DesiredJob, type JobSpec, type Placement } from '../../../src/model/job';
import { decide, type ClusterView, type Decision } from '../../../src/plan';
import type { InstanceHealth } from '../../../src/plan/rollout';
import { problemTypeOf } from '../../../src/problems';
import { Gi, applyDecision, container, input, node, view } from '../schedule/fixtures';

function job(n: number, placement?: Placement, persistent = false): DesiredJob {
  const c = container({ memory: 1 * Gi });
  if (persistent) c.volumes = [{ type: 'persistent', path: '/data', space: 1 * Gi }];
  const spec: JobSpec = { name: 'web', numInstances: n, containers: [c], update: { ...DEFAULT_UPDATE, minHealthyMs: 1000, maxParallel: 1 } };
  if (placement) spec.placement = placement;
  return { spec, specHash: podTemplateHash(spec), file: 'jobs/web.yaml' };
}

const healthy: InstanceHealth = { waitedMs: 5000, healthyMs: 5000, state: 'healthy', restarts: 0 };
const allHealthy = (n: number): Record<string, InstanceHealth> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`web-${i}`, healthy]));

function round(cluster: ClusterView, wanted: DesiredJob, health: Record<string, InstanceHealth> = {}): { d: Decision; cluster: ClusterView } {
  const d = decide({ ...input([wanted], cluster), health: new Map(Object.entries(health)) });
  return { d, cluster: applyDecision(cluster, d) };
}

function web(c: ClusterView): AcceptedJob {
  const j = c.jobs.get('web');
  assert.ok(j, 'web is accepted');
  return j;
}

const nodesOf = (c: ClusterView) => web(c).instances.map((p) => p.node);

/** Rounds with every instance healthy until the job has no rollout (at most `max`). */
function settle(c: ClusterView, wanted: DesiredJob, max = 10): ClusterView {
  for (let i = 0; i < max && web(c).rollout !== undefined; i++) c = round(c, wanted, allHealthy(wanted.spec.numInstances)).cluster;
  return c;
}

const three = [node('n1', { memory: 16 * Gi }), node('n2', { memory: 16 * Gi }), node('n3', { memory: 16 * Gi })];

describe('a placement-only change applies to running instances', () => {
  test('spread: nodes spreads co-located instances, one move at a time, the lowest ordinal stays', () => {
    let c = round(view(three), job(3)).cluster;
    assert.deepEqual(nodesOf(c), ['n1', 'n1', 'n1'], 'best fit packs them');
    const spread = job(3, { spread: 'nodes' });
    const first = round(c, spread);
    c = first.cluster;
    assert.equal(first.d.outcomes[0]?.bucket, 'update');
    assert.equal(web(c).spec.placement?.spread, 'nodes');
    assert.equal(web(c).rollout?.kind, 'move');
    assert.deepEqual(web(c).rollout?.batch, [1]);
    assert.equal(web(c).instances[0]?.node, 'n1');
    assert.equal(web(c).instances[1]?.from, 'n1', 'drain, then start');
    assert.notEqual(web(c).instances[1]?.node, 'n1');
    assert.equal(web(c).instances[2]?.node, 'n1', 'waits for the first move to be healthy');
    assert.match(first.d.outcomes[0]?.strategy ?? '', /^spreading/);
    // Not healthy yet: nothing more moves.
    c = round(c, spread, { 'web-1': { ...healthy, healthyMs: 100 } }).cluster;
    assert.equal(web(c).instances[2]?.node, 'n1');
    c = settle(c, spread);
    assert.equal(web(c).rollout, undefined);
    assert.equal(new Set(nodesOf(c)).size, 3, `one per node: ${nodesOf(c).join(',')}`);
    assert.equal(web(c).instances[0]?.node, 'n1');
  });

  test('spread: nodes that cannot hold (4 instances, 3 nodes) is rejected whole; the instances stay as they are', () => {
    const c = round(view(three), job(4)).cluster;
    const r = round(c, job(4, { spread: 'nodes' }));
    const out = r.d.outcomes[0]!;
    assert.equal(out.bucket, 'rejected');
    assert.equal(problemTypeOf(out.problem!), 'spread-conflict');
    assert.equal(web(r.cluster).spec.placement, undefined, 'the accepted version stays');
    assert.deepEqual(nodesOf(r.cluster), nodesOf(c));
    assert.equal(web(r.cluster).rollout, undefined);
  });

  test('nodeLabels: instances leave nodes without the label', () => {
    const nodes = [node('n1', { memory: 16 * Gi }), { ...node('n2', { memory: 16 * Gi }), labels: { disk: 'ssd' } }];
    let c = round(view(nodes), job(2)).cluster;
    assert.deepEqual(nodesOf(c), ['n1', 'n1']);
    const ssd = job(2, { nodeLabels: { disk: 'ssd' } });
    c = round(c, ssd).cluster;
    assert.deepEqual(web(c).rollout?.batch, [0], 'lowest ordinal first');
    c = settle(c, ssd);
    assert.deepEqual(nodesOf(c), ['n2', 'n2']);
  });

  test('spread: zones: instances outside their new home zone go home', () => {
    const zoned = ['a', 'b', 'c'].map((z) => node(`${z}1`, { memory: 16 * Gi }, z));
    let c = round(view(zoned), job(3)).cluster;
    assert.equal(new Set(nodesOf(c)).size, 1);
    const spread = job(3, { spread: 'zones' });
    c = round(c, spread).cluster;
    assert.equal(web(c).rollout?.kind, 'move');
    c = settle(c, spread);
    assert.deepEqual(nodesOf(c), ['a1', 'b1', 'c1']);
  });

  test('instances with persistent volumes stay with their data (the rule applies to later placements)', () => {
    let c = round(view(three), job(2, undefined, true)).cluster;
    assert.deepEqual(nodesOf(c), ['n1', 'n1']);
    const r = round(c, job(2, { spread: 'nodes' }, true));
    c = r.cluster;
    assert.equal(r.d.outcomes[0]?.bucket, 'update');
    assert.equal(web(c).rollout, undefined);
    assert.deepEqual(nodesOf(c), ['n1', 'n1']);
  });
});
