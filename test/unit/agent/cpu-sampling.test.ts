// The pure part of CPU sampling: which containers an instance is sampled
// by, and how two samples of the same containers become one figure.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cpuRound, cpuTargetOf, type CpuTarget } from '../../../src/agent/cpu-sampling';
import type { InstanceStatus } from '../../../src/model/cluster';
import type { ContainerStats } from '../../../src/runtime';
import { acceptedJob, container } from './fake-node';

const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A sample taken `atMs` after T0 with `cpuMs` of CPU used so far. */
function sample(atMs: number, cpuMs: number): ContainerStats {
  return { readAt: new Date(T0 + atMs).toISOString(), memoryUsage: 0, memoryLimit: 0, cpuTotalNs: cpuMs * 1e6 };
}

function target(instance: string, containers: string[], extra: Partial<CpuTarget> = {}): CpuTarget {
  return { instance, job: 'web', spec: 'h1', healthy: true, limit: 500, containers, ...extra };
}

const job = acceptedJob('web', [container('app', { cpu: 300 }), container('side', { cpu: 200 })], ['n1']);

function status(state: InstanceStatus['state'], containers: InstanceStatus['containers']): InstanceStatus {
  return { instance: 'web-0', job: 'web', node: 'n1', specHash: 'h1', state, restarts: 0, containers, updatedAt: '' };
}

describe('cpuTargetOf', () => {
  test('every container running: its ids in spec order, the limit summed, healthy as the agent judges it', () => {
    const t = cpuTargetOf(status('healthy', { side: { id: 's1', state: 'running' }, app: { id: 'a1', state: 'running' } }), job.spec);
    assert.deepEqual(t, { instance: 'web-0', job: 'web', spec: 'h1', healthy: true, limit: 500, containers: ['a1', 's1'] });
    assert.equal(cpuTargetOf(status('starting', { side: { id: 's1', state: 'running' }, app: { id: 'a1', state: 'running' } }), job.spec).healthy, false);
  });

  test('a container down or not yet created: nothing to sample', () => {
    assert.deepEqual(cpuTargetOf(status('exited', { app: { id: 'a1', state: 'running' }, side: { id: 's1', state: 'exited' } }), job.spec).containers, []);
    assert.deepEqual(cpuTargetOf(status('pending', { app: { state: 'pending' }, side: { state: 'pending' } }), job.spec).containers, []);
    assert.deepEqual(cpuTargetOf(status('starting', { app: { id: 'a1', state: 'running' } }), job.spec).containers, []);
  });
});

describe('cpuRound', () => {
  test('the first sample gives no figure; the second gives Δusage ÷ Δtime summed over the pod', () => {
    const targets = [target('web-0', ['a', 'b'])];
    const first = cpuRound(targets, new Map(), new Map([['a', sample(0, 0)], ['b', sample(0, 100)]]), 2000);
    assert.deepEqual(first.record, { sampleMs: 2000, instances: {} });
    // a: 1000 ms of CPU in 2 s = 500m; b: 200 ms in 2 s = 100m.
    const second = cpuRound(targets, first.samples, new Map([['a', sample(2000, 1000)], ['b', sample(2000, 300)]]), 2000);
    assert.deepEqual(second.record.instances, { 'web-0': { job: 'web', spec: 'h1', healthy: true, used: 600, limit: 500 } });
    assert.deepEqual([...second.samples.keys()].sort(), ['a', 'b']);
  });

  test('a container with a new id (recreated) starts over: no figure until its second sample; the old id is dropped', () => {
    const prev = new Map([['a', sample(0, 0)]]);
    const r = cpuRound([target('web-0', ['a2'])], prev, new Map([['a2', sample(2000, 50)]]), 2000);
    assert.deepEqual(r.record.instances, {});
    assert.deepEqual([...r.samples.keys()], ['a2']);
    const next = cpuRound([target('web-0', ['a2'])], r.samples, new Map([['a2', sample(4000, 250)]]), 2000);
    assert.equal(next.record.instances['web-0']?.used, 100);
  });

  test('a failed stats call skips only its instance this round; the next round measures across both periods', () => {
    const targets = [target('web-0', ['a']), target('web-1', ['b'])];
    const prev = new Map([['a', sample(0, 0)], ['b', sample(0, 0)]]);
    const r = cpuRound(targets, prev, new Map([['b', sample(2000, 400)]]), 2000);
    assert.deepEqual(Object.keys(r.record.instances), ['web-1']);
    assert.deepEqual(r.samples.get('a'), sample(0, 0), 'the earlier sample is kept');
    const next = cpuRound(targets, r.samples, new Map([['a', sample(4000, 1200)], ['b', sample(4000, 800)]]), 2000);
    assert.equal(next.record.instances['web-0']?.used, 300, '1200 ms of CPU over 4 s');
    assert.equal(next.record.instances['web-1']?.used, 200);
  });

  test('a sample no newer than the last, or a counter that went back (restart under the same id), gives no figure', () => {
    const prev = new Map([['a', sample(2000, 500)]]);
    const stale = cpuRound([target('web-0', ['a'])], prev, new Map([['a', sample(2000, 500)]]), 2000);
    assert.deepEqual(stale.record.instances, {});
    assert.deepEqual(stale.samples.get('a'), sample(2000, 500));
    const reset = cpuRound([target('web-0', ['a'])], prev, new Map([['a', sample(4000, 10)]]), 2000);
    assert.deepEqual(reset.record.instances, {});
    assert.deepEqual(reset.samples.get('a'), sample(4000, 10), 'the new counter is the base of the next figure');
  });

  test('an instance with nothing to sample is left out, and samples of containers no longer targeted are dropped', () => {
    const prev = new Map([['gone', sample(0, 0)], ['a', sample(0, 0)]]);
    const r = cpuRound([target('web-0', []), target('web-1', ['a'], { healthy: false, limit: 100 })], prev, new Map([['a', sample(1000, 20)]]), 1000);
    assert.deepEqual(r.record.instances, { 'web-1': { job: 'web', spec: 'h1', healthy: false, used: 20, limit: 100 } });
    assert.deepEqual([...r.samples.keys()], ['a']);
  });
});
