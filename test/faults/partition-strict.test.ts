// Fault: partitions and outages with strict fencing (--fence-on-expiry) on
// one agent, p. Strict fencing stops p's instances as soon as a whole TTL
// has passed without a lease renewal, which is no later than etcd can expire
// the lease, so the others start the new copies after the old ones stopped:
// the overlap is bounded by the time a stop takes, not by the partition.
// The first scenario asserts that bound (OVERLAP BOUND below) on the overlap
// measured by the background sampler (sampler.ts).
// Its cost, shown by the second scenario: when etcd is down for everyone
// longer than the TTL, p stops its instances too (default-mode agents keep
// theirs), and starts them again once etcd is back and its lease survived.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startFaultCluster, type FaultAgent, type FaultCluster } from './fault-cluster';
import { jobFiles } from './jobs';
import { containerIds, figure, healthyOn, listContainers, Observer, placedOn, restartCounts, restartedOrRecreated } from './observe';
import { assertSampled, FaultSampler, printSampled } from './sampler';

const TTL_S = 3;
/** How often a strict agent asks whether a whole TTL passed without a renewal: TTL/10, clamped to 100–500 ms (src/agent/agent.ts, watchLeaseClock). */
const FENCE_CHECK_MS = Math.max(100, Math.min(500, (TTL_S * 1000) / 10));

// OVERLAP BOUND. Let r be the send time of the last renewal that succeeded
// before the cut.
//  - p fences at its first check after r + TTL: at F ≤ r + TTL + FENCE_CHECK_MS.
//  - etcd received that renewal at r' ≥ r and expires the lease no earlier
//    than r' + TTL; the others place p's instances only after the expiry, so
//    no new copy runs before N ≥ r + TTL.
//  - p's old copies are all gone at F + S, S being how long its fence took to
//    stop them (read from its log: sequential stops, each at most the stop
//    timeout, prompt here since the jobs trap SIGTERM).
// So the overlap, max(0, F + S − N), is at most FENCE_CHECK_MS + S, whatever
// the partition's length. Asserted: what the samples prove the overlap
// lasted at least (a list sees the engine somewhere between its send time
// and its answer: from the answer of the first list that saw two copies to
// the send time of the last one) is ≤ FENCE_CHECK_MS + S. The figure
// printed beside it is the upper estimate (to the first sample that saw one
// copy again: the real overlap plus at most one sampling gap). Assumes p's clock and etcd's advance at the same rate
// (one machine here). A fence that comes late (a check that does not run, a
// fence that waits for the reconnect) makes the overlap last as long as the
// partition past the takeover (2 s here) and fails the assertion.

describe('fault: strict fencing (--fence-on-expiry)', () => {
  let c: FaultCluster;
  let obs: Observer;
  let p: FaultAgent;
  const jobs: Record<string, number> = { web: 3 };

  before(async () => {
    c = await startFaultCluster();
    obs = new Observer(c);
    // Best fit fills the smallest node first: web's three 32M instances land on p.
    p = await c.startAgent({ name: 'p', memory: '100M', leaseTtlS: TTL_S, proxy: true, strict: true });
    await c.startAgent({ name: 'b', memory: '200M' });
    await c.startAgent({ name: 'c', memory: '200M' });
    await c.merge(jobFiles({ web: { instances: 3 } }), 'web');
    const v = await obs.converged('initial rollout', jobs, 60_000);
    assert.deepEqual(placedOn(v, p.node), ['web-0', 'web-1', 'web-2'], 'web fills p (best fit)');
  });
  after(async () => {
    await c?.stop();
  });

  test('cut off past its TTL: it stops its copies before the new ones start elsewhere', async () => {
    const before = await obs.view();
    const held = placedOn(before, p.node);
    const sampler = await FaultSampler.start(c);
    const t0 = Date.now();
    // While cut off p's copies may overlap the new ones (by the bound above); after the reconnect, none.
    const cutOff = sampler.allowStale(p.node, t0);
    p.proxy!.cut('blackhole');
    await obs.until(`${p.node}'s lease expired`, (v) => !v.nodes.some((n) => n.name === p.node), TTL_S * 1000 + 10_000);
    const expiredMs = Date.now() - t0;
    await obs.until('its instances healthy elsewhere', (v) => held.every((i) => { const on = healthyOn(v, i); return on !== undefined && on !== p.node; }));
    const failoverMs = Date.now() - t0;
    // Hold the partition as long as in the default-mode scenario (2 s past the takeover).
    await sleep(2000);
    const restoredAt = Date.now();
    cutOff();
    p.proxy!.restore();
    await obs.converged('after the partition', jobs);
    await obs.until(`${p.node} registered anew`, (v) => v.nodes.some((n) => n.name === p.node));
    const sampled = await sampler.stop(jobs);
    printSampled('partition_long_strict', sampled);
    assert.match(p.logs(), /no lease renewal for a whole TTL: fencing/);
    assert.ok(sampler.sawRunning(p.node, held, 0, t0), `a sample before the cut saw ${p.node} run ${held.join(', ')}`);
    const gone = sampler.goneFrom(p.node, held, t0);
    assert.ok(gone !== undefined, `a sample saw ${p.node}'s old copies gone`);
    assert.ok(gone < restoredAt, 'its copies stopped while it was still cut off');
    const fencedMs = gone - t0;
    const stopMs = fenceStopMs(p.logs(), t0);
    const overlap = sampler.overlapMs(held);
    const overlapAtLeast = sampler.overlapMs(held, 'proven');
    const bound = FENCE_CHECK_MS + stopMs;
    console.log(`# partition ${restoredAt - t0} ms: old copies gone ${fencedMs} ms after the cut (the fence stopped them in ${stopMs} ms), lease gone after ${expiredMs} ms, instances healthy elsewhere after ${failoverMs} ms; overlap ${overlapAtLeast}–${overlap} ms (sampling gap ≤ ${sampler.gapMsMax(t0, restoredAt)} ms), bound ${bound} ms = check ${FENCE_CHECK_MS} + stop ${stopMs}`);
    figure('partition_long_strict_fenced_ms', fencedMs);
    figure('partition_long_strict_failover_ms', failoverMs);
    figure('partition_long_strict_fence_stop_ms', stopMs);
    figure('partition_long_strict_overlap_ms', overlap);
    figure('partition_long_strict_overlap_proven_ms', overlapAtLeast);
    figure('partition_long_strict_overlap_bound_ms', bound);
    assert.ok(overlapAtLeast <= bound, `old and new copies overlapped at least ${overlapAtLeast} ms, more than the bound ${bound} ms (fence check ${FENCE_CHECK_MS} + stop ${stopMs})`);
    assert.deepEqual(obs.violations, []);
    assertSampled(sampled);
  });

  test('etcd down for everyone past the TTL: only the strict agent stops its instances, and restarts them when its lease survives', async () => {
    // Put web back on p: it is empty after the partition, so scale web up into it.
    jobs.web = 6;
    await c.merge(jobFiles({ web: { instances: 6 } }), 'web to 6');
    const before = await obs.converged('web at 6', jobs);
    const onP = placedOn(before, p.node);
    assert.ok(onP.length > 0, 'p holds instances again');
    const others = containerIds(before, (x) => x.node !== p.node);
    const othersRestarts = new Map([...restartCounts(before)].filter(([k]) => !k.startsWith(`${p.node}/`)));
    const sampler = await FaultSampler.start(c);
    const t0 = Date.now();
    await c.etcd!.kill();
    // The scenario is the outage's length: longer than the TTL, on the clock.
    await sleep(TTL_S * 1000 + 1500);
    const pRunning = new Set((await listContainers(c.podman.socketPath, c.podman.prefix)).filter((x) => x.node === p.node && x.running).map((x) => x.instance));
    await c.etcd!.restart();
    const v = await obs.converged('after etcd came back', jobs);
    const recoveredMs = Date.now() - t0;
    const sampled = await sampler.stop(jobs);
    printSampled('etcd_outage_strict', sampled);
    const stopped = onP.filter((i) => !pRunning.has(i));
    const othersTouched = restartedOrRecreated(before, v).filter((k) => !k.startsWith(`${p.node}/`));
    figure('etcd_outage_strict_instances_stopped', stopped.length);
    figure('etcd_outage_others_stopped_or_restarted', othersTouched.length);
    assert.deepEqual(stopped, onP, 'the strict agent had stopped its instances during the outage');
    assert.deepEqual(othersTouched, [], 'default-mode agents stopped and restarted nothing');
    assertSampled(sampled);
    assert.equal(sampled.duplicates, 0, 'no instance ran on two nodes: nothing was rescheduled');
    assert.deepEqual(placedOn(v, p.node), onP, 'nothing rescheduled: every lease survived the outage');
    assert.deepEqual(containerIds(v, (x) => x.node !== p.node), others, 'default-mode agents kept their containers');
    assert.deepEqual(new Map([...restartCounts(v)].filter(([k]) => !k.startsWith(`${p.node}/`))), othersRestarts);
    assert.match(p.logs(), /lease renewed after fencing: it survived/);
    console.log(`# etcd down ${TTL_S * 1000 + 1500} ms: the strict agent's ${onP.length} instances back ${recoveredMs} ms after the outage began`);
    figure('etcd_outage_strict_recovered_ms', recoveredMs);
  });
});

/**
 * How long the strict fence took to stop the local instances (ms): from the
 * first fencing line at or after `since` in the agent's log to the next
 * "fenced: local instances stopped" (pino's `time`, epoch ms).
 */
function fenceStopMs(logs: string, since: number): number {
  const lines = logs.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { time: number; msg: string });
  const start = lines.find((l) => l.time >= since && l.msg.startsWith('no lease renewal for a whole TTL: fencing'));
  assert.ok(start, 'the agent logged its fence');
  const done = lines.find((l) => l.time >= start.time && l.msg === 'fenced: local instances stopped');
  assert.ok(done, 'the agent logged its fence done');
  return done.time - start.time;
}
