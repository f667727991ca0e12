// Drain before stop, against in-memory fakes: every stop the node agent
// makes first takes the instance out of DNS and ingress, waits until those
// writes are done and a propagation delay, then stops the pod with the job's
// stopGrace and depends_on. Real etcd + podman: test/integration/node/drain.test.ts.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { NodeAgent, type NodeTiming } from '../../../src/agent/node-agent';
import { StatusPublisher } from '../../../src/agent/instance-publisher';
import { drainingStatus } from '../../../src/agent/drain';
import type { AcceptedJob, InstanceStatus } from '../../../src/model/cluster';
import { podTemplateHash } from '../../../src/model/hash';
import type { JobSpec } from '../../../src/model/job';
import { waitFor } from '../../harness/wait';
import { FAST, FakeRuntime, FakeSink, acceptedJob, container, execCheck, silentLog } from './fake-node';

const NODE = 'n1';
const DNS_KEY = '/skydns/local/ozy/shop/shop-0';
const agents: NodeAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
});

/** The sink's writes and the runtime's calls on one timeline (rt.ops). */
function setup(timing: Partial<NodeTiming> = FAST): { agent: NodeAgent; rt: FakeRuntime; sink: FakeSink } {
  const rt = new FakeRuntime(NODE);
  const sink = new FakeSink();
  const putStatus = sink.putStatus.bind(sink);
  sink.putStatus = async (s) => {
    await putStatus(s);
    rt.ops.push(`status ${s.state}${s.message === 'draining' ? ' draining' : ''}${s.endpoints ? ' with endpoints' : ''}`);
  };
  const deleteDns = sink.deleteDns.bind(sink);
  sink.deleteDns = async (key) => {
    await deleteDns(key);
    rt.ops.push('dns deleted');
  };
  const agent = new NodeAgent({ node: NODE, address: '192.0.2.1', dnsZone: 'ozy.local', engine: rt, pods: rt, sink, log: silentLog, timing });
  agents.push(agent);
  return { agent, rt, sink };
}

/** A job with an ingress route on db's port 80 (published on 8080): a healthy instance has endpoints and a DNS record. */
function shopJob(nodes: Array<string | null>, extra: Partial<JobSpec> = {}): AcceptedJob {
  const base = acceptedJob(
    'shop',
    [
      container('db', { healthcheck: execCheck(), ports: [{ host: 8080, container: 80, protocol: 'tcp' }] }),
      container('app', { dependsOn: ['db'] }),
    ],
    nodes,
  );
  const spec: JobSpec = { ...base.spec, ingress: [{ host: 'shop.example.com', path: '/', port: 80 }], ...extra };
  return { ...base, spec, specHash: podTemplateHash(spec) };
}

const until = (what: string, probe: () => boolean) => waitFor(what, () => probe() || undefined, { timeoutMs: 5000, intervalMs: 2 });

describe('drain before stop', () => {
  test('scale-down: DNS record and endpoints are gone (written) before the pod is stopped, with the job\'s stopGrace and depends_on', async () => {
    const { agent, rt, sink } = setup({ ...FAST, drainDelayMs: 50 });
    await agent.reconcile([shopJob([NODE], { stopGraceMs: 2000 })]);
    await until('healthy with endpoints and DNS', () => sink.status.get('shop-0')?.endpoints !== undefined && sink.dns.size === 1);
    rt.ops.length = 0;

    await agent.reconcile([shopJob([], { stopGraceMs: 2000 })]);
    const stop = rt.ops.indexOf('stopPod shop-0');
    assert.ok(stop > 0, rt.ops.join(', '));
    const before = rt.ops.slice(0, stop);
    assert.ok(before.includes('dns deleted'), `DNS deleted before the stop: ${rt.ops.join(', ')}`);
    assert.ok(before.includes('status healthy draining'), `endpoints withdrawn (state kept) before the stop: ${rt.ops.join(', ')}`);
    assert.ok(!before.some((op) => op.endsWith('with endpoints')), 'no endpoints published again');
    assert.deepEqual(rt.stopOptions.get('shop-0'), { graceMs: 2000, dependsOn: new Map([['db', []], ['app', ['db']]]) });
    // Then, as before: status and DNS gone.
    assert.equal(sink.status.size, 0);
    assert.equal(sink.dns.size, 0);
  });

  test('the propagation delay comes between the landed writes and the stop', async () => {
    const { agent, rt, sink } = setup({ ...FAST, drainDelayMs: 300 });
    await agent.reconcile([shopJob([NODE])]);
    await until('healthy with DNS', () => sink.dns.size === 1);
    let drainedAt = 0;
    let stoppedAt = 0;
    const deleteDns = sink.deleteDns.bind(sink);
    sink.deleteDns = async (key) => {
      await deleteDns(key);
      drainedAt = Date.now();
    };
    const stopPod = rt.stopPod.bind(rt);
    rt.stopPod = async (instance, opts) => {
      stoppedAt = Date.now();
      await stopPod(instance, opts);
    };
    await agent.reconcile([shopJob([])]);
    assert.ok(drainedAt > 0 && stoppedAt - drainedAt >= 290, `stopped ${stoppedAt - drainedAt} ms after the DNS deletion landed`);
  });

  test('an instance that never took traffic (never healthy) is stopped without the delay', { timeout: 10_000 }, async () => {
    // A delay the test could not outlive: the stop must not wait for it.
    const { agent, rt, sink } = setup({ ...FAST, drainDelayMs: 60_000 });
    rt.failingImages.set('localhost/bad:1', 'manifest unknown');
    const bad = acceptedJob('bad', [container('a', { image: 'localhost/bad:1' })], [NODE]);
    await agent.reconcile([bad]);
    await until('failed', () => sink.status.get('bad-0')?.state === 'failed');
    await agent.reconcile([acceptedJob('bad', [container('a', { image: 'localhost/bad:1' })], [])]);
    assert.equal(rt.count('stopPod bad-0'), 1);
    assert.equal(sink.status.size, 0);
  });

  test('a spec change drains the old instance before replacing it', async () => {
    const { agent, rt, sink } = setup();
    await agent.reconcile([shopJob([NODE])]);
    await until('healthy with DNS', () => sink.dns.size === 1);
    rt.ops.length = 0;
    await agent.reconcile([shopJob([NODE], { containers: [container('db', { healthcheck: execCheck(), ports: [{ host: 8080, container: 80, protocol: 'tcp' }], memory: 1 << 27 })] })]);
    const stop = rt.ops.indexOf('stopPod shop-0');
    assert.ok(rt.ops.slice(0, stop).includes('dns deleted') && rt.ops.slice(0, stop).includes('status healthy draining'), rt.ops.join(', '));
  });

  test('fencing (stopAll) does not wait for the drain: puts that never land, a long delay, the containers still go at once', { timeout: 10_000 }, async () => {
    const { agent, rt, sink } = setup({ ...FAST, drainDelayMs: 60_000 });
    await agent.reconcile([shopJob([NODE, NODE])]);
    await until('healthy with DNS', () => sink.dns.size === 2);
    // The lease is gone: a put hangs (etcd away), deletions are skipped (the lease-bound sink refuses them while fenced).
    sink.putStatus = () => new Promise<void>(() => undefined);
    sink.deleteStatus = async () => undefined;
    sink.deleteDns = async () => undefined;
    await agent.stopAll();
    assert.equal(rt.containers.size, 0);
  });

  test('etcd unreachable outside fencing: the stop goes on once the writes have failed, without the delay', { timeout: 10_000 }, async () => {
    const { agent, rt, sink } = setup({ ...FAST, drainDelayMs: 60_000 });
    await agent.reconcile([shopJob([NODE])]);
    await until('healthy with DNS', () => sink.dns.size === 1);
    sink.failing = true;
    await agent.reconcile([shopJob([])]);
    assert.equal(rt.count('stopPod shop-0'), 1);
    assert.equal(sink.dns.size, 1, 'the deletion is still owed (retried)');
    sink.failing = false;
    await agent.resync();
    await until('the owed deletions are written', () => sink.dns.size === 0 && sink.status.size === 0);
  });
});

describe('StatusPublisher: withdraw and routed', () => {
  const KEY = DNS_KEY;
  const healthy = (endpoints?: InstanceStatus['endpoints']): InstanceStatus => ({
    instance: 'shop-0',
    job: 'shop',
    node: NODE,
    specHash: 'h',
    state: 'healthy',
    restarts: 0,
    containers: {},
    updatedAt: new Date().toISOString(),
    ...(endpoints ? { endpoints } : {}),
  });

  test('a fresh publisher that never published a record or endpoints: nothing routed', async () => {
    const p = new StatusPublisher(new FakeSink(), 'shop-0', KEY, silentLog, { fresh: true });
    p.setStatus({ ...healthy(), state: 'starting' });
    p.setDns({ kind: 'absent' });
    await p.flush();
    p.withdraw(drainingStatus({ ...healthy(), state: 'starting' }, 0));
    assert.equal(await p.flush(), true);
    assert.equal(p.routed, false);
  });

  test('a DNS record or endpoints written: routed; the withdrawal deletes the record and puts the status without endpoints', async () => {
    const sink = new FakeSink();
    const p = new StatusPublisher(sink, 'shop-0', KEY, silentLog, { fresh: true });
    p.setStatus(healthy({ '80': { host: '192.0.2.1', port: 8080 } }));
    p.setDns({ kind: 'present', record: { host: '192.0.2.1', port: 8080, ttl: 30 } });
    await p.flush();
    p.withdraw(drainingStatus(healthy({ '80': { host: '192.0.2.1', port: 8080 } }), 0));
    assert.equal(await p.flush(), true);
    assert.equal(p.routed, true);
    assert.equal(sink.dns.size, 0);
    assert.equal(sink.status.get('shop-0')?.endpoints, undefined);
    assert.equal(sink.status.get('shop-0')?.state, 'healthy');
    assert.equal(sink.status.get('shop-0')?.message, 'draining');
  });

  test('endpoints whose write was still under way at the withdrawal count as routed', async () => {
    const sink = new FakeSink();
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let writing = false;
    const put = sink.putStatus.bind(sink);
    sink.putStatus = async (s) => {
      if (s.endpoints) {
        writing = true;
        await gate;
      }
      await put(s);
    };
    const p = new StatusPublisher(sink, 'shop-0', KEY, silentLog, { fresh: true });
    p.setDns({ kind: 'absent' });
    p.setStatus(healthy({ '80': { host: '192.0.2.1', port: 8080 } }));
    p.kick();
    await until('the endpoints write under way', () => writing);
    p.withdraw(drainingStatus(healthy(), 0));
    const done = p.flush();
    release();
    assert.equal(await done, true);
    assert.equal(p.routed, true);
    assert.equal(sink.status.get('shop-0')?.message, 'draining', 'the withdrawal is written after the endpoints');
  });

  test('an adopted instance (not fresh): what the previous agent published is unknown, so routed', async () => {
    const p = new StatusPublisher(new FakeSink(), 'shop-0', KEY, silentLog);
    p.withdraw();
    await p.flush();
    assert.equal(p.routed, true);
  });
});
