// Fault: the container engine's API service is killed and started again on
// the same socket (containers keep running: podman runs them under conmon).
// One agent is even restarted while the engine is away. Nothing is
// recreated or restarted: when the engine answers again both agents adopt
// the same containers (same ids, restart counts unchanged). Figures: time
// from the engine's return to every instance supervised and healthy again,
// containers recreated (counted), and the background sampler's duplicates
// and lost instances (sampler.ts; none allowed). The sampler cannot see the
// engine while it is away: its longest gap says for how long.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../harness/wait';
import { startFaultCluster, type FaultAgent, type FaultCluster } from './fault-cluster';
import { jobFiles } from './jobs';
import { containerIds, figure, Observer, placedOn, restartCounts, restartedOrRecreated } from './observe';
import { assertSampled, FaultSampler, printSampled } from './sampler';

describe('fault: container engine restarted', () => {
  let c: FaultCluster;
  let obs: Observer;
  let a: FaultAgent;
  let b: FaultAgent;
  const jobs: Record<string, number> = { web: 4 };

  before(async () => {
    c = await startFaultCluster();
    obs = new Observer(c);
    a = await c.startAgent({ name: 'a', memory: '100M' });
    // b is restarted and must resume its lease: with the 2 s default, a new
    // process that took over 2 s to start (loaded CI) found it expired, took its
    // containers for leftovers and, rightly, waited for the engine to stop them.
    b = await c.startAgent({ name: 'b', memory: '100M', leaseTtlS: 15 });
    await c.merge(jobFiles({ web: { instances: 4 } }), 'web');
    await obs.converged('initial rollout', jobs, 60_000);
  });
  after(async () => {
    await c?.stop();
  });

  test('containers adopted, not recreated, even by an agent restarted while the engine was away', async () => {
    const before = await obs.view();
    assert.ok(before.containers.some((x) => x.node === a.node) && before.containers.some((x) => x.node === b.node), 'both nodes run instances');
    const logStart = a.logs().length;
    const sampler = await FaultSampler.start(c);
    await c.podman.kill();
    // b restarts within its lease while the engine is away: it resumes the lease and must wait for the engine.
    await b.stop();
    await b.restart();
    await waitFor('a notices the engine is away', () => a.logs().slice(logStart).includes('cannot observe containers'), { timeoutMs: 15_000 });
    await waitFor('b cannot reach the engine', () => /"msg":"round failed"/.test(b.logs()) || b.logs().includes('cannot list containers'), { timeoutMs: 15_000 });
    await c.podman.start();
    const t0 = Date.now();
    const onB = placedOn(before, b.node);
    await waitFor('b adopts its instances', () => onB.every((i) => adoptedLine(b.logs(), i)), { timeoutMs: 15_000 });
    await waitFor('a observes its containers again', () => a.logs().slice(logStart).includes('container engine answers again'), { timeoutMs: 15_000 });
    const v = await obs.converged('after the engine came back', jobs);
    const adoptMs = Date.now() - t0;
    const sampled = await sampler.stop(jobs);
    printSampled('engine_restart', sampled);
    const recreated = restartedOrRecreated(before, v);
    figure('engine_restart_containers_recreated', recreated.length);
    assert.deepEqual(recreated, [], 'no container recreated or restarted');
    assert.deepEqual(containerIds(v), containerIds(before), 'the same containers');
    assert.deepEqual(restartCounts(v), restartCounts(before), 'no restart');
    assert.match(b.logs(), /"resumed":true/);
    assert.match(b.logs(), /adopting running instance/);
    assert.doesNotMatch(b.logs(), /"msg":"starting instance"/);
    assert.deepEqual(obs.violations, []);
    assertSampled(sampled);
    assert.equal(sampled.duplicates, 0, 'no instance ran on two nodes');
    figure('engine_restart_adopt_ms', adoptMs);
  });
});

function adoptedLine(logs: string, instance: string): boolean {
  return logs.split('\n').some((l) => l.includes(`"instance":"${instance}"`) && l.includes('"msg":"adopting running instance"'));
}
