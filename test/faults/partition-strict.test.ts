// Fault: partitions and outages with strict fencing (--fence-on-expiry) on
// one agent, p. Strict fencing stops p's instances as soon as a whole TTL
// has passed without a lease renewal, which is no later than etcd can expire
// the lease, so the others start the new copies after the old ones stopped:
// the overlap is bounded by the time a stop takes, not by the partition.
// Its cost, shown by the second scenario: when etcd is down for everyone
// longer than the TTL, p stops its instances too (default-mode agents keep
// theirs), and starts them again once etcd is back and its lease survived.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startFaultCluster, type FaultAgent, type FaultCluster } from './fault-cluster';
import { jobFiles } from './jobs';
import { containerIds, CopySampler, figure, healthyOn, listContainers, Observer, placedOn, restartCounts } from './observe';

const TTL_S = 3;

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
    const sampler = new CopySampler(c);
    const t0 = Date.now();
    p.proxy!.cut('blackhole');
    await obs.until(`${p.node}'s lease expired`, (v) => !v.nodes.some((n) => n.name === p.node), TTL_S * 1000 + 10_000);
    const expiredMs = Date.now() - t0;
    await obs.until('its instances healthy elsewhere', (v) => held.every((i) => { const on = healthyOn(v, i); return on !== undefined && on !== p.node; }));
    const failoverMs = Date.now() - t0;
    // Hold the partition as long as in the default-mode scenario (2 s past the takeover).
    await sleep(2000);
    const restoredAt = Date.now();
    p.proxy!.restore();
    await obs.converged('after the partition', jobs);
    await sampler.stop();
    const fencedMs = (sampler.goneFrom(p.node, held, t0) ?? t0) - t0;
    const overlap = sampler.overlapMs(held);
    await obs.until(`${p.node} registered anew`, (v) => v.nodes.some((n) => n.name === p.node));
    assert.match(p.logs(), /no lease renewal for a whole TTL: fencing/);
    assert.ok(fencedMs < restoredAt - t0, 'its copies stopped while it was still cut off');
    assert.deepEqual(obs.violations, []);
    console.log(`# partition ${restoredAt - t0} ms: old copies gone ${fencedMs} ms after the cut, lease gone after ${expiredMs} ms, instances healthy elsewhere after ${failoverMs} ms; overlap ${overlap} ms`);
    figure('partition_long_strict_fenced_ms', fencedMs);
    figure('partition_long_strict_failover_ms', failoverMs);
    figure('partition_long_strict_overlap_ms', overlap);
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
    const t0 = Date.now();
    await c.etcd!.kill();
    // The scenario is the outage's length: longer than the TTL, on the clock.
    await sleep(TTL_S * 1000 + 1500);
    const pRunning = (await listContainers(c.podman.socketPath, c.podman.prefix)).filter((x) => x.node === p.node && x.running).length;
    await c.etcd!.restart();
    const v = await obs.converged('after etcd came back', jobs);
    const recoveredMs = Date.now() - t0;
    assert.equal(pRunning, 0, 'the strict agent had stopped its instances during the outage');
    assert.deepEqual(placedOn(v, p.node), onP, 'nothing rescheduled: every lease survived the outage');
    assert.deepEqual(containerIds(v, (x) => x.node !== p.node), others, 'default-mode agents kept their containers');
    assert.deepEqual(new Map([...restartCounts(v)].filter(([k]) => !k.startsWith(`${p.node}/`))), othersRestarts);
    assert.match(p.logs(), /lease renewed after fencing: it survived/);
    console.log(`# etcd down ${TTL_S * 1000 + 1500} ms: the strict agent's ${onP.length} instances back ${recoveredMs} ms after the outage began`);
    figure('etcd_outage_strict_instances_stopped', onP.length);
    figure('etcd_outage_strict_recovered_ms', recoveredMs);
  });
});
