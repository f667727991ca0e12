// The CPU sampling loop against fake stats and a fake record writer: it
// rests while there is nothing to sample, asks a few containers at a time,
// survives failing calls and leaves no timer behind.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { CpuSampler } from '../../../src/agent/cpu-sampler';
import type { CpuTarget } from '../../../src/agent/cpu-sampling';
import type { NodeCpu } from '../../../src/model/autoscale';
import type { ContainerStats } from '../../../src/runtime';
import { waitFor } from '../../harness/wait';
import { silentLog } from './fake-node';

const until = (what: string, probe: () => boolean) => waitFor(what, () => probe() || undefined, { timeoutMs: 5000, intervalMs: 2 });

/** Containers burning a fixed number of millicores since the fake was made; calls take a few ms. */
class FakeStats {
  readonly rate = new Map<string, number>();
  readonly failing = new Set<string>();
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  private readonly t0 = Date.now();

  readonly stats = async (id: string): Promise<ContainerStats> => {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, 2));
      if (this.failing.has(id)) throw new Error(`stats of ${id} failed`);
      const now = Date.now();
      return { readAt: new Date(now).toISOString(), memoryUsage: 0, memoryLimit: 0, cpuTotalNs: (this.rate.get(id) ?? 0) * (now - this.t0) * 1000 };
    } finally {
      this.inFlight--;
    }
  };
}

function target(instance: string, containers: string[]): CpuTarget {
  return { instance, job: 'web', spec: 'h1', healthy: true, limit: 1000, containers };
}

const samplers: CpuSampler[] = [];
afterEach(async () => {
  await Promise.all(samplers.splice(0).map((s) => s.close()));
});

type StatsMany = (ids: readonly string[]) => Promise<Map<string, ContainerStats> | undefined>;

function setup(targets: () => CpuTarget[], opts: { concurrency?: number; failWrites?: () => boolean; statsMany?: (fake: FakeStats) => StatsMany } = {}) {
  const fake = new FakeStats();
  const written: Array<NodeCpu | null> = [];
  let targetCalls = 0;
  const sampler = new CpuSampler({
    sampleMs: 15,
    targets: () => {
      targetCalls++;
      return targets();
    },
    stats: fake.stats,
    ...(opts.statsMany ? { statsMany: opts.statsMany(fake) } : {}),
    publish: async (r) => {
      if (opts.failWrites?.()) throw new Error('etcd unavailable (fake)');
      written.push(r);
    },
    log: silentLog,
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
  });
  samplers.push(sampler);
  return { sampler, fake, written, targetCalls: () => targetCalls };
}

const lastRecord = (written: Array<NodeCpu | null>): NodeCpu | null | undefined => written[written.length - 1];

describe('CpuSampler', () => {
  test('nothing to sample: no stats call, one deletion (an earlier process may have left a record), then it rests', async () => {
    const { sampler, fake, written, targetCalls } = setup(() => []);
    sampler.poke();
    await until('the first round done', () => sampler.idle);
    assert.deepEqual(written, [null]);
    assert.equal(fake.calls, 0);
    assert.equal(targetCalls(), 1);
    // Poked again: the key is known absent, so not even etcd is asked.
    sampler.poke();
    await until('the second round done', () => sampler.idle);
    assert.deepEqual(written, [null]);
    assert.equal(fake.calls, 0);
  });

  test('publishes each instance\'s millicores once it has two samples, asking a few containers at a time', async () => {
    const targets = Array.from({ length: 10 }, (_, i) => target(`web-${i}`, [`c${i}`]));
    const { sampler, fake, written } = setup(() => targets, { concurrency: 3 });
    for (let i = 0; i < 10; i++) fake.rate.set(`c${i}`, i * 100);
    sampler.poke();
    await until('a record of all ten', () => Object.keys(lastRecord(written)?.instances ?? {}).length === 10);
    // The first round has no figure yet: it only clears what an earlier process may have left, once.
    assert.deepEqual(written.slice(0, 2).map((r) => r === null), [true, false]);
    assert.equal(written.filter((r) => r === null).length, 1);
    const rec = lastRecord(written)!;
    assert.equal(rec.sampleMs, 15);
    for (let i = 0; i < 10; i++) {
      const used = rec.instances[`web-${i}`]!.used;
      assert.ok(Math.abs(used - i * 100) <= 1, `web-${i}: ${used} millicores, expected ${i * 100}`);
    }
    assert.ok(fake.maxInFlight <= 3, `at most 3 stats calls at once (saw ${fake.maxInFlight})`);
  });

  test('a failing stats call costs its instance the round, nothing else', async () => {
    const { sampler, fake, written } = setup(() => [target('web-0', ['a']), target('web-1', ['b'])]);
    fake.rate.set('a', 200);
    fake.failing.add('b');
    sampler.poke();
    await until('a record', () => lastRecord(written)?.instances['web-0'] !== undefined);
    assert.equal(lastRecord(written)!.instances['web-1'], undefined);
    fake.failing.delete('b');
    await until('web-1 measured once its calls work', () => lastRecord(written)?.instances['web-1'] !== undefined);
  });

  test('when the instances go, the record is deleted once and the loop rests; a poke starts it again', async () => {
    let targets = [target('web-0', ['a'])];
    const { sampler, fake, written } = setup(() => targets);
    sampler.poke();
    await until('a record', () => lastRecord(written)?.instances['web-0'] !== undefined);
    const before = written.length;
    targets = [];
    await until('the loop resting', () => sampler.idle);
    assert.deepEqual(written.slice(before), [null], 'deleted once');
    const calls = fake.calls;
    targets = [target('web-0', ['a'])];
    sampler.poke();
    await until('measured again', () => lastRecord(written)?.instances['web-0'] !== undefined);
    assert.ok(fake.calls >= calls + 2);
  });

  test('a failed write is tried again next round; close() leaves no timer and no call after it', async () => {
    let failing = true;
    const { sampler, fake, written } = setup(() => [target('web-0', ['a'])], { failWrites: () => failing });
    sampler.poke();
    await until('a few rounds', () => fake.calls >= 4);
    assert.equal(written.length, 0);
    failing = false;
    await until('the record written', () => written.length > 0);
    await sampler.close();
    assert.ok(sampler.idle);
    const calls = fake.calls;
    sampler.poke();
    assert.ok(sampler.idle, 'a closed sampler does not start again');
    assert.equal(fake.calls, calls);
  });

  test('one batch request per round when the engine has one; per-container calls for a round whose batch failed', async () => {
    let batches = 0;
    let failBatch = false;
    const { sampler, fake, written } = setup(() => [target('web-0', ['a']), target('web-1', ['b'])], {
      statsMany: (f) => async (ids) => {
        batches++;
        if (failBatch) throw new Error('batch refused (fake)');
        return new Map(await Promise.all(ids.map(async (id) => [id, await f.stats(id)] as const)));
      },
    });
    fake.rate.set('a', 300);
    sampler.poke();
    await until('both measured', () => Object.keys(lastRecord(written)?.instances ?? {}).length === 2);
    assert.equal(lastRecord(written)!.instances['web-0']!.used, 300);
    assert.equal(fake.calls, 2 * batches, 'every sample came through a batch');
    failBatch = true;
    const before = { batches, calls: fake.calls, writes: written.length };
    await until('two more rounds', () => written.length >= before.writes + 2);
    assert.ok(batches > before.batches, 'the batch is tried every round');
    assert.ok(fake.calls >= before.calls + 4, 'and each failed batch is followed by one call per container');
    assert.equal(Object.keys(lastRecord(written)!.instances).length, 2, 'the figures go on');
  });

  test('an engine without a batch endpoint (dockerd) is asked once, then per container', async () => {
    let batches = 0;
    const { sampler, fake, written } = setup(() => [target('web-0', ['a'])], {
      statsMany: () => async () => {
        batches++;
        return undefined;
      },
    });
    sampler.poke();
    await until('measured', () => lastRecord(written)?.instances['web-0'] !== undefined);
    await until('a few rounds', () => fake.calls >= 4);
    assert.equal(batches, 1);
  });
});
