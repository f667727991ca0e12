// Rolling updates through decide(): batches in ordinal order, health-gated,
// pinned versions, revert, halt, and the failed spec not retried until the
// file changes. Pure: the "health" input stands for what the driver saw.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AcceptedJob } from '../../../src/model/cluster';
import { versionOf } from '../../../src/model/cluster';
import { podTemplateHash } from '../../../src/model/hash';
import { DEFAULT_UPDATE, type DesiredJob, type JobSpec, type UpdatePolicy } from '../../../src/model/job';
import { decide, type ClusterView, type Decision } from '../../../src/plan';
import { judge, rolloutProgress, type InstanceHealth } from '../../../src/plan/rollout';
import { problemTypeOf } from '../../../src/problems';
import { Gi, NOW, accepted, applyDecision, checkCluster, container, desired, input, node, view, type PodShape } from '../schedule/fixtures';

function job(n: number, shape: PodShape, update: Partial<UpdatePolicy> = {}): DesiredJob {
  const spec: JobSpec = { name: 'web', numInstances: n, containers: [container(shape)], update: { ...DEFAULT_UPDATE, minHealthyMs: 1000, ...update } };
  return { spec, specHash: podTemplateHash(spec), file: 'jobs/web.yaml' };
}

const healthy: InstanceHealth = { waitedMs: 5000, healthyMs: 5000, state: 'healthy', restarts: 0 };
const starting: InstanceHealth = { waitedMs: 500, state: 'starting', restarts: 0 };

/** One round: decide with `health` for the named instances, apply, return both. */
function round(cluster: ClusterView, wanted: DesiredJob, health: Record<string, InstanceHealth> = {}, commit = 'c1'): { d: Decision; cluster: ClusterView } {
  const d = decide({ ...input([wanted], cluster), commit, health: new Map(Object.entries(health)) });
  return { d, cluster: applyDecision(cluster, d) };
}

function web(c: ClusterView): AcceptedJob {
  const j = c.jobs.get('web');
  assert.ok(j, 'web is accepted');
  return j;
}

/** Image each ordinal runs. */
function images(c: ClusterView): string[] {
  const j = web(c);
  return j.instances.map((p) => versionOf(j, p).spec.containers[0]!.image);
}

function started(n: number, shape: PodShape = { memory: 1 * Gi, image: 'web:1' }, update: Partial<UpdatePolicy> = {}): ClusterView {
  const nodes = [node('a', { memory: 16 * Gi }), node('b', { memory: 16 * Gi })];
  return round(view(nodes), job(n, shape, update), {}, 'c0').cluster;
}

describe('rolling update', () => {
  test('one batch of maxParallel at a time, in ordinal order, each waiting for minHealthy', () => {
    let c = started(3);
    const nodesBefore = web(c).instances.map((p) => p.node);
    const v2 = job(3, { memory: 1 * Gi, image: 'web:2' });
    const first = round(c, v2);
    assert.equal(first.d.outcomes[0]?.strategy, 'rolling', 'ozy plan says how the update will go');
    c = first.cluster;
    assert.deepEqual(images(c), ['web:2', 'web:1', 'web:1'], 'only web-0 is replaced first');
    assert.deepEqual(web(c).rollout?.batch, [0]);
    assert.deepEqual(web(c).instances.map((p) => p.node), nodesBefore, 'replaced in place: same nodes');
    assert.equal(web(c).commit, 'c1');

    // Not yet healthy long enough: nothing to write.
    const wait = round(c, v2, { 'web-0': { ...healthy, healthyMs: 500 } });
    assert.equal(wait.d.putJobs.length, 0);
    const early = round(c, v2, { 'web-0': starting });
    assert.equal(early.d.putJobs.length, 0);

    ({ cluster: c } = round(c, v2, { 'web-0': healthy }));
    assert.deepEqual(images(c), ['web:2', 'web:2', 'web:1']);
    assert.deepEqual(web(c).rollout?.batch, [1]);
    assert.deepEqual(rolloutProgress(web(c)), { done: 1, total: 3 });
    assert.equal(round(c, v2).d.outcomes[0]?.strategy, 'rolling 1/3, 1 at a time');

    ({ cluster: c } = round(c, v2, { 'web-1': healthy }));
    ({ cluster: c } = round(c, v2, { 'web-2': healthy }));
    assert.deepEqual(images(c), ['web:2', 'web:2', 'web:2']);
    assert.equal(web(c).rollout, undefined, 'finished');
    assert.equal(web(c).versions, undefined, 'old versions dropped');
    assert.ok(web(c).instances.every((p) => p.spec === undefined));
    assert.equal(round(c, v2).d.putJobs.length, 0, 'a fixed point');
  });

  test('maxParallel 2 replaces two at a time', () => {
    let c = started(5, { memory: 1 * Gi, image: 'web:1' });
    const v2 = job(5, { memory: 1 * Gi, image: 'web:2' }, { maxParallel: 2 });
    ({ cluster: c } = round(c, v2));
    assert.deepEqual(web(c).rollout?.batch, [0, 1]);
    ({ cluster: c } = round(c, v2, { 'web-0': healthy }));
    assert.deepEqual(web(c).rollout?.batch, [1, 2], 'a slot frees as soon as one instance is done');
    assert.deepEqual(images(c), ['web:2', 'web:2', 'web:2', 'web:1', 'web:1']);
  });

  test('an instance that no longer fits its node moves to one where the new spec fits', () => {
    const nodes = [node('a', { memory: 4 * Gi }), node('c', { memory: 4 * Gi })];
    const other = accepted(desired('other', 1, { memory: 1.5 * Gi }), ['a']);
    const before = { ...accepted(job(1, { memory: 2 * Gi, image: 'web:1' }), ['a']), specHash: job(1, { memory: 2 * Gi, image: 'web:1' }).specHash };
    let c = view(nodes, [other, before]);
    const v2 = job(1, { memory: 3 * Gi, image: 'web:2' });
    c = { ...c, jobs: new Map(c.jobs) };
    const r = decide({ ...input([desired('other', 1, { memory: 1.5 * Gi }), v2], c), health: new Map() });
    const after = r.putJobs.find((j) => j.spec.name === 'web');
    assert.equal(after?.instances[0]?.node, 'c');
    assert.deepEqual(after?.rollout?.batch, [0]);
  });

  test('scale during an update: new ordinals take the new spec, the highest go first', () => {
    let c = started(3);
    ({ cluster: c } = round(c, job(3, { memory: 1 * Gi, image: 'web:2' })));
    ({ cluster: c } = round(c, job(5, { memory: 1 * Gi, image: 'web:2' })));
    assert.deepEqual(images(c), ['web:2', 'web:1', 'web:1', 'web:2', 'web:2']);
    ({ cluster: c } = round(c, job(2, { memory: 1 * Gi, image: 'web:2' })));
    assert.deepEqual(images(c), ['web:2', 'web:1']);
  });

  test('a lost instance comes back as the version it ran', () => {
    let c = started(3);
    ({ cluster: c } = round(c, job(3, { memory: 1 * Gi, image: 'web:2' })));
    const lost = web(c).instances[2]!.node as string;
    c = { ...c, nodes: c.nodes.filter((n) => n.name !== lost) };
    ({ cluster: c } = round(c, job(3, { memory: 1 * Gi, image: 'web:2' })));
    assert.notEqual(web(c).instances[2]!.node, lost);
    assert.equal(images(c)[2], 'web:1');
  });

  test('a change of policy alone restarts nothing', () => {
    const c = started(3);
    const r = round(c, job(3, { memory: 1 * Gi, image: 'web:1' }, { maxParallel: 3 }));
    assert.equal(r.d.outcomes[0]?.strategy, 'in place');
    const after = web(r.cluster);
    assert.equal(after.spec.update?.maxParallel, 3);
    assert.equal(after.rollout, undefined);
    assert.deepEqual(after.instances, web(c).instances);
    assert.equal(after.specHash, web(c).specHash);
  });

  test('recreate switches every instance at once', () => {
    let c = started(3, { memory: 1 * Gi, image: 'web:1' }, { strategy: 'recreate' });
    const r = round(c, job(3, { memory: 1 * Gi, image: 'web:2' }, { strategy: 'recreate' }));
    assert.equal(r.d.outcomes[0]?.strategy, 'recreate');
    c = r.cluster;
    assert.deepEqual(images(c), ['web:2', 'web:2', 'web:2']);
    assert.equal(web(c).rollout, undefined);
  });
});

describe('failed update', () => {
  test('autoRevert: the previous spec goes back on every instance, the failed one first; the report names instance, reason, commit', () => {
    let c = started(3);
    const v2 = job(3, { memory: 1 * Gi, image: 'web:2' });
    ({ cluster: c } = round(c, v2));
    ({ cluster: c } = round(c, v2, { 'web-0': healthy }));
    assert.deepEqual(images(c), ['web:2', 'web:2', 'web:1']);
    const failing = round(c, v2, { 'web-1': { waitedMs: 400_000, state: 'unhealthy', restarts: 1, message: 'health check: connection refused' } }, 'c2');
    c = failing.cluster;
    const j = web(c);
    assert.equal(j.rollout?.kind, 'revert');
    assert.deepEqual(j.rollout?.batch, [1], 'the failed instance is reverted first');
    assert.deepEqual(images(c), ['web:2', 'web:1', 'web:1']);
    assert.equal(j.specHash, job(3, { memory: 1 * Gi, image: 'web:1' }).specHash, 'the target is the old spec again');
    assert.equal(j.commit, 'c0');
    const report = failing.d.putRejections.find((r) => r.key === 'web');
    assert.ok(report);
    assert.equal(problemTypeOf(report.problem), 'update-failed');
    assert.equal(report.problem.commit, 'c1', 'the commit that brought the failed spec');
    assert.equal(report.problem['instance'], 'web-1');
    assert.match(String(report.problem['reason']), /not healthy within 5m.*connection refused/);
    assert.equal(report.problem['reverted'], true);

    assert.equal(j.spec.numInstances, 3);
    // The revert finishes, health-gated like any rollout.
    ({ cluster: c } = round(c, v2, { 'web-1': healthy }, 'c2'));
    ({ cluster: c } = round(c, v2, { 'web-0': healthy }, 'c2'));
    assert.deepEqual(images(c), ['web:1', 'web:1', 'web:1']);
    assert.equal(web(c).rollout, undefined);
    assert.ok(web(c).failedUpdate);

    // The file still asks for web:2: not tried again, the report stays.
    const again = round(c, v2, {}, 'c3');
    assert.equal(again.d.putJobs.length, 0);
    assert.deepEqual(again.d.deleteRejections, []);
    assert.ok(again.cluster.rejections.has('web'));
    // A scale in the same file applies, to the old spec.
    const scaled = round(c, job(4, { memory: 1 * Gi, image: 'web:2' }), {}, 'c3');
    assert.deepEqual(images(scaled.cluster), ['web:1', 'web:1', 'web:1', 'web:1']);

    // The file changes: a new update starts and the report goes.
    const fixed = round(c, job(3, { memory: 1 * Gi, image: 'web:3' }), {}, 'c4');
    assert.deepEqual(images(fixed.cluster), ['web:3', 'web:1', 'web:1']);
    assert.deepEqual(fixed.d.deleteRejections, ['web']);
    assert.equal(web(fixed.cluster).failedUpdate, undefined);
  });

  test('a revert to a bigger spec accounts the bigger spec: nothing is placed on the room it needs', () => {
    // One node of 4 GiB: web (3 × 1 GiB) updated to 3 × 512 MiB fails on web-0 and reverts.
    const nodes = [node('a', { memory: 4 * Gi })];
    let c = round(view(nodes), job(3, { memory: 1 * Gi, image: 'web:1' }), {}, 'c0').cluster;
    const v2 = job(3, { memory: 0.5 * Gi, image: 'web:2' });
    ({ cluster: c } = round(c, v2));
    const failing = { 'web-0': { waitedMs: 400_000, state: 'unhealthy' as const, restarts: 0 } };
    // In the same round a 1 GiB job arrives: it fits only if the revert's room were forgotten.
    const d = decide({ ...input([v2, desired('other', 1, { memory: 1.5 * Gi })], c), commit: 'c2', health: new Map(Object.entries(failing)) });
    const after = applyDecision(c, d);
    assert.equal(web(after).rollout?.kind, 'revert');
    assert.deepEqual(checkCluster(nodes, after.jobs.values()).overCapacity, [], 'the node stays within its capacity');
    assert.equal(d.outcomes.find((o) => o.job === 'other')?.bucket, 'rejected');
  });

  test('a crash-looping new instance fails the update at once', () => {
    let c = started(2);
    const v2 = job(2, { memory: 1 * Gi, image: 'web:2' });
    ({ cluster: c } = round(c, v2));
    const r = round(c, v2, { 'web-0': { waitedMs: 3000, state: 'starting', restarts: 3 } });
    assert.equal(web(r.cluster).rollout?.kind, 'revert');
    assert.match(String(r.d.putRejections[0]?.problem['reason']), /crash-looping: 3 restarts/);
  });

  test('without autoRevert the update halts where it is and says so', () => {
    let c = started(3, { memory: 1 * Gi, image: 'web:1' }, { autoRevert: false });
    const v2 = job(3, { memory: 1 * Gi, image: 'web:2' }, { autoRevert: false });
    ({ cluster: c } = round(c, v2));
    const r = round(c, v2, { 'web-0': { waitedMs: 400_000, state: 'unhealthy', restarts: 0 } });
    c = r.cluster;
    assert.equal(web(c).rollout?.halted, true);
    assert.deepEqual(images(c), ['web:2', 'web:1', 'web:1']);
    assert.equal(r.d.putRejections[0]?.problem['reverted'], false);
    assert.match(r.d.putRejections[0]!.problem.detail, /stopped where it was/);
    // Nothing moves any more, whatever the health says.
    assert.equal(round(c, v2, { 'web-0': healthy }).d.putJobs.length, 0);
  });

  test('a new driver never fails an instance early: unknown health waits', () => {
    const policy = { ...DEFAULT_UPDATE, minHealthyMs: 1000, healthyDeadlineMs: 60_000 };
    assert.deepEqual(judge(undefined, policy), { kind: 'waiting' });
    assert.deepEqual(judge({ waitedMs: 59_999, restarts: 0 }, policy), { kind: 'waiting' });
    assert.equal(judge({ waitedMs: 60_000, restarts: 0 }, policy).kind, 'failed');
    assert.deepEqual(judge({ waitedMs: 60_000, healthyMs: 10, state: 'healthy', restarts: 0 }, policy), { kind: 'waiting' });
    assert.deepEqual(judge({ waitedMs: 1, healthyMs: 1000, state: 'healthy', restarts: 0 }, policy), { kind: 'ready' });
  });
});

void NOW;
