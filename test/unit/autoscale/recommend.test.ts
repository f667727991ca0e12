// The recommendation: HPA's formula over healthy, measured, non-updating
// instances; the 10 % band; uncounted instances idle for a scale-up and at
// the target for a scale-down; pending ones neither; bounds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AutoscalePolicy, InstanceCpu } from '../../../src/model/autoscale';
import type { AcceptedJob, InstancePlacement } from '../../../src/model/cluster';
import { recommend } from '../../../src/autoscale/recommend';

const POLICY: AutoscalePolicy = { min: 1, max: 10, cpuPercent: 50, scaleDownAfterMs: 60_000 };

function job(instances: Array<string | null | InstancePlacement>, extra: Partial<AcceptedJob> = {}): AcceptedJob {
  return {
    spec: { name: 'web', numInstances: instances.length, containers: [], autoscale: POLICY },
    specHash: 'v2',
    commit: 'c',
    file: 'jobs/web.yaml',
    acceptedAt: '',
    instances: instances.map((p) => (p === null || typeof p === 'string' ? { node: p, since: '' } : p)),
    ...extra,
  };
}

/** Instance → percent of a 1000m limit; `false` marks it unhealthy. */
function samples(byInstance: Record<string, number | false>, spec = 'v2'): (i: string) => InstanceCpu | undefined {
  return (i) => {
    const v = byInstance[i];
    if (v === undefined) return undefined;
    return { job: 'web', spec, healthy: v !== false, used: v === false ? 900 : v * 10, limit: 1000 };
  };
}

describe('recommend', () => {
  test('above the target: ceil(counted × average ÷ target)', () => {
    const r = recommend(job(['a', 'b']), POLICY, samples({ 'web-0': 100, 'web-1': 80 }));
    assert.equal(r.averagePercent, 90);
    assert.equal(r.wanted, 4, 'ceil(2 × 90 / 50) = ceil(3.6)');
    assert.equal(r.counted, 2);
  });

  test('within 10 % of the target nothing changes, either way', () => {
    assert.equal(recommend(job(['a', 'b']), POLICY, samples({ 'web-0': 54, 'web-1': 54 })).wanted, 2);
    assert.equal(recommend(job(['a', 'b', 'a']), POLICY, samples({ 'web-0': 46, 'web-1': 46, 'web-2': 46 })).wanted, 3);
  });

  test('below the target: fewer, never under min', () => {
    assert.equal(recommend(job(['a', 'b', 'a', 'b']), POLICY, samples({ 'web-0': 10, 'web-1': 10, 'web-2': 10, 'web-3': 10 })).wanted, 1);
    assert.equal(recommend(job(['a', 'b', 'a', 'b']), { ...POLICY, min: 3 }, samples({ 'web-0': 0, 'web-1': 0, 'web-2': 0, 'web-3': 0 })).wanted, 3);
  });

  test('never above max', () => {
    assert.equal(recommend(job(['a', 'b']), { ...POLICY, max: 3 }, samples({ 'web-0': 100, 'web-1': 100 })).wanted, 3);
  });

  test('floating-point dust does not add an instance', () => {
    // 2 × (75 / 50) = 3 exactly in decimal, 3.0000000000000004 in binary.
    assert.equal(recommend(job(['a', 'b']), POLICY, samples({ 'web-0': 75, 'web-1': 75 })).wanted, 3);
  });

  test('unhealthy, unmeasured, other-version and batch instances do not count; for a scale-up they are idle', () => {
    const rolling = job(['a', 'b', 'a', 'b'], { rollout: { kind: 'update', commit: 'c', from: 'v1', batch: [3], startedAt: '' } });
    // web-0 at 100 % counts; web-1 unhealthy; web-2 unmeasured; web-3 in the batch.
    const r = recommend(rolling, POLICY, samples({ 'web-0': 100, 'web-1': false, 'web-3': 100 }));
    assert.equal(r.counted, 1);
    assert.equal(r.uncounted, 3);
    assert.equal(r.wanted, 4, 'ceil(1 × 2) = 2 ≤ 4: the others are about to share the load');
  });

  test('a rolling update shifting load onto the remaining instance does not scale up', () => {
    // Two instances at 40 % each; one is being replaced, the other now carries 80 %.
    const rolling = job(['a', 'b'], { rollout: { kind: 'update', commit: 'c', from: 'v1', batch: [1], startedAt: '' } });
    assert.equal(recommend(rolling, POLICY, samples({ 'web-0': 80 })).wanted, 2);
  });

  test('for a scale-down, uncounted instances count at the target', () => {
    // 3 counted at 10 %, 1 starting: ceil(3 × 0.2 + 1) = 2.
    assert.equal(recommend(job(['a', 'b', 'a', 'b']), POLICY, samples({ 'web-0': 10, 'web-1': 10, 'web-2': 10 })).wanted, 2);
  });

  test('an instance measured on another spec than it runs does not count', () => {
    const r = recommend(job(['a']), POLICY, samples({ 'web-0': 100 }, 'v1'));
    assert.equal(r.counted, 0);
    assert.equal(r.averagePercent, undefined);
    assert.equal(r.wanted, 1);
  });

  test('pending instances (capped by capacity) are in the count but not in the formula', () => {
    // 4 placed at 75 % and 2 pending: ceil(4 × 1.5) = 6 = the count, nothing more.
    const capped = job(['a', 'b', 'a', 'b', null, null]);
    const busy = { 'web-0': 75, 'web-1': 75, 'web-2': 75, 'web-3': 75 };
    assert.equal(recommend(capped, POLICY, samples(busy)).wanted, 6);
    // Load gone: ceil(4 × 0.1) = 1, the pending ones do not hold it up.
    assert.equal(recommend(capped, POLICY, samples({ 'web-0': 5, 'web-1': 5, 'web-2': 5, 'web-3': 5 })).wanted, 1);
  });

  test('nothing measured: the count stays (clamped)', () => {
    assert.equal(recommend(job(['a', 'b']), POLICY, samples({})).wanted, 2);
    assert.equal(recommend(job(['a', 'b']), { ...POLICY, max: 1 }, samples({})).wanted, 1);
  });
});
