import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DELETION_GUARD_KEY, checkDeletionGuard, decide } from '../../../src/plan';
import { makeProblem, problemTypeOf } from '../../../src/problems';
import { Gi, accepted, applyDecision, desired, input, node, view } from '../schedule/fixtures';

const settings = { maxDeleteShare: 0.5, allowDeleteAll: false };

describe('checkDeletionGuard', () => {
  test('deleting every job trips it, even the only one', () => {
    assert.ok(checkDeletionGuard(['a'], 1, settings, 'c').tripped);
    assert.ok(checkDeletionGuard(['a', 'b'], 2, settings, 'c').tripped);
  });
  test('more than maxDeleteShare trips it when more than two jobs are accepted', () => {
    assert.ok(checkDeletionGuard(['a', 'b'], 3, settings, 'c').tripped);
    assert.ok(!checkDeletionGuard(['a'], 3, settings, 'c').tripped);
    assert.ok(!checkDeletionGuard(['a'], 2, settings, 'c').tripped, 'one of two is half, not more');
    assert.ok(!checkDeletionGuard(['a', 'b'], 4, settings, 'c').tripped, 'exactly the share is allowed');
    assert.ok(!checkDeletionGuard(['a', 'b'], 3, { ...settings, maxDeleteShare: 0.7 }, 'c').tripped);
  });
  test('allowDeleteAll opts out entirely', () => {
    assert.ok(!checkDeletionGuard(['a', 'b', 'c'], 3, { ...settings, allowDeleteAll: true }, 'c').tripped);
  });
  test('the problem says how many, which, and how to opt in', () => {
    const v = checkDeletionGuard(['b', 'a'], 3, settings, 'c9');
    assert.ok(v.problem);
    assert.equal(problemTypeOf(v.problem), 'mass-deletion');
    assert.equal(v.problem.commit, 'c9');
    assert.match(v.problem.detail, /delete 2 of 3 accepted jobs \(a, b\)/);
    assert.match(v.problem.detail, /deletionGuard\.maxDeleteShare/);
    assert.match(v.problem.detail, /deletionGuard\.allowDeleteAll: true/);
    const all = checkDeletionGuard(['a'], 1, settings, 'c9');
    assert.match(all.problem?.detail ?? '', /delete all 1 accepted job \(a\).*allowDeleteAll: true/);
  });
});

describe('decide with the deletion guard', () => {
  const nodes = [node('n', { memory: 16 * Gi })];
  const jobs = ['a', 'b', 'c'].map((n) => accepted(desired(n, 1, { memory: 1 * Gi }), ['n']));

  test('a round that would delete too much deletes nothing, reports once, and still creates', () => {
    const d = decide(input([desired('a', 1, { memory: 1 * Gi }), desired('new', 1, { memory: 1 * Gi })], view(nodes, jobs)));
    assert.deepEqual(d.deleteJobs, []);
    assert.equal(d.putRejections.length, 1);
    assert.equal(d.putRejections[0].key, DELETION_GUARD_KEY);
    assert.equal(problemTypeOf(d.putRejections[0].problem), 'mass-deletion');
    assert.equal(d.outcomes.find((o) => o.job === 'b')?.bucket, 'rejected');
    assert.equal(d.outcomes.find((o) => o.job === 'new')?.bucket, 'create');

    // Same commit content next round: no new report; once opted in, the deletes go and the report is removed.
    const after = applyDecision(view(nodes, jobs), d);
    const again = decide(input([desired('a', 1, { memory: 1 * Gi }), desired('new', 1, { memory: 1 * Gi })], after, { commit: 'c2' }));
    assert.deepEqual(again.putRejections, []);
    const optedIn = decide(input([desired('a', 1, { memory: 1 * Gi }), desired('new', 1, { memory: 1 * Gi })], after, { deletionGuard: { maxDeleteShare: 0.5, allowDeleteAll: true } }));
    assert.deepEqual(optedIn.deleteJobs, ['b', 'c']);
    assert.deepEqual(optedIn.deleteRejections, [DELETION_GUARD_KEY]);
  });

  test('an empty desired set deletes nothing without the opt-in', () => {
    const d = decide(input([], view(nodes, jobs)));
    assert.deepEqual(d.deleteJobs, []);
    assert.match(d.putRejections[0].problem.detail, /all 3 accepted jobs/);
    const allowed = decide(input([], view(nodes, jobs), { deletionGuard: { maxDeleteShare: 0.5, allowDeleteAll: true } }));
    assert.deepEqual(allowed.deleteJobs, ['a', 'b', 'c']);
  });

  test('files that fail to parse do not count as deleted', () => {
    const unparsable = makeProblem('unparsable-yaml', { detail: 'bad' });
    const invalid = ['a', 'b', 'c'].map((n) => ({ key: `jobs/${n}.yaml`, file: `jobs/${n}.yaml`, problem: unparsable }));
    const d = decide(input([], view(nodes, jobs), { invalid }));
    assert.deepEqual(d.deleteJobs, []);
    assert.ok(!d.putRejections.some((r) => r.key === DELETION_GUARD_KEY), 'nothing is being deleted, so no guard');
    assert.equal(d.putRejections.length, 3);
  });

  test('jobs the guard keeps still fail over', () => {
    const d = decide(input([], view([node('m', {})], jobs)));
    assert.deepEqual(d.deleteJobs, []);
    assert.deepEqual(d.putJobs.map((j) => [j.spec.name, j.instances[0].node]), [['a', 'm'], ['b', 'm'], ['c', 'm']]);
  });
});
