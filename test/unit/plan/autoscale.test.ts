// decide() and autoscaled jobs: the count lives in etcd (the accepted job),
// git's numInstances only starts it, min/max clamp it every round, the
// autoscaler's wanted count moves it, and a scale-up that does not fit
// places as many as fit (capped by capacity) instead of being rejected.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AutoscalePolicy } from '../../../src/model/autoscale';
import type { AcceptedJob } from '../../../src/model/cluster';
import { podTemplateHash } from '../../../src/model/hash';
import type { DesiredJob, JobSpec } from '../../../src/model/job';
import { decide, type Decision } from '../../../src/plan';
import { autoscaledCount } from '../../../src/plan/autoscale';
import { problemTypeOf } from '../../../src/problems';
import { Gi, input, node, spec, view } from '../schedule/fixtures';

const POLICY: AutoscalePolicy = { min: 1, max: 10, cpuPercent: 50, scaleDownAfterMs: 60_000 };

function web(numInstances: number, policy: AutoscalePolicy | null = POLICY, image = 'web:1'): DesiredJob {
  const s: JobSpec = { ...spec('web', numInstances, { memory: 1 * Gi, cpu: 500, image }), ...(policy ? { autoscale: policy } : {}) };
  return { spec: s, specHash: podTemplateHash(s), file: 'jobs/web.yaml' };
}

/** The accepted job at `nodes.length` instances (its spec's count says so too). */
function acceptedAt(d: DesiredJob, nodes: Array<string | null>): AcceptedJob {
  return {
    spec: { ...d.spec, numInstances: nodes.length },
    specHash: d.specHash,
    commit: 'c0',
    file: d.file,
    acceptedAt: '2024-01-01T00:00:00.000Z',
    instances: nodes.map((n) => ({ node: n, since: '2024-01-01T00:00:00.000Z' })),
  };
}

function webOf(d: Decision): AcceptedJob | undefined {
  return d.putJobs.find((j) => j.spec.name === 'web');
}

function outcomeOf(d: Decision) {
  const o = d.outcomes.find((x) => x.job === 'web');
  assert.ok(o);
  return o;
}

const nodes = [node('a', { memory: 4 * Gi }), node('b', { memory: 4 * Gi })];
const five = ['a', 'b', 'a', 'b', 'a'];

describe('the count autoscaling keeps', () => {
  test("the accepted count, not git's numInstances: nothing to write", () => {
    const d = decide(input([web(2)], view(nodes, [acceptedAt(web(2), five)])));
    assert.equal(webOf(d), undefined);
    assert.equal(outcomeOf(d).bucket, 'unchanged');
    assert.deepEqual(outcomeOf(d).autoscale, { count: 5, min: 1, max: 10 });
  });

  test('a new job starts at numInstances, clamped to [min, max]', () => {
    const d = decide(input([web(0, { ...POLICY, min: 2 })], view(nodes)));
    assert.equal(webOf(d)?.instances.length, 2);
    assert.equal(outcomeOf(d).bucket, 'create');
  });

  test('a job that gains autoscale starts from the file, clamped', () => {
    const d = decide(input([web(12)], view(nodes, [acceptedAt(web(3, null), ['a', 'b', 'a'])])));
    assert.equal(webOf(d)?.instances.length, 10, 'the file says 12, max is 10');
    assert.equal(webOf(d)?.instances.filter((p) => p.node !== null).length, 8, '8 fit: capped');
    assert.equal(webOf(d)?.spec.autoscale?.max, 10);
  });

  test('the wanted count scales up: new ordinals bin-packed, existing placements untouched', () => {
    const before = acceptedAt(web(2), ['a', 'b']);
    const d = decide(input([web(2)], view(nodes, [before]), { autoscale: new Map([['web', 4]]) }));
    const job = webOf(d);
    assert.equal(outcomeOf(d).bucket, 'scale-up');
    assert.deepEqual(job?.instances.slice(0, 2), before.instances);
    assert.equal(job?.instances.length, 4);
    assert.ok(job?.instances.every((p) => p.node !== null));
    assert.equal(job?.spec.numInstances, 4);
  });

  test('scale-down removes the highest ordinals', () => {
    const before = acceptedAt(web(2), five);
    const d = decide(input([web(2)], view(nodes, [before]), { autoscale: new Map([['web', 2]]) }));
    assert.equal(outcomeOf(d).bucket, 'scale-down');
    assert.deepEqual(webOf(d)?.instances, before.instances.slice(0, 2));
  });

  test('more wanted than fit: as many as fit run, the rest pending, no report', () => {
    const before = acceptedAt(web(2), five);
    const d = decide(input([web(2)], view(nodes, [before]), { autoscale: new Map([['web', 10]]) }));
    const job = webOf(d);
    assert.equal(outcomeOf(d).bucket, 'scale-up');
    assert.equal(job?.instances.length, 10);
    assert.equal(job?.instances.filter((p) => p.node !== null).length, 8, '4G nodes, 1G instances');
    assert.deepEqual(d.putRejections, []);
    assert.equal(problemTypeOf(outcomeOf(d).problem!), 'insufficient-memory', 'the pending ones say why');
    assert.equal(d.counts.pending, 2);
  });

  test('the pending ones are placed once room frees, and go first on a scale-down', () => {
    const capped = acceptedAt(web(2), ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', null, null]);
    const bigger = [node('a', { memory: 4 * Gi }), node('b', { memory: 4 * Gi }), node('c', { memory: 4 * Gi })];
    const placed = webOf(decide(input([web(2)], view(bigger, [capped]))));
    assert.deepEqual(placed?.instances.slice(8).map((p) => p.node), ['c', 'c']);
    const down = webOf(decide(input([web(2)], view(nodes, [capped]), { autoscale: new Map([['web', 8]]) })));
    assert.ok(down?.instances.every((p) => p.node !== null));
    assert.equal(down?.instances.length, 8);
  });

  test('raising min in git scales up at once; lowering max scales down', () => {
    const before = acceptedAt(web(2), five);
    const up = decide(input([web(2, { ...POLICY, min: 7 })], view(nodes, [before])));
    assert.equal(webOf(up)?.instances.length, 7);
    assert.equal(outcomeOf(up).bucket, 'scale-up');
    const down = decide(input([web(2, { ...POLICY, max: 3 })], view(nodes, [before])));
    assert.deepEqual(webOf(down)?.instances, before.instances.slice(0, 3));
    assert.deepEqual(outcomeOf(down).autoscale, { count: 3, min: 1, max: 3 });
  });

  test('a wanted count outside the bounds is clamped', () => {
    const before = acceptedAt(web(2), five);
    assert.equal(webOf(decide(input([web(2, { ...POLICY, max: 6 })], view(nodes, [before]), { autoscale: new Map([['web', 40]]) })))?.instances.length, 6);
    assert.equal(webOf(decide(input([web(2, { ...POLICY, min: 4 })], view(nodes, [before]), { autoscale: new Map([['web', 0]]) })))?.instances.length, 4);
  });

  test('a pod change rolls out as usual and keeps the count', () => {
    const before = acceptedAt(web(2), five);
    const d = decide(input([web(2, POLICY, 'web:2')], view(nodes, [before])));
    assert.equal(outcomeOf(d).bucket, 'update');
    assert.equal(webOf(d)?.instances.length, 5);
    assert.equal(webOf(d)?.spec.containers[0]!.image, 'web:2');
  });

  test('retuning the target alone rewrites the policy in place: same count, nothing moves', () => {
    const before = acceptedAt(web(2), five);
    const d = decide(input([web(2, { ...POLICY, cpuPercent: 70 })], view(nodes, [before])));
    assert.equal(outcomeOf(d).bucket, 'update');
    assert.equal(outcomeOf(d).strategy, 'in place');
    assert.deepEqual(webOf(d)?.instances, before.instances);
    assert.equal(webOf(d)?.spec.autoscale?.cpuPercent, 70);
  });

  test('removing autoscale hands the count back to the file', () => {
    const before = acceptedAt(web(2), five);
    assert.equal(webOf(decide(input([web(2, null)], view(nodes, [before]))))?.instances.length, 2);
  });

  test('a job without autoscale ignores a wanted count', () => {
    const before = acceptedAt(web(2, null), ['a', 'b']);
    const d = decide(input([web(2, null)], view(nodes, [before]), { autoscale: new Map([['web', 5]]) }));
    assert.equal(webOf(d), undefined);
    assert.equal(autoscaledCount(web(2, null), before, 5), 2);
  });
});
