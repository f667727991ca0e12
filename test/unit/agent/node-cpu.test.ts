// The node agent's CPU sampling against the in-memory engine: only
// instances of autoscaled jobs are sampled, the record follows them, and a
// node without any makes no stats call.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { NodeAgent } from '../../../src/agent/node-agent';
import type { NodeCpu } from '../../../src/model/autoscale';
import type { AcceptedJob } from '../../../src/model/cluster';
import { waitFor } from '../../harness/wait';
import { FAST, FakeRuntime, FakeSink, acceptedJob, container, silentLog } from './fake-node';

const NODE = 'n1';
const agents: NodeAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
});

const until = (what: string, probe: () => boolean) => waitFor(what, () => probe() || undefined, { timeoutMs: 5000, intervalMs: 2 });

function setup(): { agent: NodeAgent; rt: FakeRuntime; sink: FakeSink; written: Array<NodeCpu | null> } {
  const rt = new FakeRuntime(NODE);
  const sink = new FakeSink();
  const written: Array<NodeCpu | null> = [];
  const agent = new NodeAgent({
    node: NODE,
    address: '192.0.2.1',
    dnsZone: 'ozy.local',
    engine: rt,
    pods: rt,
    sink,
    log: silentLog,
    timing: FAST,
    cpuSampleMs: 10,
    publishCpu: async (r) => {
      written.push(r);
    },
  });
  agents.push(agent);
  return { agent, rt, sink, written };
}

function autoscaled(job: AcceptedJob): AcceptedJob {
  return { ...job, spec: { ...job.spec, autoscale: { min: 1, max: 5, cpuPercent: 50, scaleDownAfterMs: 60_000 } } };
}

const last = (written: Array<NodeCpu | null>) => written[written.length - 1];

describe('node CPU sampling', () => {
  test('instances of autoscaled jobs are measured (pod sum, limit, spec, health); other jobs\' are not asked about', async () => {
    const { agent, rt, sink, written } = setup();
    rt.cpuRate = (name) => (name === 'busy' ? 400 : name === 'side' ? 50 : 0);
    const scaled = autoscaled(acceptedJob('api', [container('busy', { cpu: 500 }), container('side', { cpu: 100 })], [NODE, NODE]));
    const plain = acceptedJob('plain', [container('idle', { cpu: 200 })], [NODE]);
    await agent.reconcile([scaled, plain]);
    await until('both api instances measured', () => Object.keys(last(written)?.instances ?? {}).length === 2);
    const rec = last(written)!;
    assert.equal(rec.sampleMs, 10);
    for (const name of ['api-0', 'api-1']) {
      const m = rec.instances[name]!;
      assert.equal(m.job, 'api');
      assert.equal(m.spec, scaled.specHash);
      assert.equal(m.limit, 600);
      assert.equal(m.healthy, sink.status.get(name)?.state === 'healthy');
      assert.ok(Math.abs(m.used - 450) <= 20, `${name}: ${m.used} millicores, expected about 450`);
    }
    assert.equal(rec.instances['plain-0'], undefined);
    // Every stats call was about an api container: the plain job's is never asked.
    const plainId = rt.idOf('plain-0', 'idle');
    assert.ok(plainId !== undefined);
    assert.ok(!rt.statsAsked.has(plainId));
    assert.ok(rt.statsAsked.has(rt.idOf('api-0', 'busy')!));
  });

  test('a node whose jobs are not autoscaled makes no stats call; losing the last autoscaled instance deletes the record', async () => {
    const { agent, rt, sink, written } = setup();
    const plain = acceptedJob('plain', [container('idle')], [NODE]);
    await agent.reconcile([plain]);
    await until('plain healthy', () => sink.status.get('plain-0')?.state === 'healthy');
    // The sampler looked once (clearing an earlier process's record) and rests.
    await until('the initial clear', () => written.length === 1);
    assert.deepEqual(written, [null]);
    assert.equal(rt.statsCalls, 0);

    const scaled = autoscaled(acceptedJob('api', [container('app')], [NODE]));
    await agent.reconcile([plain, scaled]);
    await until('api measured', () => last(written)?.instances['api-0'] !== undefined);
    assert.equal(Object.keys(last(written)!.instances).length, 1);

    await agent.reconcile([plain]);
    await until('the record deleted', () => last(written) === null);
    const calls = rt.statsCalls;
    const writes = written.length;
    // Another reconcile with nothing autoscaled: still no call, no write.
    await agent.reconcile([plain, acceptedJob('other', [container('x')], [NODE])]);
    await until('other healthy', () => sink.status.get('other-0')?.state === 'healthy');
    assert.equal(rt.statsCalls, calls);
    assert.equal(written.length, writes);
  });

  test('fencing (stopAll) deletes the record; close() stops sampling', async () => {
    const { agent, rt, written } = setup();
    await agent.reconcile([autoscaled(acceptedJob('api', [container('app')], [NODE]))]);
    await until('api measured', () => last(written)?.instances['api-0'] !== undefined);
    await agent.stopAll();
    await until('the record deleted', () => last(written) === null);
    await agent.reconcile([autoscaled(acceptedJob('api', [container('app')], [NODE]))]);
    await until('api measured again', () => last(written)?.instances['api-0'] !== undefined);
    await agent.close();
    const calls = rt.statsCalls;
    const writes = written.length;
    await agent.reconcile([autoscaled(acceptedJob('api', [container('app')], [NODE]))]);
    assert.equal(rt.statsCalls, calls);
    assert.equal(written.length, writes);
  });

  test('an engine with a batch endpoint (podman) is asked once per round for all the containers', async () => {
    const { agent, rt, written } = setup();
    rt.batchStats = true;
    rt.cpuRate = () => 100;
    await agent.reconcile([autoscaled(acceptedJob('api', [container('app'), container('side')], [NODE, NODE, NODE]))]);
    await until('all three measured', () => Object.keys(last(written)?.instances ?? {}).length === 3);
    assert.ok(Object.values(last(written)!.instances).every((m) => Math.abs(m.used - 200) <= 10));
    assert.ok(rt.batchCalls >= 2);
    assert.equal(rt.statsCalls, rt.batchSampled, 'no per-container call besides the batches');
  });
});
