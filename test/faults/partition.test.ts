// Fault: an agent cut off from etcd (a TCP proxy between them that stops
// forwarding), in the default fencing mode.
//  - shorter than its TTL (a quarter of it): nothing is rescheduled, nothing restarts;
//  - longer than its TTL: its instances run elsewhere within TTL + a poll or
//    so; its own copies keep running until it hears from etcd again (DNS
//    already names only the new copies), then it fences and registers anew.
//    The overlap of old and new copies lasts as long as the partition: the
//    figure is measured with the partition held 2 s past the takeover;
//  - a watch whose history was compacted while it was cut off re-lists.
// Each scenario runs the background sampler (sampler.ts): duplicates and
// lost instances are measured throughout, not assumed. Only the long
// partition may show duplicates, and only p's stale copies, until p fenced.
// The strict mode (--fence-on-expiry) is partition-strict.test.ts.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { compact } from '../harness/etcd';
import { waitFor } from '../harness/wait';
import { startFaultCluster, type FaultAgent, type FaultCluster } from './fault-cluster';
import { jobFiles } from './jobs';
import { containerIds, figure, healthyOn, moved, Observer, placedOn, restartCounts, restartedOrRecreated } from './observe';
import { assertSampled, FaultSampler, printSampled } from './sampler';

const TTL_S = 3;

describe('fault: agent partitioned from etcd (default fencing)', () => {
  let c: FaultCluster;
  let obs: Observer;
  let p: FaultAgent;
  let w: FaultAgent;
  const jobs: Record<string, number> = { web: 3 };

  before(async () => {
    c = await startFaultCluster();
    obs = new Observer(c);
    // Best fit fills the smallest node first: web's three 32M instances all land on p.
    p = await c.startAgent({ name: 'p', memory: '100M', leaseTtlS: TTL_S, proxy: true });
    await c.startAgent({ name: 'b', memory: '200M' });
    await c.startAgent({ name: 'c', memory: '200M' });
    // w: the only node big enough for the job added during the compaction scenario; a long lease.
    w = await c.startAgent({ name: 'w', memory: '1G', leaseTtlS: 10, proxy: true });
    await c.merge(jobFiles({ web: { instances: 3 } }), 'web');
    const v = await obs.converged('initial rollout', jobs, 60_000);
    assert.deepEqual(placedOn(v, p.node), ['web-0', 'web-1', 'web-2'], 'web fills p (best fit)');
  });
  after(async () => {
    await c?.stop();
  });

  test('cut off for a quarter of its TTL: nothing rescheduled, nothing restarted', async () => {
    const before = await obs.view();
    const lease = before.nodes.find((n) => n.name === p.node)!.leaseId;
    const sampler = await FaultSampler.start(c);
    p.proxy!.cut('blackhole');
    // The scenario is the partition's length: a quarter of the TTL, on the clock (a keepalive
    // goes every third of it, so at least one is held up, and the lease keeps a wide margin).
    await sleep((TTL_S * 1000) / 4);
    p.proxy!.restore();
    // Then past the moment the lease would have expired without a renewal, and look again.
    await sleep(TTL_S * 1000);
    const v = await obs.converged('after the short partition', jobs);
    const sampled = await sampler.stop(jobs);
    printSampled('partition_short', sampled);
    const rescheduled = moved(before, v);
    const restarted = restartedOrRecreated(before, v);
    figure('partition_short_rescheduled', rescheduled.length);
    figure('partition_short_restarted', restarted.length);
    assert.equal(v.nodes.find((n) => n.name === p.node)?.leaseId, lease, 'same lease: it never expired');
    assert.deepEqual(rescheduled, [], 'nothing rescheduled');
    assert.deepEqual(restarted, [], 'no container recreated or restarted');
    assert.deepEqual(placedOn(v, p.node), placedOn(before, p.node), 'nothing rescheduled');
    assert.deepEqual(containerIds(v), containerIds(before), 'no container recreated');
    assert.deepEqual(restartCounts(v), restartCounts(before), 'no restart');
    assert.doesNotMatch(p.logs(), /lease lost/);
    assertSampled(sampled);
    assert.equal(sampled.duplicates, 0, 'no instance ran on two nodes');
  });

  test('cut off past its TTL: instances run elsewhere within TTL + a poll; on reconnect it fences and registers anew', async () => {
    const before = await obs.view();
    const held = placedOn(before, p.node);
    const lease = before.nodes.find((n) => n.name === p.node)!.leaseId;
    const sampler = await FaultSampler.start(c);
    const t0 = Date.now();
    // Default mode: p's copies run on until it hears from etcd again and fences, before registering anew.
    const staleGone = sampler.allowStale(p.node, t0);
    p.proxy!.cut('blackhole');
    await obs.until(`${p.node}'s lease expired`, (v) => !v.nodes.some((n) => n.name === p.node), TTL_S * 1000 + 10_000);
    const expiredMs = Date.now() - t0;
    await obs.until('its instances healthy elsewhere', (v) => held.every((i) => { const on = healthyOn(v, i); return on !== undefined && on !== p.node; }));
    const failoverAt = Date.now();
    const failoverMs = failoverAt - t0;
    // Default mode: its copies still run while it cannot hear from etcd.
    await sleep(2000);
    const restoredAt = Date.now();
    p.proxy!.restore();
    await obs.until(`${p.node} registered under a new lease`, (x) => x.nodes.some((n) => n.name === p.node && n.leaseId !== lease));
    staleGone();
    const v = await obs.converged('after the long partition', jobs);
    // The cluster view can converge before the sampler's next engine list: sample on until one sees p's old copies gone (or give up and fail below).
    await waitFor(`a sample without ${p.node}'s old copies`, () => sampler.goneFrom(p.node, held, restoredAt) !== undefined, { timeoutMs: 20_000, intervalMs: 100 }).catch(() => undefined);
    const sampled = await sampler.stop(jobs);
    printSampled('partition_long_default', sampled);
    const gone = sampler.goneFrom(p.node, held, restoredAt);
    assert.ok(gone !== undefined, `a sample after the reconnect saw ${p.node}'s old copies gone`);
    const fencedAfterMs = gone - restoredAt;
    assert.ok(sampler.sawRunning(p.node, held, failoverAt, restoredAt), `${p.node}'s old copies seen still running after the takeover (default mode)`);
    assert.deepEqual(placedOn(v, p.node), [], 'what others took over stays theirs');
    assert.match(p.logs(), /lease lost: stopping local instances/);
    assert.deepEqual(obs.violations, []);
    assertSampled(sampled);
    const overlap = sampler.overlapMs(held);
    assert.ok(overlap > 0, 'the sampler saw the old and new copies overlap');
    console.log(`# partition ${restoredAt - t0} ms: lease gone after ${expiredMs} ms, instances healthy elsewhere after ${failoverMs} ms, old copies gone ${fencedAfterMs} ms after reconnecting; overlap ${overlap} ms`);
    figure('partition_long_default_failover_ms', failoverMs);
    figure('partition_long_default_partition_ms', restoredAt - t0);
    figure('partition_long_default_overlap_ms', overlap);
    figure('partition_long_default_fence_after_reconnect_ms', fencedAfterMs);
    figure('partition_lease_ttl_ms', TTL_S * 1000);
  });

  test('a watch whose history was compacted while cut off re-lists and converges', async () => {
    const sampler = await FaultSampler.start(c);
    w.proxy!.cut('refuse');
    try {
      // Only w can hold a 600M instance; w is alive (10 s lease) but cannot hear about it.
      jobs.big = 1;
      await c.merge(jobFiles({ big: { instances: 1, memory: '600M' } }), 'big');
      const placed = await obs.until('big placed on w', (v) => v.jobs.get('big')?.instances[0]?.node === w.node && v.revision);
      await compact(c.etcdEndpoints[0]!, placed);
    } finally {
      w.proxy!.restore();
    }
    const v = await obs.converged('after compaction', jobs);
    assert.equal(healthyOn(v, 'big-0'), w.node);
    assert.match(w.logs(), /job watch history was compacted: re-listing jobs/);
    assert.doesNotMatch(w.logs(), /lease lost/, 'the lease held: it was the watch that recovered');
    const sampled = await sampler.stop(jobs);
    printSampled('partition_compacted_watch', sampled);
    assertSampled(sampled);
    assert.equal(sampled.duplicates, 0, 'no instance ran on two nodes');
  });
});
