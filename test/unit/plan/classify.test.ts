import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyJobs, isHeldByInvalid, sameTemplate } from '../../../src/plan';
import { specCompareStats } from '../../../src/plan/spec-compare';
import { makeProblem } from '../../../src/problems';
import { Gi, accepted, desired, spec } from '../schedule/fixtures';

const problem = makeProblem('unparsable-yaml', { detail: 'bad' });

describe('classifyJobs', () => {
  test('one bucket per job name, sorted', () => {
    const web = desired('web', 2, { memory: 1 * Gi });
    const accepted3 = accepted(desired('web', 3, { memory: 1 * Gi }), ['a', 'a', 'a']);
    const changes = classifyJobs(
      [desired('new', 1, {}), web, desired('api', 4, { memory: 1 * Gi }), desired('db', 1, { memory: 2 * Gi }), desired('same', 1, {})],
      new Map([
        ['web', accepted3],
        ['api', accepted(desired('api', 2, { memory: 1 * Gi }), ['a', 'a'])],
        ['db', accepted(desired('db', 1, { memory: 1 * Gi }), ['a'])],
        ['same', accepted(desired('same', 1, {}), ['a'])],
        ['gone', accepted(desired('gone', 1, {}), ['a'])],
      ]),
      [],
    );
    assert.deepEqual(
      changes.map((c) => [c.name, c.kind]),
      [
        ['api', 'scale-up'],
        ['db', 'update'],
        ['gone', 'delete'],
        ['new', 'create'],
        ['same', 'unchanged'],
        ['web', 'scale-down'],
      ],
    );
  });

  test('a scale is not an update: the pod template is compared without the count', () => {
    assert.ok(sameTemplate(spec('w', 1, { memory: 1 * Gi }), spec('w', 5, { memory: 1 * Gi })));
    assert.ok(!sameTemplate(spec('w', 1, { memory: 1 * Gi }), spec('w', 1, { memory: 2 * Gi })));
  });

  test('desired jobs in name order (as rendered) merge with the accepted names they lack, in order', () => {
    const changes = classifyJobs(
      [desired('b', 1, {}), desired('d', 1, {}), desired('f', 1, {})],
      new Map([
        ['g', accepted(desired('g', 1, {}), ['a'])],
        ['d', accepted(desired('d', 1, {}), ['a'])],
        ['a', accepted(desired('a', 1, {}), ['a'])],
        ['c', accepted(desired('c', 1, {}), ['a'])],
      ]),
      [],
    );
    assert.deepEqual(
      changes.map((c) => [c.name, c.kind]),
      [
        ['a', 'delete'],
        ['b', 'create'],
        ['c', 'delete'],
        ['d', 'unchanged'],
        ['f', 'create'],
        ['g', 'delete'],
      ],
    );
  });

  test('the same desired and accepted specs as last round are not compared again', () => {
    const d = desired('web', 2, { memory: 1 * Gi });
    // A different hash with the same pod forces the canonical comparison (e.g. a policy-only change).
    const a = { ...accepted(desired('web', 2, { memory: 1 * Gi }), ['a', 'a']), specHash: 'older-hash' };
    const first = specCompareStats.computed;
    assert.equal(classifyJobs([d], new Map([['web', a]]), [])[0].kind, 'update');
    const once = specCompareStats.computed - first;
    assert.ok(once > 0);
    for (let i = 0; i < 3; i++) assert.equal(classifyJobs([d], new Map([['web', a]]), [])[0].kind, 'update');
    assert.equal(specCompareStats.computed - first, once, 'answered from the memo');
    // A new accepted object (the job was written again) is compared afresh.
    classifyJobs([d], new Map([['web', { ...a, spec: { ...a.spec } }]]), []);
    assert.ok(specCompareStats.computed - first > once);
  });

  test('a job whose file is invalid is held, not deleted', () => {
    const web = accepted(desired('web', 1, {}), ['a']);
    const changes = classifyJobs([], new Map([['web', web]]), [{ key: 'jobs/web.yaml', file: 'jobs/web.yaml', problem }]);
    assert.equal(changes[0].kind, 'held');
  });
});

describe('isHeldByInvalid', () => {
  const web = { ...accepted(desired('web', 1, {}), ['a']), file: 'jobs/web.yaml' };
  const charted = { ...accepted(desired('api', 1, {}), ['a']), file: 'jobs/charts/api' };
  test('by job name, by file, by a file inside its chart, and by a repository-level problem', () => {
    assert.ok(isHeldByInvalid(web, [{ key: 'web', file: 'jobs/other-name.yaml', job: 'web', problem }]));
    assert.ok(isHeldByInvalid(web, [{ key: 'jobs/web.yaml', file: 'jobs/web.yaml', problem }]));
    assert.ok(isHeldByInvalid(charted, [{ key: 'jobs/charts/api/templates/a.yaml', file: 'jobs/charts/api/templates/a.yaml', problem }]));
    assert.ok(isHeldByInvalid(web, [{ key: 'ozy.yaml', file: '', problem }]));
  });
  test('not by an unrelated file', () => {
    assert.ok(!isHeldByInvalid(web, [{ key: 'jobs/webx.yaml', file: 'jobs/webx.yaml', problem }]));
    assert.ok(!isHeldByInvalid(charted, [{ key: 'jobs/charts/api2/x.yaml', file: 'jobs/charts/api2/x.yaml', problem }]));
  });
});
