// Fault: a whole node dies (its agent SIGKILLed and its containers gone)
// when the survivors lack room for all of its instances. As many as fit are
// placed at once (the seed's rule), the rest stay pending, visible in `ozy
// status` with how long they have waited, and are placed as soon as a node
// with room joins. Figures: failover of what fits; pending → healthy after
// the new node registered; the background sampler's duplicates and lost
// instances (sampler.ts; none allowed: the dead node's containers are gone
// with it).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { ClusterStatus } from '../../src/agent/cluster-status';
import { ozyEntry } from '../../src/paths';
import { removeContainersOf } from '../harness/podman';
import { startFaultCluster, type FaultAgent, type FaultCluster } from './fault-cluster';
import { jobFiles } from './jobs';
import { figure, healthyOn, instancesOf, Observer, placedOn } from './observe';
import { assertSampled, FaultSampler, printSampled } from './sampler';

const run = promisify(execFile);

describe('fault: a node dies and the survivors lack room', () => {
  let c: FaultCluster;
  let obs: Observer;
  let a: FaultAgent;
  let b: FaultAgent;
  const jobs: Record<string, number> = { web: 5 };

  before(async () => {
    c = await startFaultCluster();
    obs = new Observer(c);
    // Three 32M instances per node: web's five fill a (best fit, then name) and two go to b.
    a = await c.startAgent({ name: 'a', memory: '100M' });
    b = await c.startAgent({ name: 'b', memory: '100M' });
    await c.merge(jobFiles({ web: { instances: 5 } }), 'web');
    const v = await obs.converged('initial rollout', jobs, 60_000);
    assert.equal(placedOn(v, a.node).length, 3);
    assert.equal(placedOn(v, b.node).length, 2);
  });
  after(async () => {
    await c?.stop();
  });

  test('as many as fit run at once, the rest wait (shown in ozy status) until a node with room joins', async () => {
    const before = await obs.view();
    const lost = placedOn(before, a.node);
    const sampler = await FaultSampler.start(c);
    const t0 = Date.now();
    // The machine dies: the agent and its containers.
    await a.kill();
    await removeContainersOf(c.podman.socketPath, a.node);
    const v = await obs.until('one of them healthy on b, two pending', (x) => {
      const onB = lost.filter((i) => healthyOn(x, i) === b.node);
      const pending = instancesOf(x.jobs).filter((i) => i.node === null);
      return onB.length === 1 && pending.length === 2 ? x : undefined;
    });
    const partialMs = Date.now() - t0;
    assert.equal(placedOn(v, b.node).length, 3, 'b filled to capacity');
    // ozy status shows them pending, with how long they have waited.
    const { stdout } = await run(process.execPath, [ozyEntry(), 'status', '--etcd', c.etcdEndpoints.join(','), '--json']);
    const status = JSON.parse(stdout) as ClusterStatus;
    const pending = status.instances.filter((i) => i.state === 'pending' && i.node === null);
    assert.equal(pending.length, 2);
    for (const p of pending) assert.ok(Date.parse(p.since) >= t0 - 1000 && Date.parse(p.since) <= Date.now(), `${p.instance} pending since ${p.since}`);
    assert.equal(status.jobs.find((j) => j.name === 'web')?.pending, 2);
    const { stdout: table } = await run(process.execPath, [ozyEntry(), 'status', '--etcd', c.etcdEndpoints.join(',')]);
    assert.match(table, /pending/);

    // Capacity appears: the pending instances are placed at once.
    const joined = Date.now();
    const n = await c.startAgent({ name: 'c', memory: '100M' });
    const after = await obs.converged('after c joined', jobs);
    const placedMs = Date.now() - joined;
    const sampled = await sampler.stop(jobs);
    printSampled('failover_capacity', sampled);
    assert.equal(placedOn(after, n.node).length, 2);
    assert.deepEqual(obs.violations, []);
    assertSampled(sampled);
    assert.equal(sampled.duplicates, 0, 'no instance ran on two nodes');
    console.log(`# ${lost.length} lost, 1 healthy on b after ${partialMs} ms; the 2 pending healthy on the new node ${placedMs} ms after it was started`);
    figure('failover_partial_ms', partialMs);
    figure('pending_to_healthy_after_join_ms', placedMs);
  });
});
