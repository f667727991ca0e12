import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dashInstance, dashRejection, safeHttpUrl, sectionFingerprints } from '../../../src/dashboard/model';
import { ENV_VALUE, REJECTION, smallCluster } from './fixtures';

describe('dashboard rows', () => {
  const d = smallCluster();

  test('no environment value and no spec anywhere in what is served', () => {
    const text = JSON.stringify({ ...d, instancesByJob: [...d.instancesByJob] });
    assert.ok(!text.includes(ENV_VALUE));
    assert.ok(!text.includes('PASSWORD'));
    assert.ok(!text.includes('"spec":{'));
    // The agent's record is cut to the fields shown.
    assert.deepEqual(d.nodes.find((n) => n.name === 'n1')!.agent, { role: 'poller', head: 'c'.repeat(40), gitError: null });
  });

  test('summary counts', () => {
    assert.deepEqual(d.summary.jobs, { total: 3, healthy: 1, degraded: 1, pending: 1, updating: 0, rejected: 0 });
    assert.deepEqual(d.summary.instances, { total: 5, healthy: 3, pending: 1, unhealthy: 1, other: 0 });
    assert.deepEqual(d.summary.git, { poller: 'n1', head: 'c'.repeat(40), gitError: null });
    assert.equal(d.summary.revision, 42);
  });

  test('a pending instance says why', () => {
    const pending = d.instancesByJob.get('batch-web')![0]!;
    assert.equal(pending.state, 'pending');
    assert.ok(pending.message && pending.message.length > 0);
  });

  test('a rejection is rendered problem details: title, detail, failing field, docs anchor', () => {
    assert.deepEqual(d.rejections[0], {
      key: 'huge',
      commit: 'b'.repeat(40),
      at: REJECTION.at,
      type: 'https://example.org/docs/errors.md#insufficient-memory',
      code: 'insufficient-memory',
      title: 'Not enough memory on any node',
      detail: 'Job requires 64G of memory but only 1G can be allocated.',
      job: 'huge',
      file: null,
      errors: [{ pointer: '/containers/app/memory', message: 'more than any node has' }],
    });
  });

  test('only http(s) problem types become links', () => {
    assert.equal(safeHttpUrl('javascript:alert(1)'), null);
    assert.equal(safeHttpUrl('data:text/html,x'), null);
    assert.equal(safeHttpUrl('not a url'), null);
    assert.equal(safeHttpUrl('https://x.org/a#b'), 'https://x.org/a#b');
    const r = dashRejection({ ...REJECTION, problem: { ...REJECTION.problem, type: 'javascript:alert(1)' } });
    assert.deepEqual([r.type, r.code], [null, 'problem']);
  });

  test('fingerprints move only with the section that changed', () => {
    const a = sectionFingerprints(d);
    const b = sectionFingerprints({ ...d, summary: { ...d.summary, revision: 99 } });
    assert.deepEqual(a, b);
    const c = sectionFingerprints({ ...d, rejections: [] });
    assert.deepEqual(Object.keys(a).filter((k) => a[k as keyof typeof a] !== c[k as keyof typeof c]), ['rejections']);
  });
});

describe('why, everywhere', () => {
  test('the last restart and the per-node reasons pass through, checked', () => {
    const row = { instance: 'w-0', job: 'w', node: null, state: 'pending', health: 'unknown' as const, restarts: 2, since: 'x', spec: 'h' };
    const i = dashInstance({ ...row, lastRestart: { cause: 'exit code 137 (OOM killed)', at: 'y' }, nodeReasons: { n1: 'memory: 1Gi free, needs 2Gi', n2: 7 } } as unknown as Parameters<typeof dashInstance>[0]);
    assert.deepEqual(i.lastRestart, { cause: 'exit code 137 (OOM killed)', at: 'y' });
    assert.deepEqual(i.nodeReasons, { n1: 'memory: 1Gi free, needs 2Gi' });
    const bare = dashInstance(row);
    assert.deepEqual([bare.lastRestart, bare.nodeReasons], [null, null]);
  });
});
