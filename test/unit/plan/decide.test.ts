import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Rejection } from '../../../src/model/cluster';
import { decide, type Decision } from '../../../src/plan';
import { makeProblem, problemTypeOf } from '../../../src/problems';
import { Gi, NOW, accepted, applyDecision, desired, input, node, view, withUpdate } from '../schedule/fixtures';

const T0 = '2024-01-01T00:00:00.000Z';
const nowIso = NOW.toISOString();

function outcome(d: Decision, job: string) {
  const o = d.outcomes.find((x) => x.job === job);
  assert.ok(o, `no outcome for ${job}`);
  return o;
}

function put(d: Decision, job: string) {
  return d.putJobs.find((j) => j.spec.name === job);
}

describe('decide: buckets', () => {
  test('create places every instance and writes the job with the commit and time', () => {
    const nodes = [node('a', {}), node('b', {})];
    const web = desired('web', 3, { memory: 1 * Gi });
    const d = decide(input([web], view(nodes)));
    const job = put(d, 'web');
    assert.ok(job);
    assert.equal(job.instances.length, 3);
    assert.ok(job.instances.every((p) => p.node !== null && p.since === nowIso));
    assert.equal(job.commit, 'c1');
    assert.equal(job.acceptedAt, nowIso);
    assert.equal(job.specHash, web.specHash);
    assert.equal(outcome(d, 'web').bucket, 'create');
    assert.equal(d.counts.create, 1);
  });

  test('create that does not fit entirely is rejected whole: no job written, a rejection with the problem', () => {
    const nodes = [node('a', { memory: 4 * Gi }), node('b', { memory: 4 * Gi })];
    const d = decide(input([desired('big', 3, { memory: 3 * Gi })], view(nodes)));
    assert.equal(d.putJobs.length, 0);
    assert.equal(outcome(d, 'big').bucket, 'rejected');
    assert.equal(d.putRejections.length, 1);
    const r = d.putRejections[0];
    assert.equal(r.key, 'big');
    assert.equal(r.commit, 'c1');
    assert.equal(r.at, nowIso);
    assert.equal(problemTypeOf(r.problem), 'insufficient-memory');
    assert.match(r.problem.detail, /^Job requires 9G of memory but only 6G can be allocated\./);
    assert.deepEqual(Object.keys(outcome(d, 'big').nodeReasons ?? {}), ['a', 'b']);
  });

  test('unchanged: no write at all', () => {
    const nodes = [node('a', {})];
    const web = desired('web', 2, { memory: 1 * Gi });
    const d = decide(input([web], view(nodes, [accepted(web, ['a', 'a'])])));
    assert.deepEqual(d.putJobs, []);
    assert.deepEqual(d.deleteJobs, []);
    assert.deepEqual(outcome(d, 'web'), { job: 'web', bucket: 'unchanged', placements: ['a', 'a'] });
  });

  test('scale-up keeps existing placements and places the new ordinals', () => {
    const nodes = [node('a', { memory: 2 * Gi }), node('b', { memory: 8 * Gi })];
    const before = accepted(desired('web', 2, { memory: 1 * Gi }), ['a', 'a']);
    const d = decide(input([desired('web', 4, { memory: 1 * Gi })], view(nodes, [before])));
    const job = put(d, 'web');
    assert.ok(job);
    assert.deepEqual(job.instances.slice(0, 2), before.instances, 'existing instances untouched, since kept');
    assert.deepEqual(job.instances.slice(2).map((p) => p.node), ['b', 'b']);
    assert.equal(job.spec.numInstances, 4);
    assert.equal(outcome(d, 'web').bucket, 'scale-up');
  });

  test('scale-up that does not fit is rejected whole: old count stays, no job write, rejection written', () => {
    const nodes = [node('a', { memory: 4 * Gi })];
    const before = accepted(desired('web', 2, { memory: 1 * Gi }), ['a', 'a']);
    const d = decide(input([desired('web', 5, { memory: 1 * Gi })], view(nodes, [before])));
    assert.equal(put(d, 'web'), undefined);
    assert.equal(outcome(d, 'web').bucket, 'rejected');
    assert.deepEqual(outcome(d, 'web').placements, ['a', 'a']);
    assert.match(d.putRejections[0].problem.detail, /^Job requires 3G of memory for 3 more instances but only 2G can be allocated\./);
  });

  test('scale-down drops the highest ordinals and frees their room', () => {
    const nodes = [node('a', { memory: 2 * Gi }), node('b', { memory: 2 * Gi })];
    const before = accepted(desired('web', 4, { memory: 1 * Gi }), ['a', 'b', 'a', 'b']);
    const newcomer = desired('new', 2, { memory: 1 * Gi });
    const d = decide(input([desired('web', 2, { memory: 1 * Gi }), newcomer], view(nodes, [before])));
    assert.deepEqual(put(d, 'web')?.instances, before.instances.slice(0, 2));
    assert.equal(outcome(d, 'web').bucket, 'scale-down');
    // The two freed slots are what lets the new job in (scale-downs run before creates).
    assert.equal(outcome(d, 'new').bucket, 'create');
  });

  test('delete removes a job absent from the desired set', () => {
    const nodes = [node('a', {})];
    const keep = desired('keep', 1, {});
    const d = decide(input([keep], view(nodes, [accepted(keep, ['a']), accepted(desired('gone', 1, {}), ['a'])])));
    assert.deepEqual(d.deleteJobs, ['gone']);
    assert.equal(outcome(d, 'gone').bucket, 'delete');
  });

  test('deleting frees capacity for a create in the same round', () => {
    const nodes = [node('a', { memory: 2 * Gi })];
    const d = decide(
      input([desired('keep', 1, { memory: 1 * Gi }), desired('new', 1, { memory: 1 * Gi })], view(nodes, [accepted(desired('keep', 1, { memory: 1 * Gi }), ['a']), accepted(desired('old', 1, { memory: 1 * Gi }), ['a'])])),
    );
    assert.deepEqual(d.deleteJobs, ['old']);
    assert.equal(outcome(d, 'new').bucket, 'create');
  });
});

describe('decide: updates', () => {
  test('recreate: an instance stays on its node when the new spec fits there, counting its old usage as freed', () => {
    const nodes = [node('a', { memory: 4 * Gi }), node('b', { memory: 4 * Gi })];
    const before = accepted(desired('web', 2, { memory: 2 * Gi }), ['a', 'b']);
    const d = decide(input([withUpdate(desired('web', 2, { memory: 3 * Gi, image: 'web:2' }), { strategy: 'recreate' })], view(nodes, [before])));
    const job = put(d, 'web');
    assert.equal(outcome(d, 'web').bucket, 'update');
    assert.deepEqual(job?.instances, before.instances, 'same nodes, same since');
    assert.equal(job?.spec.containers[0].image, 'web:2');
    assert.equal(job?.commit, 'c1');
  });

  test('instances that no longer fit where they are move', () => {
    const nodes = [node('a', { memory: 4 * Gi }), node('b', { memory: 8 * Gi })];
    const other = accepted(desired('other', 1, { memory: 2 * Gi }), ['a']);
    const before = accepted(desired('web', 1, { memory: 1 * Gi }), ['a']);
    const d = decide(input([desired('other', 1, { memory: 2 * Gi }), desired('web', 1, { memory: 3 * Gi })], view(nodes, [other, before])));
    assert.deepEqual(put(d, 'web')?.instances, [{ node: 'b', since: nowIso, from: 'a' }]);
  });

  test('an update that does not fit is rejected whole and the old version stays running', () => {
    const nodes = [node('a', { memory: 4 * Gi }), node('b', { memory: 4 * Gi })];
    const before = accepted(desired('web', 2, { memory: 2 * Gi }), ['a', 'b']);
    const d = decide(input([desired('web', 2, { memory: 5 * Gi })], view(nodes, [before])));
    assert.equal(put(d, 'web'), undefined);
    assert.equal(outcome(d, 'web').bucket, 'rejected');
    assert.deepEqual(outcome(d, 'web').placements, ['a', 'b']);
    assert.equal(problemTypeOf(d.putRejections[0].problem), 'insufficient-memory');
  });

  test('a rejected update leaves its old usage in place for the jobs after it', () => {
    // If the failed update forgot to restore web's usage, 'new' would be placed on top of it.
    const nodes = [node('a', { memory: 4 * Gi })];
    const before = accepted(desired('web', 1, { memory: 3 * Gi }), ['a']);
    const d = decide(input([desired('web', 1, { memory: 5 * Gi }), desired('new', 1, { memory: 2 * Gi })], view(nodes, [before])));
    assert.equal(outcome(d, 'web').bucket, 'rejected');
    assert.equal(outcome(d, 'new').bucket, 'rejected');
  });

  test('recreate with a new count: kept instances stay, extra ordinals are placed, surplus dropped', () => {
    const nodes = [node('a', { memory: 8 * Gi })];
    const before = accepted(desired('web', 3, { memory: 1 * Gi }), ['a', 'a', 'a']);
    const recreate = (n: number) => withUpdate(desired('web', n, { memory: 1 * Gi, image: 'web:2' }), { strategy: 'recreate' });
    const down = decide(input([recreate(2)], view(nodes, [before])));
    assert.deepEqual(put(down, 'web')?.instances, before.instances.slice(0, 2));
    const up = decide(input([recreate(4)], view(nodes, [before])));
    assert.equal(put(up, 'web')?.instances.length, 4);
    assert.deepEqual(put(up, 'web')?.instances.slice(0, 3), before.instances);
  });
});

describe('decide: failover', () => {
  test('instances on a dead node are re-placed; those on live nodes never move', () => {
    const nodes = [node('a', { memory: 4 * Gi }), node('c', { memory: 4 * Gi })];
    const before = accepted(desired('web', 3, { memory: 1 * Gi }), ['a', 'dead', 'c']);
    const d = decide(input([desired('web', 3, { memory: 1 * Gi })], view(nodes, [before])));
    const job = put(d, 'web');
    assert.equal(outcome(d, 'web').bucket, 'reschedule');
    assert.deepEqual(job?.instances[0], before.instances[0]);
    assert.deepEqual(job?.instances[2], before.instances[2]);
    assert.ok(job?.instances[1].node === 'a' || job?.instances[1].node === 'c');
    assert.equal(job?.instances[1].since, nowIso);
    assert.equal(job?.commit, 'c0', 'a reschedule is not a new accepted version');
  });

  test('as many as fit are brought up; the rest stay pending', () => {
    const nodes = [node('a', { memory: 2 * Gi })];
    const before = accepted(desired('web', 4, { memory: 1 * Gi }), ['dead', 'dead', 'dead', 'dead']);
    const d = decide(input([desired('web', 4, { memory: 1 * Gi })], view(nodes, [before])));
    const job = put(d, 'web');
    assert.deepEqual(job?.instances.map((p) => p.node), ['a', 'a', null, null]);
    assert.equal(d.counts.pending, 2);
    assert.equal(d.putRejections.length, 0, 'partial failover is not a rejection');
    assert.equal(problemTypeOf(outcome(d, 'web').problem ?? makeProblem('no-nodes', { detail: '' })), 'insufficient-memory');
  });

  test('pending instances keep their since; no write while nothing changes', () => {
    const nodes = [node('a', { memory: 1 * Gi })];
    const before = accepted(desired('web', 2, { memory: 1 * Gi }), ['a', null], T0);
    const d = decide(input([desired('web', 2, { memory: 1 * Gi })], view(nodes, [before])));
    assert.deepEqual(d.putJobs, []);
    assert.equal(outcome(d, 'web').bucket, 'unchanged');
    assert.ok(outcome(d, 'web').problem, 'says why one is pending');

    const bigger = [node('a', { memory: 1 * Gi }), node('b', { memory: 1 * Gi })];
    const later = decide(input([desired('web', 2, { memory: 1 * Gi })], view(bigger, [before])));
    assert.deepEqual(put(later, 'web')?.instances, [{ node: 'a', since: T0 }, { node: 'b', since: nowIso }]);
  });

  test('failover runs before creates: existing work gets the room first', () => {
    const nodes = [node('a', { memory: 2 * Gi })];
    const before = accepted(desired('web', 2, { memory: 1 * Gi }), ['dead', 'dead']);
    const d = decide(input([desired('web', 2, { memory: 1 * Gi }), desired('aaa', 2, { memory: 1 * Gi })], view(nodes, [before])));
    assert.deepEqual(put(d, 'web')?.instances.map((p) => p.node), ['a', 'a']);
    assert.equal(outcome(d, 'aaa').bucket, 'rejected');
  });

  test('a rejected scale-up still writes the failover of its existing instances', () => {
    const nodes = [node('a', { memory: 2 * Gi })];
    const before = accepted(desired('web', 1, { memory: 1 * Gi }), ['dead']);
    const d = decide(input([desired('web', 5, { memory: 1 * Gi })], view(nodes, [before])));
    assert.equal(outcome(d, 'web').bucket, 'rejected');
    const job = put(d, 'web');
    assert.equal(job?.spec.numInstances, 1);
    assert.deepEqual(job?.instances.map((p) => p.node), ['a']);
  });
});

describe('decide: host ports', () => {
  test('two instances publishing the same host port never share a node', () => {
    const nodes = [node('a', {}), node('b', {}), node('c', {})];
    const d = decide(input([desired('web', 2, { memory: 1 * Gi, hostPorts: [80] }), desired('api', 1, { memory: 1 * Gi, hostPorts: [80] })], view(nodes)));
    const used = d.putJobs.flatMap((j) => j.instances.map((p) => p.node));
    assert.equal(new Set(used).size, 3);
  });

  test('a port taken on every node rejects the job with host-port-conflict', () => {
    const nodes = [node('a', {})];
    const web = desired('web', 1, { memory: 1 * Gi, hostPorts: [80] });
    const d = decide(input([web, desired('api', 1, { memory: 1 * Gi, hostPorts: [80] })], view(nodes, [accepted(web, ['a'])])));
    assert.equal(outcome(d, 'api').bucket, 'rejected');
    assert.equal(problemTypeOf(d.putRejections[0].problem), 'host-port-conflict');
    assert.equal(outcome(d, 'api').nodeReasons?.a, 'host port 80/tcp taken');
  });

  test('no live nodes: no-nodes', () => {
    const d = decide(input([desired('web', 1, { memory: 1 * Gi })], view([])));
    assert.equal(problemTypeOf(d.putRejections[0].problem), 'no-nodes');
  });
});

describe('decide: rejections', () => {
  const nodes = [node('a', { memory: 2 * Gi })];
  const big = desired('big', 1, { memory: 4 * Gi });

  test('an unchanged judgement writes nothing new and keeps the commit it was first judged at', () => {
    const first = decide(input([big], view(nodes)));
    assert.equal(first.putRejections.length, 1);
    const stored = { ...first.putRejections[0], commit: 'c1', problem: { ...first.putRejections[0].problem, commit: 'c1' } };
    const again = decide(input([big], view(nodes, [], [stored]), { commit: 'c2' }));
    assert.deepEqual(again.putRejections, []);
    assert.deepEqual(again.deleteRejections, []);
    assert.equal(outcome(again, 'big').problem?.commit, 'c1');
  });

  test('a changed desired spec or a changed problem is written again', () => {
    const first = decide(input([big], view(nodes)));
    const stored = first.putRejections[0];
    const bigger = desired('big', 1, { memory: 8 * Gi });
    const changedSpec = decide(input([bigger], view(nodes, [], [stored]), { commit: 'c2' }));
    assert.equal(changedSpec.putRejections.length, 1);
    assert.equal(changedSpec.putRejections[0].commit, 'c2');
    assert.equal(changedSpec.putRejections[0].desiredHash, bigger.specHash);
    // Same spec, but the cluster changed so the detail changed: 3 × 1G on 2G, then on 1G.
    const three = desired('three', 3, { memory: 1 * Gi });
    const was = decide(input([three], view(nodes))).putRejections[0];
    assert.match(was.problem.detail, /only 2G can be allocated/);
    const now = decide(input([three], view([node('a', { memory: 1 * Gi })], [], [was]), { commit: 'c3' }));
    assert.equal(now.putRejections.length, 1);
    assert.match(now.putRejections[0].problem.detail, /only 1G can be allocated/);
  });

  test('the rejection is deleted once the job is accepted, or once it is gone', () => {
    const stored: Rejection = decide(input([big], view(nodes))).putRejections[0];
    const accepted_ = decide(input([big], view([node('a', { memory: 8 * Gi })], [], [stored])));
    assert.deepEqual(accepted_.deleteRejections, ['big']);
    assert.equal(outcome(accepted_, 'big').bucket, 'create');
    const gone = decide(input([], view(nodes, [], [stored])));
    assert.deepEqual(gone.deleteRejections, ['big']);
  });

  test('a reverted scale-up (desired equals accepted again) clears the rejection', () => {
    const web = desired('web', 1, { memory: 1 * Gi });
    const stale: Rejection = { key: 'web', commit: 'c0', desiredHash: 'x', problem: makeProblem('insufficient-memory', { detail: 'd' }), at: T0 };
    const d = decide(input([web], view(nodes, [accepted(web, ['a'])], [stale])));
    assert.deepEqual(d.deleteRejections, ['web']);
  });
});

describe('decide: invalid files', () => {
  const nodes = [node('a', {})];
  const web = desired('web', 1, { memory: 1 * Gi });
  const bad = makeProblem('invalid-job', { detail: 'memory: invalid size', errors: [{ pointer: '/containers/app/memory', message: 'invalid size' }] });

  test('an invalid file keeps its job accepted and running, and gets a rejection keyed by its key', () => {
    const d = decide(input([], view(nodes, [accepted(web, ['a'])]), { invalid: [{ key: 'web', file: 'jobs/web.yaml', job: 'web', problem: bad }] }));
    assert.deepEqual(d.deleteJobs, []);
    assert.deepEqual(d.putJobs, []);
    assert.equal(outcome(d, 'web').bucket, 'invalid');
    assert.deepEqual(outcome(d, 'web').placements, ['a']);
    assert.equal(d.putRejections.length, 1);
    assert.equal(d.putRejections[0].key, 'web');
    assert.equal(d.putRejections[0].desiredHash, '');
    assert.equal(d.putRejections[0].problem.commit, 'c1');
    assert.equal(d.putRejections[0].problem.file, 'jobs/web.yaml');
    assert.equal(d.putRejections[0].problem.job, 'web');
    assert.equal(d.counts.invalid, 1);
  });

  test('an unparsable file (name unknown) is keyed by path and still holds the job from that file', () => {
    const unparsable = makeProblem('unparsable-yaml', { detail: 'bad indentation' });
    const d = decide(input([], view(nodes, [accepted(web, ['a'])]), { invalid: [{ key: 'jobs/web.yaml', file: 'jobs/web.yaml', problem: unparsable }] }));
    assert.deepEqual(d.deleteJobs, []);
    assert.equal(d.putRejections[0].key, 'jobs/web.yaml');
    assert.equal(outcome(d, 'jobs/web.yaml').bucket, 'invalid');
    assert.equal(outcome(d, 'web').bucket, 'unchanged');
  });

  test('an invalid file does not stop a valid job from being created', () => {
    const d = decide(input([web], view(nodes), { invalid: [{ key: 'jobs/x.yaml', file: 'jobs/x.yaml', problem: bad }] }));
    assert.equal(outcome(d, 'web').bucket, 'create');
  });

  test('once the file is fixed the rejection is removed', () => {
    const stored: Rejection = { key: 'web', commit: 'c0', desiredHash: '', problem: bad, at: T0 };
    const d = decide(input([web], view(nodes, [accepted(web, ['a'])], [stored])));
    assert.deepEqual(d.deleteRejections, ['web']);
  });
});

describe('decide: purity', () => {
  function scenario() {
    const nodes = [node('a', { memory: 4 * Gi }), node('b', { memory: 4 * Gi }), node('c', { memory: 2 * Gi })];
    const jobs = [accepted(desired('web', 3, { memory: 1 * Gi }), ['a', 'dead', 'b']), accepted(desired('db', 1, { memory: 2 * Gi }), ['c'])];
    return input(
      [desired('web', 4, { memory: 1 * Gi }), desired('db', 1, { memory: 2 * Gi, image: 'pg:2' }), desired('new', 2, { memory: 1 * Gi, hostPorts: [80] }), desired('huge', 1, { memory: 64 * Gi })],
      view(nodes, jobs),
    );
  }

  test('deterministic: the same input twice gives deep-equal output', () => {
    assert.deepEqual(decide(scenario()), decide(scenario()));
  });

  test('input order does not matter', () => {
    const a = scenario();
    const b = scenario();
    b.desired.reverse();
    b.cluster.nodes.reverse();
    b.cluster.jobs = new Map([...b.cluster.jobs].reverse());
    assert.deepEqual(decide(a), decide(b));
  });

  test('the input is not mutated', () => {
    const i = scenario();
    const snapshot = JSON.stringify({ ...i, cluster: { ...i.cluster, jobs: [...i.cluster.jobs], rejections: [...i.cluster.rejections] } });
    decide(i);
    assert.equal(JSON.stringify({ ...i, cluster: { ...i.cluster, jobs: [...i.cluster.jobs], rejections: [...i.cluster.rejections] } }), snapshot);
  });

  test('a decision applied and decided again is a fixed point', () => {
    const i = scenario();
    const d = decide(i);
    const next = applyDecision(i.cluster, d);
    const again = decide({ ...i, cluster: next, commit: 'c2' });
    assert.deepEqual(again.putJobs, []);
    assert.deepEqual(again.deleteJobs, []);
    assert.deepEqual(again.putRejections, []);
    assert.deepEqual(again.deleteRejections, []);
  });
});
