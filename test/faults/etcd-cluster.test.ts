// Fault: the leader of a three-member etcd cluster dies. The agents know all
// three endpoints: they move to the survivors, nothing is rescheduled (the
// new leader resets leases to their full TTL), no container stops, and a job
// merged after the loss is still scheduled and run. Figures: time from the
// leader's death to the new job healthy; the background sampler's
// duplicates and lost instances (sampler.ts; none allowed).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFaultCluster, type FaultCluster } from './fault-cluster';
import { jobFiles } from './jobs';
import { containerIds, figure, instancesOf, Observer, restartCounts, restartedOrRecreated } from './observe';
import { assertSampled, FaultSampler, printSampled } from './sampler';

describe('fault: a three-member etcd cluster loses its leader', () => {
  let c: FaultCluster;
  let obs: Observer;
  const jobs: Record<string, number> = { web: 4 };

  before(async () => {
    c = await startFaultCluster({ etcdMembers: 3 });
    obs = new Observer(c);
    for (const name of ['a', 'b', 'c']) await c.startAgent({ name, memory: '160M' });
    await c.merge(jobFiles({ web: { instances: 4 } }), 'web');
    await obs.converged('initial rollout', jobs, 60_000);
  });
  after(async () => {
    await c?.stop();
  });

  test('agents keep working on the two survivors: a new job is scheduled and run, nothing else moves', async () => {
    const before = await obs.view();
    const leader = await c.etcdCluster!.leaderIndex();
    const sampler = await FaultSampler.start(c);
    const t0 = Date.now();
    await c.etcdCluster!.kill(leader);
    jobs.after = 2;
    await c.merge(jobFiles({ after: { instances: 2 } }), 'a job after the leader died');
    const v = await obs.converged('after the leader died', jobs, 60_000);
    const newJobMs = Date.now() - t0;
    const sampled = await sampler.stop(jobs);
    printSampled('etcd_leader_loss', sampled);
    const stopped = restartedOrRecreated(before, v);
    figure('etcd_leader_loss_containers_stopped', stopped.length);
    assert.deepEqual(stopped, [], 'no container stopped, recreated or restarted');
    const placedBefore = new Map(instancesOf(before.jobs).map((i) => [i.instance, i.node]));
    for (const i of instancesOf(v.jobs)) if (placedBefore.has(i.instance)) assert.equal(i.node, placedBefore.get(i.instance), `${i.instance} kept its node`);
    const ids = containerIds(v);
    for (const [k, id] of containerIds(before)) assert.equal(ids.get(k), id, `${k} still the same container`);
    const restarts = restartCounts(v);
    for (const [k, n] of restartCounts(before)) assert.equal(restarts.get(k), n, `${k} not restarted`);
    assert.deepEqual(obs.violations, []);
    assertSampled(sampled);
    assert.equal(sampled.duplicates, 0, 'no instance ran on two nodes');
    console.log(`# leader ${leader} killed; new job healthy after ${newJobMs} ms`);
    figure('etcd_leader_loss_new_job_healthy_ms', newJobMs);
  });
});
