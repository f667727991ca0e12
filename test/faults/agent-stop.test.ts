// Fault: an agent is frozen (SIGSTOP) for longer than its lease TTL, then
// thawed (SIGCONT). While it is frozen its lease expires, its node key, status
// and DNS records vanish with it, and the others take its instances over.
// Thawed, it must not be believed: etcd refuses its writes on the dead lease,
// it must fence (stop its stale copies) and register anew, and it must
// neither unpublish nor move back what the others took over. Figures:
// failover time while it is frozen, and how long after SIGCONT its stale
// copies were gone; and, from the background sampler (sampler.ts), the
// duplicates (the frozen node's copies beside the new ones, expected from
// SIGSTOP until they are gone after SIGCONT; any other is a failure) and
// lost instances.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dnsKey } from '../../src/network/dns';
import { LEASE_TTL_S, startFaultCluster, type FaultAgent, type FaultCluster } from './fault-cluster';
import { EtcdHistory } from './etcd-history';
import { jobFiles } from './jobs';
import { containerIds, DNS_ZONE, figure, healthyOn, instancesOf, listContainers, Observer, placedOn } from './observe';
import { assertSampled, FaultSampler, printSampled } from './sampler';

describe('fault: agent frozen (SIGSTOP) longer than its lease, then thawed', () => {
  let c: FaultCluster;
  let obs: Observer;
  let history: EtcdHistory;
  const agents: FaultAgent[] = [];

  before(async () => {
    c = await startFaultCluster();
    obs = new Observer(c);
    for (const name of ['a', 'b', 'c']) agents.push(await c.startAgent({ name, memory: '160M' }));
    await c.merge(jobFiles({ web: { instances: 6 } }), 'web');
    await obs.converged('initial rollout', { web: 6 }, 60_000);
    history = await EtcdHistory.start(c.etcdEndpoints);
  });
  after(async () => {
    await history?.stop();
    await c?.stop();
  });

  test('its writes are refused, it fences and re-registers, and what others took over stays theirs', async () => {
    const before = await obs.view();
    const victim = agents.reduce((best, a) => (placedOn(before, a.node).length > placedOn(before, best.node).length ? a : best));
    const held = placedOn(before, victim.node);
    assert.ok(held.length > 0, 'the victim holds instances');
    const oldLease = before.nodes.find((n) => n.name === victim.node)!.leaseId;
    const jobOf = new Map(instancesOf(before.jobs).map((i) => [i.instance, i.job.spec.name]));
    const heldDns = new Set(held.map((i) => dnsKey(DNS_ZONE, jobOf.get(i)!, i)));

    const sampler = await FaultSampler.start(c);
    const t0 = Date.now();
    // Frozen, it cannot stop its copies: they may run beside the new ones until it fenced after the thaw.
    const staleGone = sampler.allowStale(victim.node, t0);
    victim.signal('SIGSTOP');
    // Frozen past its TTL: wait for etcd to drop the lease and the others to take over.
    const expiredAt = await obs.until(`${victim.node}'s lease expired`, (v) => !v.nodes.some((n) => n.name === victim.node) && v.revision, LEASE_TTL_S * 1000 + 10_000);
    await obs.until('its instances healthy elsewhere', (v) => held.every((i) => { const on = healthyOn(v, i); return on !== undefined && on !== victim.node; }));
    const failoverMs = Date.now() - t0;
    // Its copies still run: a frozen agent cannot stop them (DNS no longer names them).
    const stale = (await listContainers(c.podman.socketPath, c.podman.prefix)).filter((x) => x.node === victim.node && x.running);
    assert.ok(stale.length > 0, 'the frozen agent\'s containers still run');
    const takenView = await obs.view();
    const newHomes = new Map(held.map((i) => [i, healthyOn(takenView, i)!]));
    const newIds = containerIds(takenView, (x) => held.includes(x.instance) && x.node !== victim.node);

    const thawRevision = (await obs.view({ containers: false })).revision;
    const thawedAt = Date.now();
    victim.signal('SIGCONT');
    await obs.until('the thawed agent gone from its old lease and registered anew', (v) => {
      const n = v.nodes.find((x) => x.name === victim.node);
      return n !== undefined && n.leaseId !== oldLease;
    });
    const fencedMs = await waitStaleGone(c, victim.node, held, thawedAt);
    staleGone();
    const settled = await obs.converged('after the thaw', { web: 6 });
    const sampled = await sampler.stop({ web: 6 });
    await history.caughtUp(settled.revision);

    // 1. The others' takeover stands: same homes, same containers (nothing moved back or restarted).
    for (const i of held) assert.equal(healthyOn(settled, i), newHomes.get(i), `${i} stays on ${newHomes.get(i)}`);
    assert.deepEqual(containerIds(settled, (x) => held.includes(x.instance) && x.node !== victim.node), newIds);
    assert.deepEqual(placedOn(settled, victim.node).filter((i) => held.includes(i)), [], 'none moved back to the thawed node');
    // 2. The lease took the victim's DNS records with it, at expiry.
    const atExpiry = history.events.filter((e) => heldDns.has(e.key) && e.revision <= expiredAt);
    for (const key of heldDns) {
      const last = atExpiry.filter((e) => e.key === key).pop();
      assert.equal(last?.type, 'delete', `${key} deleted when the lease expired`);
    }
    // 3. No stale write accepted after the thaw: nothing on the old lease, nothing for the
    //    instances it lost (their status under its name, their DNS records: neither put nor deleted
    //    by anyone, since their new homes stayed healthy), no schedule commit moving them.
    const afterThaw = history.after(thawRevision);
    assert.deepEqual(afterThaw.filter((e) => e.type === 'put' && e.lease === oldLease).map((e) => e.key), [], 'no put on the dead lease');
    const victimStatus = `/ozy/status/${victim.node}/`;
    assert.deepEqual(
      afterThaw.filter((e) => e.type === 'put' && held.some((i) => e.key === victimStatus + i)).map((e) => e.key),
      [],
      'no status of a lost instance written under the victim',
    );
    assert.deepEqual(afterThaw.filter((e) => heldDns.has(e.key)).map((e) => `${e.type} ${e.key}`), [], 'the new homes\' DNS records untouched');
    assert.match(victim.logs(), /lease lost: stopping local instances and registering anew/, 'etcd told it its lease was gone');
    assert.deepEqual(obs.violations, []);
    printSampled('sigstop', sampled);
    assertSampled(sampled);
    assert.ok(sampled.duplicates > 0, 'the sampler saw the frozen copies beside the new ones (the DNS-fenced overlap)');
    console.log(`# ${victim.node} held ${held.length}; lease expired and instances healthy elsewhere ${failoverMs} ms after SIGSTOP; stale copies gone ${fencedMs} ms after SIGCONT`);
    figure('sigstop_failover_ms', failoverMs);
    figure('sigcont_to_fenced_ms', fencedMs);
  });
});

/** Waits until the node runs none of `instances`; returns ms since `since`. */
async function waitStaleGone(c: FaultCluster, node: string, instances: string[], since: number): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = await listContainers(c.podman.socketPath, c.podman.prefix);
    if (!rows.some((x) => x.node === node && instances.includes(x.instance))) return Date.now() - since;
    if (Date.now() > deadline) throw new Error(`${node} still has containers of ${instances.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
