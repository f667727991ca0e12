// Fault: etcd (one member) is SIGKILLed in the middle of a scheduling round
// and stays down longer than the agents' lease TTL, while a change waits in
// git; then it restarts on the same data. Invariant 5: losing etcd stops no
// healthy container (same container ids, same restart counts); nothing is
// rescheduled (etcd resets leases to their full TTL when it restarts); every
// write etcd acknowledged before the kill is still there; the agents recover
// on their own and apply the change. Figures: recovery time (etcd healthy →
// the waiting change running and healthy), containers stopped or restarted
// (counted), and the background sampler's duplicates and lost instances
// (sampler.ts; none allowed: nothing is rescheduled).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { etcdGateway } from '../harness/etcd';
import { LEASE_TTL_S, startFaultCluster, type FaultCluster } from './fault-cluster';
import { jobFiles } from './jobs';
import { containerIds, figure, instancesOf, Observer, restartCounts, restartedOrRecreated } from './observe';
import { seededRng } from './random';
import { assertSampled, FaultSampler, printSampled } from './sampler';

describe('fault: etcd killed and restarted under load', () => {
  let c: FaultCluster;
  let obs: Observer;
  const jobs: Record<string, number> = { web: 4, api: 2 };

  before(async () => {
    c = await startFaultCluster();
    obs = new Observer(c);
    for (const name of ['a', 'b', 'c']) await c.startAgent({ name, memory: '160M' });
    await c.merge(jobFiles({ web: { instances: 4 }, api: { instances: 2 } }), 'web and api');
    await obs.converged('initial rollout', jobs, 60_000);
  });
  after(async () => {
    await c?.stop();
  });

  test('no acknowledged placement lost, no container stopped, the waiting change applied after recovery', async () => {
    const rng = seededRng();
    console.log(`# seed ${rng.seed}`);
    const sampler = await FaultSampler.start(c);
    // Load: a scale-up being scheduled and started when etcd dies.
    jobs.web = 7;
    await c.merge(jobFiles({ web: { instances: 7 } }), 'web to 7');
    await sleep(rng.int(0, 1200));
    // What etcd acknowledged: everything a reader saw before the kill.
    const before = await obs.view();
    const acked = await rawJobs(c.etcdEndpoints[0]!);
    await c.etcd!.kill();
    const killedAt = Date.now();
    // A change lands in git while etcd is down.
    jobs.api = 3;
    await c.merge(jobFiles({ api: { instances: 3 } }), 'api to 3');
    // The outage's length is the scenario: longer than the lease TTL, on the clock.
    const outageMs = Math.max(0, LEASE_TTL_S * 1000 + 1000 - (Date.now() - killedAt));
    await sleep(outageMs);
    await c.etcd!.restart();
    const upAt = Date.now();
    const v = await obs.converged('after etcd came back', jobs, 60_000);
    const recoveryMs = Date.now() - upAt;
    const sampled = await sampler.stop(jobs);
    printSampled('etcd_restart', sampled);
    const stopped = restartedOrRecreated(before, v);
    figure('etcd_restart_containers_stopped', stopped.length);

    // 1. Every job value acknowledged before the kill is there, at its revision.
    assert.ok(acked.values.size > 0);
    assert.deepEqual((await rawJobs(c.etcdEndpoints[0]!, acked.revision)).values, acked.values);
    // 2. Nothing rescheduled: every instance placed before keeps its node.
    const placedBefore = new Map(instancesOf(before.jobs).filter((i) => i.node).map((i) => [i.instance, i.node]));
    for (const i of instancesOf(v.jobs)) if (placedBefore.has(i.instance)) assert.equal(i.node, placedBefore.get(i.instance), `${i.instance} kept its node`);
    // 3. No container that ran before was stopped or restarted.
    const runningBefore = containerIds(before, (x) => x.running);
    const now = containerIds(v);
    for (const [k, id] of runningBefore) assert.equal(now.get(k), id, `${k} still the same container`);
    const restartsBefore = restartCounts(before);
    for (const [k, n] of restartCounts(v)) if (restartsBefore.has(k)) assert.equal(n, restartsBefore.get(k), `${k} not restarted`);
    assert.deepEqual(stopped, [], 'no container stopped, recreated or restarted');
    assert.deepEqual(obs.violations, []);
    assertSampled(sampled);
    assert.equal(sampled.duplicates, 0, 'no instance ran on two nodes');
    console.log(`# etcd down ${upAt - killedAt} ms (TTL ${LEASE_TTL_S} s); converged ${recoveryMs} ms after it came back`);
    figure('etcd_restart_outage_ms', upAt - killedAt);
    figure('etcd_restart_recovery_ms', recoveryMs);
  });
});

/** The accepted jobs' raw values (by job name), now or at `revision`, read past the store. */
async function rawJobs(endpoint: string, revision?: number): Promise<{ revision: number; values: Map<string, string> }> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const res = await etcdGateway<{ header: { revision: string }; kvs?: Array<{ key: string; value?: string }> }>(endpoint, '/v3/kv/range', {
    key: b64('/ozy/jobs/'),
    range_end: b64('/ozy/jobs0'),
    ...(revision ? { revision: String(revision) } : {}),
  });
  const values = new Map((res.kvs ?? []).map((kv) => [Buffer.from(kv.key, 'base64').toString().slice('/ozy/jobs/'.length), Buffer.from(kv.value ?? '', 'base64').toString()]));
  return { revision: Number(res.header.revision), values };
}
