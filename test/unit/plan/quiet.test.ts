// decide() remembers, per object, what it derived from unchanged jobs
// (plan/quiet.ts, plan/classify.ts): these rounds reuse the very same
// desired and accepted objects, as the poller does, and fail if a
// remembered answer outlived what it was derived from.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AcceptedJob } from '../../../src/model/cluster';
import { decide, type Decision } from '../../../src/plan';
import { attemptHash } from '../../../src/plan/rollout';
import { Gi, accepted, desired, input, node, view } from '../schedule/fixtures';

function outcome(d: Decision, job: string) {
  const o = d.outcomes.find((x) => x.job === job);
  assert.ok(o, `no outcome for ${job}`);
  return o;
}

describe('decide: remembered answers for unchanged jobs', () => {
  test('a live-node change is seen although the job objects are the same', () => {
    const a = node('a', {});
    const b = node('b', {});
    const web = desired('web', 2, { memory: 1 * Gi });
    const db = desired('db', 1, { memory: 1 * Gi });
    const jobs = [accepted(web, ['a', 'b']), accepted(db, ['a'])];
    const quiet = decide(input([db, web], view([a, b], jobs)));
    assert.deepEqual(outcome(quiet, 'web'), { job: 'web', bucket: 'unchanged', placements: ['a', 'b'] });
    assert.deepEqual(quiet.putJobs, []);
    // b dies: the same accepted object now has an instance on a dead node.
    const lost = decide(input([db, web], view([a], jobs)));
    assert.equal(outcome(lost, 'web').bucket, 'reschedule');
    assert.deepEqual(outcome(lost, 'web').placements, ['a', 'a']);
    assert.deepEqual(outcome(lost, 'db'), { job: 'db', bucket: 'unchanged', placements: ['a'] });
    // b is back (the same node objects as in the first round): quiet again.
    assert.deepEqual(decide(input([db, web], view([a, b], jobs))), quiet);
  });

  test('a new accepted object for the same desired job is classified afresh', () => {
    const nodes = [node('a', {}), node('b', {})];
    const web = desired('web', 2, { memory: 1 * Gi });
    const first = decide(input([web], view(nodes, [accepted(web, ['a', 'b'])])));
    assert.equal(outcome(first, 'web').bucket, 'unchanged');
    // etcd now holds three instances (another agent scaled it): the file's two win.
    const three = decide(input([web], view(nodes, [accepted(web, ['a', 'b', 'b'])])));
    assert.equal(outcome(three, 'web').bucket, 'scale-down');
    assert.deepEqual(outcome(three, 'web').placements, ['a', 'b']);
    // Moved instances: the outcome says where they are now, not where they were.
    const moved = decide(input([web], view(nodes, [accepted(web, ['b', 'b'])])));
    assert.deepEqual(outcome(moved, 'web'), { job: 'web', bucket: 'unchanged', placements: ['b', 'b'] });
    // A rollout under way is never quiet.
    const rolling: AcceptedJob = { ...accepted(web, ['b', 'b']), rollout: { kind: 'move', commit: 'c0', from: web.specHash, batch: [0], startedAt: '2024-01-01T00:00:00.000Z' } };
    const r = decide(input([web], view(nodes, [rolling])));
    assert.match(outcome(r, 'web').strategy ?? '', /^rebalancing/);
  });

  test('a failed update forgotten in an unchanged round leaves the input as it was', () => {
    const nodes = [node('a', {})];
    const web = desired('web', 1, { memory: 1 * Gi });
    const failed = desired('web', 1, { memory: 2 * Gi });
    const job: AcceptedJob = {
      ...accepted(web, ['a']),
      failedUpdate: { specHash: failed.specHash, attempt: attemptHash(failed.spec), commit: 'c0', instance: 'web-0', reason: 'unhealthy', reverted: true, at: '2024-01-01T00:00:00.000Z' },
    };
    // The file went back to the accepted spec: the failure is forgotten (written without it).
    const d = decide(input([web], view(nodes, [job])));
    assert.equal(d.putJobs.length, 1);
    assert.equal(d.putJobs[0].failedUpdate, undefined);
    assert.ok(job.failedUpdate, 'the accepted job read is not changed');
    assert.deepEqual(decide(input([web], view(nodes, [job]))), d, 'the same input, the same decision');
  });
});
