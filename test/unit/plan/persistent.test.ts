// Persistent volumes through decide(): an instance whose volume exists on a
// node is only placed there, waits while it is dead (or moves, with
// onNodeLoss: recreate), keeps its space after scale-down, and is not moved
// by a rolling update.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeInfo } from '../../../src/model/cluster';
import { podTemplateHash } from '../../../src/model/hash';
import type { DesiredJob, JobSpec } from '../../../src/model/job';
import { decide, type ClusterView, type Decision } from '../../../src/plan';
import type { InstanceHealth } from '../../../src/plan/rollout';
import { footprintOf } from '../../../src/plan/node-load';
import { problemTypeOf } from '../../../src/problems';
import { DISK, allocatedByNode } from '../../../src/schedule';
import { Gi, applyDecision, container, input, node, view, type PodShape } from '../schedule/fixtures';

function db(n: number, space: number, extra: Partial<JobSpec> = {}, shape: PodShape = { memory: 1 * Gi }): DesiredJob {
  const c = container(shape, 'pg');
  const spec: JobSpec = { name: 'db', numInstances: n, containers: [{ ...c, volumes: [{ type: 'persistent', path: '/var/lib/pg', space }] }], ...extra };
  return { spec, specHash: podTemplateHash(spec), file: 'jobs/db.yaml' };
}

function web(n: number, disk: number): DesiredJob {
  const spec: JobSpec = { name: 'web', numInstances: n, containers: [container({ memory: 1 * Gi, disk })] };
  return { spec, specHash: podTemplateHash(spec), file: 'jobs/web.yaml' };
}

function round(c: ClusterView, wanted: DesiredJob[], health: Record<string, InstanceHealth> = {}): { d: Decision; c: ClusterView } {
  const d = decide({ ...input(wanted, c), health: new Map(Object.entries(health)) });
  return { d, c: applyDecision(c, d) };
}

function nodesOf(c: ClusterView, job = 'db'): Array<string | null> {
  return c.jobs.get(job)?.instances.map((p) => p.node) ?? [];
}

function without(c: ClusterView, dead: string): ClusterView {
  return { ...c, nodes: c.nodes.filter((n) => n.name !== dead) };
}

const healthy: InstanceHealth = { waitedMs: 60_000, healthyMs: 60_000, state: 'healthy', restarts: 0 };

describe('persistent volumes', () => {
  const two: NodeInfo[] = [node('n1', { disk: 50 * Gi }), node('n2', { disk: 50 * Gi })];

  test('the volume\'s node is recorded with the placement; the instance is pinned to it', () => {
    const { c } = round(view(two), [db(2, 10 * Gi)]);
    const job = c.jobs.get('db')!;
    assert.deepEqual(job.volumes, { '0': job.instances[0]!.node, '1': job.instances[1]!.node });
  });

  test('its node dies: pending with the reason `volume on node N`, not placed elsewhere; the node returns: back there', () => {
    let { c } = round(view(two), [db(1, 10 * Gi)]);
    const home = nodesOf(c)[0]!;
    const lost = round(without(c, home), [db(1, 10 * Gi)]);
    assert.deepEqual(nodesOf(lost.c), [null]);
    const outcome = lost.d.outcomes.find((o) => o.job === 'db')!;
    assert.equal(problemTypeOf(outcome.problem!), 'volume-node-unavailable');
    assert.match(outcome.problem!.detail, new RegExp(`db-0 waits: volume on node ${home}`));
    assert.equal(lost.c.jobs.get('db')!.volumes?.['0'], home, 'the record stays');
    assert.deepEqual(nodesOf(round(lost.c, [db(1, 10 * Gi)]).c), [null], 'still waiting next round');
    ({ c } = round({ ...lost.c, nodes: two }, [db(1, 10 * Gi)]));
    assert.deepEqual(nodesOf(c), [home]);
  });

  test('onNodeLoss: recreate: placed on another node, and the record moves with it', () => {
    const { c } = round(view(two), [db(1, 10 * Gi, { onNodeLoss: 'recreate' })]);
    const home = nodesOf(c)[0]!;
    const lost = round(without(c, home), [db(1, 10 * Gi, { onNodeLoss: 'recreate' })]);
    const other = home === 'n1' ? 'n2' : 'n1';
    assert.deepEqual(nodesOf(lost.c), [other]);
    assert.deepEqual(lost.c.jobs.get('db')!.volumes, { '0': other });
  });

  test('scale 1 → 0 → 1: the record and the space stay; the ordinal comes back to the same node', () => {
    let { c } = round(view(two), [db(1, 10 * Gi)]);
    const home = nodesOf(c)[0]!;
    ({ c } = round(c, [db(0, 10 * Gi)]));
    assert.deepEqual(c.jobs.get('db')!.volumes, { '0': home });
    // Make the home node the worse best-fit choice: without the pin, db-0 would land elsewhere.
    const bigger = c.nodes.map((n) => (n.name === home ? node(home, { disk: 500 * Gi }) : n));
    ({ c } = round({ ...c, nodes: bigger }, [db(1, 10 * Gi)]));
    assert.deepEqual(nodesOf(c), [home]);
  });

  test('disk accounting after scale-down: a scale-up that needs the retained space is rejected', () => {
    const one = [node('n1', { disk: 20 * Gi })];
    let { c } = round(view(one), [db(1, 15 * Gi), web(1, 4 * Gi)]);
    assert.deepEqual(nodesOf(c, 'web'), ['n1']);
    ({ c } = round(c, [db(0, 15 * Gi), web(1, 4 * Gi)]));
    const up = round(c, [db(0, 15 * Gi), web(2, 4 * Gi)]);
    assert.equal(up.d.outcomes.find((o) => o.job === 'web')?.bucket, 'rejected', 'db-0\'s 15 GiB are still on n1');
    assert.deepEqual(nodesOf(up.c, 'web'), ['n1']);
    // ozy status and the multi-transaction write order count them too.
    assert.equal(allocatedByNode(up.c.jobs.values()).get('n1')?.disk, 19 * Gi);
    assert.equal(footprintOf(up.c.jobs.get('db')).perNode.get('n1')?.amounts[DISK], 15 * Gi);
  });

  test('a scale-up of the ordinal itself is rejected when its node has no room for it', () => {
    const one = [node('n1', { disk: 20 * Gi, memory: 2 * Gi }), node('n2', { disk: 20 * Gi, memory: 8 * Gi })];
    let { c } = round(view([one[0]!]), [db(1, 5 * Gi)]);
    ({ c } = round(c, [db(0, 5 * Gi)]));
    // Another job takes n1's memory meanwhile; n2 has room, but db-0's data is on n1.
    const hog = web(1, 1 * Gi);
    hog.spec = { ...hog.spec, containers: [container({ memory: 2 * Gi })] };
    hog.specHash = podTemplateHash(hog.spec);
    ({ c } = round({ ...c, nodes: [one[0]!] }, [db(0, 5 * Gi), hog]));
    assert.deepEqual(nodesOf(c, 'web'), ['n1']);
    const up = round({ ...c, nodes: one }, [db(1, 5 * Gi), hog]);
    const outcome = up.d.outcomes.find((o) => o.job === 'db')!;
    assert.equal(outcome.bucket, 'rejected');
    assert.match(outcome.problem!.detail, /db-0's volume is on node n1/);
  });

  test('a rolling update keeps the instance on its volume\'s node: it waits for room there instead of moving', () => {
    const nodes = [node('n1', { memory: 4 * Gi }), node('n2', { memory: 8 * Gi })];
    let { c } = round(view([nodes[0]!]), [db(1, 1 * Gi, {}, { memory: 2 * Gi })]);
    c = { ...c, nodes };
    const bigger = db(1, 1 * Gi, {}, { memory: 6 * Gi });
    for (let i = 0; i < 3; i++) ({ c } = round(c, [bigger], { 'db-0': healthy }));
    assert.deepEqual(nodesOf(c), ['n1'], 'not moved to n2');
    assert.match(c.jobs.get('db')!.rollout?.blocked ?? '', /db-0 cannot take the new spec/);
    // A spec that fits there rolls in place.
    const fits = db(1, 1 * Gi, {}, { memory: 3 * Gi });
    for (let i = 0; i < 3; i++) ({ c } = round(c, [fits], { 'db-0': healthy }));
    assert.deepEqual(nodesOf(c), ['n1']);
    assert.equal(c.jobs.get('db')!.specHash, fits.specHash);
    assert.equal(c.jobs.get('db')!.instances[0]!.spec, undefined, 'on the new spec');
  });

  test('deleting the job releases the records and the retained space', () => {
    const one = [node('n1', { disk: 20 * Gi })];
    let { c } = round(view(one), [db(1, 15 * Gi), web(1, 1 * Gi)]);
    ({ c } = round(c, [db(0, 15 * Gi), web(1, 1 * Gi)]));
    // 6 × 1 GiB fits in n1's 20 GiB only once db-0's retained 15 GiB are freed (deletes free room first).
    const d = round(c, [web(6, 1 * Gi)]);
    assert.deepEqual(d.d.deleteJobs, ['db']);
    assert.equal(d.d.outcomes.find((o) => o.job === 'web')?.bucket, 'scale-up');
  });
});
