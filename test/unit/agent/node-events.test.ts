// The node agent driven by engine events (fakes): exits and removals are
// learnt from the event stream, not by polling; an idle node makes no
// engine call; a change elsewhere in the cluster is not a reconcile; the
// slow resync finds what events missed; a broken stream reconnects and
// resyncs. Real podman: test/integration/node/events.test.ts.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { NodeAgent } from '../../../src/agent/node-agent';
import { waitFor } from '../../harness/wait';
import { FAST, FakeRuntime, FakeSink, acceptedJob, container, silentLog } from './fake-node';

const NODE = 'n1';
/** A resync far away: only events can explain what the agent notices. */
const EVENTS_ONLY = { ...FAST, resyncMs: 3_600_000 };
const agents: NodeAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
});

function setup(timing = EVENTS_ONLY): { agent: NodeAgent; rt: FakeRuntime; sink: FakeSink } {
  const rt = new FakeRuntime(NODE);
  const sink = new FakeSink();
  const agent = new NodeAgent({
    node: NODE, address: '192.0.2.1', dnsZone: 'ozy.local', engine: rt, pods: rt, sink, log: silentLog, timing, eventRetry: { baseMs: 5, maxMs: 20 },
  });
  agents.push(agent);
  return { agent, rt, sink };
}

const until = (what: string, probe: () => boolean) => waitFor(what, () => probe() || undefined, { timeoutMs: 5000, intervalMs: 2 });
const app = (extra: Parameters<typeof container>[1] = {}) => acceptedJob('app', [container('a', { restart: 'on-failure', ...extra })], [NODE]);

/** Resolves after the supervisors' loops have had many chances to run (no engine call may come of it). */
async function idleRounds(agent: NodeAgent, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
  void agent;
}

describe('node agent on engine events', () => {
  test('an exit is noticed through the event stream and restarted per policy, with the resync an hour away', async () => {
    const { agent, rt, sink } = setup();
    await agent.reconcile([app()]);
    await until('healthy', () => sink.status.get('app-0')?.state === 'healthy');
    rt.exit('app-0', 'a', 1);
    await until('restarted', () => rt.count('restart') === 1 && sink.status.get('app-0')?.state === 'healthy');
    assert.equal(sink.status.get('app-0')?.restarts, 1);
    assert.ok(rt.listNodeCalls <= 2, `the first reconcile and the resync of the first connection, no periodic one: ${rt.listNodeCalls}`);
  });

  test('an idle node makes no engine call and no write; a change of a job elsewhere reconciles nothing', async () => {
    const { agent, rt, sink } = setup();
    await agent.reconcile([app()]);
    await until('healthy', () => sink.status.get('app-0')?.state === 'healthy');
    await until('settled', () => rt.subscribed === 1);
    // Let the start-up observation and the first resync finish.
    await agent.resync();
    await idleRounds(agent, 50);
    const calls = rt.listCalls;
    const ops = rt.ops.length;
    const statusWrites = [...sink.history.values()].flat().length;
    for (let i = 0; i < 5; i++) {
      await agent.reconcile([app(), acceptedJob(`elsewhere${i}`, [container('x')], ['n2', 'n3'])]);
      await idleRounds(agent, 50);
    }
    assert.equal(rt.listCalls, calls, 'no listing');
    assert.deepEqual(rt.ops.slice(ops), [], 'no pod operation');
    assert.equal(rt.eventSubscriptions, 1, 'one subscription, kept open');
    assert.equal([...sink.history.values()].flat().length, statusWrites, 'no status write');
  });

  test('a change of this node\'s assignment still reconciles', async () => {
    const { agent, rt, sink } = setup();
    await agent.reconcile([app()]);
    await until('healthy', () => sink.status.get('app-0')?.state === 'healthy');
    await agent.reconcile([acceptedJob('app', [container('a')], [NODE, NODE])]);
    await until('second instance', () => sink.status.get('app-1')?.state === 'healthy');
    assert.equal(rt.count('startPod app-1'), 1);
  });

  test('an exit that sent no event is found by the slow resync', async () => {
    const { agent, rt, sink } = setup({ ...FAST, resyncMs: 30 });
    await agent.reconcile([app()]);
    await until('healthy', () => sink.status.get('app-0')?.state === 'healthy');
    rt.eventsMuted = true;
    rt.exit('app-0', 'a', 1);
    await until('restarted by the resync', () => rt.count('restart') === 1);
  });

  test('a broken event stream reconnects and resyncs: an exit missed meanwhile is found', async () => {
    const { agent, rt, sink } = setup();
    await agent.reconcile([app()]);
    await until('healthy', () => sink.status.get('app-0')?.state === 'healthy');
    await until('subscribed', () => rt.subscribed === 1);
    rt.engineDown = true;
    rt.breakEvents();
    rt.eventsMuted = true;
    rt.exit('app-0', 'a', 1);
    await until('reconnect attempts while down', () => rt.eventSubscriptions >= 3);
    rt.engineDown = false;
    await until('resubscribed', () => rt.subscribed === 1);
    await until('the missed exit restarted', () => rt.count('restart') === 1 && sink.status.get('app-0')?.state === 'healthy');
  });

  test('after stopAll (fenced) a reconnect resyncs nothing back to life', async () => {
    const { agent, rt, sink } = setup();
    await agent.reconcile([app()]);
    await until('healthy', () => sink.status.get('app-0')?.state === 'healthy');
    await agent.stopAll();
    rt.breakEvents();
    await until('resubscribed', () => rt.subscribed === 1);
    await agent.resync();
    assert.equal(rt.count('startPod'), 1, 'nothing started again');
    assert.equal(rt.containers.size, 0);
  });
});
