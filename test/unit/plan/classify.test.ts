import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyJobs, isHeldByInvalid, sameTemplate } from '../../../src/plan';
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
