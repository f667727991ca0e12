// `autoscale` in the job format: the normalized policy, its default window,
// and each refusal at the pointer of the field at fault.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_SCALE_DOWN_AFTER_MS } from '../../../src/model/autoscale';
import type { JobSpec } from '../../../src/model/job';
import { podTemplateHash } from '../../../src/model/hash';
import { toRawJob } from '../../../src/render';
import { expectProblem, renderJob } from './helpers';

function webJob(autoscale: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, any> {
  return {
    name: 'web',
    numInstances: 2,
    autoscale,
    containers: { app: { image: 'localhost/ozy-busybox:1', cpu: '500m' }, side: { image: 'localhost/ozy-busybox:1', cpu: 0.25 } },
    ...extra,
  };
}

function specOf(doc: unknown): JobSpec {
  const r = renderJob(doc, 'jobs/web.yaml');
  assert.deepEqual(r.problems, []);
  return r.jobs[0]!.spec;
}

describe('a valid autoscale policy', () => {
  test('parsed: percent, default window 5m; numInstances kept as the starting count', () => {
    const spec = specOf(webJob({ min: 1, max: 10, cpu: '50%' }));
    assert.deepEqual(spec.autoscale, { min: 1, max: 10, cpuPercent: 50, scaleDownAfterMs: DEFAULT_SCALE_DOWN_AFTER_MS });
    assert.equal(DEFAULT_SCALE_DOWN_AFTER_MS, 300_000);
    assert.equal(spec.numInstances, 2);
  });
  test('a bare number is a percentage; scaleDownAfter 0 is allowed', () => {
    const spec = specOf(webJob({ min: 2, max: 2, cpu: 12.5, scaleDownAfter: '0s' }));
    assert.deepEqual(spec.autoscale, { min: 2, max: 2, cpuPercent: 12.5, scaleDownAfterMs: 0 });
  });
  test('the policy is not part of the pod: changing it restarts nothing (same pod hash)', () => {
    const a = specOf(webJob({ min: 1, max: 10, cpu: '50%' }));
    const b = specOf(webJob({ min: 3, max: 4, cpu: '70%', scaleDownAfter: '1m' }));
    assert.equal(podTemplateHash(a), podTemplateHash(b));
  });

  test('`ozy render` prints it back in the file format, and it renders to the same spec', () => {
    const spec = specOf(webJob({ min: 1, max: 10, cpu: '50%', scaleDownAfter: 90 }));
    const raw = toRawJob(spec);
    assert.deepEqual(raw.autoscale, { min: 1, max: 10, cpu: '50%', scaleDownAfter: '90s' });
    assert.deepEqual(specOf(raw), spec);
  });
});

describe('refusals', () => {
  test('max below min', () => {
    expectProblem(webJob({ min: 4, max: 2, cpu: '50%' }), 'invalid-autoscale', ['/autoscale/max']);
  });
  test('cpu outside 1%..100%', () => {
    expectProblem(webJob({ min: 1, max: 2, cpu: '150%' }), 'invalid-autoscale', ['/autoscale/cpu']);
    expectProblem(webJob({ min: 1, max: 2, cpu: '0%' }), 'invalid-autoscale', ['/autoscale/cpu']);
  });
  test('cpu that is not a percentage fails the schema', () => {
    expectProblem(webJob({ min: 1, max: 2, cpu: 'half' }), 'invalid-job', ['/autoscale/cpu']);
  });
  test('min 0 fails the schema', () => {
    expectProblem(webJob({ min: 0, max: 2, cpu: '50%' }), 'invalid-job', ['/autoscale/min']);
  });
  test('scaleDownAfter beyond a day', () => {
    expectProblem(webJob({ min: 1, max: 2, cpu: '50%', scaleDownAfter: '25h' }), 'invalid-autoscale', ['/autoscale/scaleDownAfter']);
  });
  test('a container without its own cpu is named', () => {
    const doc = webJob({ min: 1, max: 2, cpu: '50%' });
    delete doc.containers.side.cpu;
    const p = expectProblem(doc, 'invalid-autoscale', ['/containers/side/cpu']);
    assert.match(p.errors![0]!.message, /container "side" has no CPU limit/);
  });
  test('daemon and cron jobs cannot autoscale', () => {
    const daemon = webJob({ min: 1, max: 2, cpu: '50%' }, { type: 'daemon' });
    delete daemon.numInstances;
    expectProblem(daemon, 'invalid-autoscale', ['/autoscale']);
    const cron = webJob({ min: 1, max: 2, cpu: '50%' }, { type: 'cron', schedule: '* * * * *', numInstances: 1 });
    for (const c of Object.values(cron.containers) as Array<Record<string, unknown>>) c.restart = 'never';
    expectProblem(cron, 'invalid-autoscale', ['/autoscale']);
  });
});
