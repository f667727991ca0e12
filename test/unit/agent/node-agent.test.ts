// NodeAgent and InstanceSupervisor against in-memory fakes: the state
// machine, restart policies, back-off, adoption, replacement, DNS and the
// sink's failures. Real podman / etcd: test/integration/node/.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { NodeAgent } from '../../../src/agent/node-agent';
import { DNS_TTL_SECONDS } from '../../../src/network/dns';
import type { AcceptedJob } from '../../../src/model/cluster';
import { waitFor } from '../../harness/wait';
import { FAST, FakeRuntime, FakeSink, acceptedJob, container, execCheck, silentLog } from './fake-node';

const NODE = 'n1';
const agents: NodeAgent[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
});

function setup(rt = new FakeRuntime(NODE), sink = new FakeSink()): { agent: NodeAgent; rt: FakeRuntime; sink: FakeSink } {
  const agent = new NodeAgent({ node: NODE, address: '192.0.2.1', dnsZone: 'ozy.local', engine: rt, pods: rt, sink, log: silentLog, timing: FAST });
  agents.push(agent);
  return { agent, rt, sink };
}

const stateOf = (sink: FakeSink, instance: string) => sink.status.get(instance)?.state;
const until = (what: string, probe: () => boolean) => waitFor(what, () => probe() || undefined, { timeoutMs: 5000, intervalMs: 2 });

function webJob(nodes: Array<string | null> = [NODE], extra: Parameters<typeof container>[1] = {}): AcceptedJob {
  return acceptedJob(
    'web',
    [
      container('db', { healthcheck: execCheck(), ports: [{ host: 8080, container: 80, protocol: 'tcp' }] }),
      container('app', { dependsOn: ['db'], ...extra }),
    ],
    nodes,
  );
}

describe('starting an instance', () => {
  test('pending → starting → healthy; dependents start after their dependency is healthy; DNS points at --address:hostPort', async () => {
    const { agent, rt, sink } = setup();
    await agent.reconcile([webJob()]);
    await until('healthy', () => stateOf(sink, 'web-0') === 'healthy' && sink.dns.size === 1);
    assert.deepEqual(sink.history.get('web-0'), ['pending', 'starting', 'healthy'], 'every transition is written, however brief');
    // db's health check ran (and passed) before app was created.
    const firstExec = rt.ops.indexOf('exec web-0/db');
    assert.ok(firstExec >= 0 && firstExec < rt.ops.indexOf('create web-0/app'), rt.ops.join(', '));
    assert.deepEqual(sink.dns.get('/skydns/local/ozy/web/web-0'), { host: '192.0.2.1', port: 8080, ttl: DNS_TTL_SECONDS });
    const st = sink.status.get('web-0')!;
    assert.equal(st.restarts, 0);
    assert.equal(st.node, NODE);
    assert.deepEqual(Object.keys(st.containers), ['db', 'app']);
    assert.equal(st.containers.app!.state, 'running');
    assert.equal(agent.statuses()[0]?.state, 'healthy');
  });

  test('no published port: the DNS record is the pod IP and the first container port', async () => {
    const { agent, sink } = setup();
    await agent.reconcile([acceptedJob('api', [container('srv', { ports: [{ container: 9000, protocol: 'tcp' }] })], [NODE])]);
    await until('dns', () => sink.dns.size === 1);
    assert.deepEqual([...sink.dns.values()][0], { host: '10.88.0.7', port: 9000, ttl: DNS_TTL_SECONDS });
  });

  test('a missing image shows as pulling; a failing pull as failed with the message, retried with back-off until it works', async () => {
    const { agent, rt, sink } = setup();
    rt.missingImages.add('localhost/img:1');
    let release = (): void => undefined;
    rt.pullGate = new Promise((r) => (release = r));
    await agent.reconcile([acceptedJob('pull', [container('a')], [NODE])]);
    await until('pulling', () => stateOf(sink, 'pull-0') === 'pulling');
    release();
    await until('healthy', () => stateOf(sink, 'pull-0') === 'healthy');

    rt.failingImages.set('localhost/bad:1', 'manifest unknown');
    await agent.reconcile([acceptedJob('bad', [container('a', { image: 'localhost/bad:1' })], [NODE])]);
    await until('failed', () => stateOf(sink, 'bad-0') === 'failed');
    assert.match(sink.status.get('bad-0')!.message ?? '', /^pull failed: localhost\/bad:1: manifest unknown; retrying in/);
    await until('a retry', () => rt.count('startPod bad-0') >= 3);
    rt.failingImages.clear();
    await until('healthy after the registry recovers', () => stateOf(sink, 'bad-0') === 'healthy');
  });
});

describe('exits, health and restart policies', () => {
  test('a non-owner that exits 1 (on-failure) is restarted alone; the owner restarts the whole pod', async () => {
    const { agent, rt, sink } = setup();
    await agent.reconcile([webJob()]);
    await until('healthy', () => stateOf(sink, 'web-0') === 'healthy');
    rt.exit('web-0', 'app', 1);
    await until('restarted', () => sink.status.get('web-0')?.restarts === 1 && stateOf(sink, 'web-0') === 'healthy');
    assert.equal(rt.count('restartContainer web-0/app'), 1);
    assert.equal(rt.count('restartPod'), 0);
    assert.ok(sink.history.get('web-0')!.includes('exited'));

    rt.exit('web-0', 'db', 2);
    await until('pod restarted', () => sink.status.get('web-0')?.restarts === 2 && stateOf(sink, 'web-0') === 'healthy');
    assert.equal(rt.count('restartPod web-0'), 1);
    assert.equal(rt.count('startPod web-0'), 1, 'restarted in place, not recreated');
  });

  test('on-failure leaves a clean exit (0) alone; never leaves a failed one exited; DNS goes', async () => {
    const { agent, rt, sink } = setup();
    const jobs = [
      acceptedJob('clean', [container('a')], [NODE]),
      acceptedJob('never', [container('a', { restart: 'never', ports: [{ host: 81, container: 80, protocol: 'tcp' }] })], [NODE]),
    ];
    await agent.reconcile(jobs);
    await until('both healthy', () => stateOf(sink, 'clean-0') === 'healthy' && stateOf(sink, 'never-0') === 'healthy' && sink.dns.size === 2);
    rt.exit('clean-0', 'a', 0);
    rt.exit('never-0', 'a', 3);
    await until('exited', () => stateOf(sink, 'clean-0') === 'exited' && stateOf(sink, 'never-0') === 'exited');
    const polls = rt.listCalls;
    await until('many more polls', () => rt.listCalls > polls + 20);
    assert.equal(rt.count('restart'), 0);
    assert.equal(sink.status.get('never-0')!.restarts, 0);
    assert.match(sink.status.get('never-0')!.message ?? '', /^container a exited with code 3; not restarted/);
    assert.deepEqual(sink.status.get('never-0')!.containers.a, { id: rt.idOf('never-0', 'a'), state: 'exited', exitCode: 3, oomKilled: false });
    assert.equal(sink.dns.size, 0);
  });

  test('a container removed behind the agent\'s back gets the pod recreated (after the back-off)', async () => {
    const { agent, rt, sink } = setup();
    await agent.reconcile([webJob()]);
    await until('healthy', () => stateOf(sink, 'web-0') === 'healthy');
    rt.remove('web-0', 'app');
    await until('recreated', () => rt.count('startPod web-0') === 2 && stateOf(sink, 'web-0') === 'healthy');
    assert.ok(rt.idOf('web-0', 'app'));
    assert.equal(sink.status.get('web-0')!.restarts, 1);
    assert.ok(rt.count('stopPod web-0') >= 1, 'the remains of the old pod were removed first');
  });

  test('an OOM kill is reported as such', async () => {
    const { agent, rt, sink } = setup();
    await agent.reconcile([acceptedJob('hog', [container('a', { restart: 'never', memory: 16 * 1024 * 1024 })], [NODE])]);
    await until('healthy', () => stateOf(sink, 'hog-0') === 'healthy');
    rt.exit('hog-0', 'a', 137, true);
    await until('exited', () => stateOf(sink, 'hog-0') === 'exited');
    const st = sink.status.get('hog-0')!;
    assert.match(st.message ?? '', /^container a: OOM killed \(memory limit 16Mi\)/);
    assert.equal(st.containers.a!.oomKilled, true);
    assert.equal(st.containers.a!.exitCode, 137);
  });

  test('healthy → unhealthy (DNS removed) → restart → healthy (DNS back)', async () => {
    const { agent, rt, sink } = setup();
    let dbHealthy = true;
    rt.execCode = (name) => (name === 'db' && !dbHealthy ? 1 : 0);
    await agent.reconcile([webJob()]);
    await until('healthy', () => stateOf(sink, 'web-0') === 'healthy' && sink.dns.size === 1);
    dbHealthy = false;
    await until('unhealthy', () => stateOf(sink, 'web-0') === 'unhealthy');
    assert.equal(sink.dns.size, 0, 'no DNS record while unhealthy');
    dbHealthy = true;
    await until('healthy again', () => stateOf(sink, 'web-0') === 'healthy' && sink.dns.size === 1);
    assert.ok(rt.count('restartPod web-0') >= 1, 'db is the namespace owner: the pod restarted');
    assert.ok(sink.status.get('web-0')!.restarts >= 1);
    // A fresh start first clears any stale record, then: published, withdrawn, published again.
    assert.deepEqual(sink.dnsOps.slice(0, 4).map((o) => o.split(' ')[0]), ['delete', 'put', 'delete', 'put']);
  });

  test('never: an unhealthy container is not restarted, and is healthy again when its check passes', async () => {
    const { agent, rt, sink } = setup();
    let ok = true;
    rt.execCode = () => (ok ? 0 : 1);
    await agent.reconcile([acceptedJob('nv', [container('a', { restart: 'never', healthcheck: execCheck() })], [NODE])]);
    await until('healthy', () => stateOf(sink, 'nv-0') === 'healthy');
    ok = false;
    await until('unhealthy', () => stateOf(sink, 'nv-0') === 'unhealthy');
    ok = true;
    await until('healthy', () => stateOf(sink, 'nv-0') === 'healthy');
    assert.equal(rt.count('restart'), 0);
  });

  test('a slow starter is not restarted while it starts; one that never passes is, once the start-up grace is over', async () => {
    const { agent, rt, sink } = setup();
    let failures = 10;
    rt.execCode = (name) => (name === 'slow' && failures-- > 0 ? 1 : 0);
    const check = { ...execCheck(), unhealthyThreshold: 2 };
    await agent.reconcile([acceptedJob('slow', [container('slow', { healthcheck: check })], [NODE])]);
    await until('healthy', () => stateOf(sink, 'slow-0') === 'healthy');
    assert.equal(rt.count('restart'), 0, '10 failed checks during start-up did not restart it');
    assert.ok(!sink.history.get('slow-0')!.includes('unhealthy'));

    const rt2 = new FakeRuntime(NODE);
    rt2.execCode = () => 1;
    const sink2 = new FakeSink();
    const impatient = new NodeAgent({
      node: NODE, address: 'a', dnsZone: 'ozy.local', engine: rt2, pods: rt2, sink: sink2, log: silentLog, timing: { ...FAST, readyTimeoutMs: 50 },
    });
    agents.push(impatient);
    await impatient.reconcile([acceptedJob('dead', [container('dead', { healthcheck: check })], [NODE])]);
    await until('restarted', () => rt2.count('restartPod dead-0') >= 1);
    assert.ok(sink2.history.get('dead-0')!.includes('unhealthy'));
  });

  test('an exit is published before its restart, even when the process stalls between judging and restarting', async () => {
    // Each read of this clock is 10 ms after the one before, longer than the 5 ms back-off:
    // as if the process were descheduled between any two steps of a round (a loaded machine).
    let t = 0;
    const rt = new FakeRuntime(NODE);
    const sink = new FakeSink();
    const agent = new NodeAgent({ node: NODE, address: 'a', dnsZone: 'ozy.local', engine: rt, pods: rt, sink, log: silentLog, timing: FAST, now: () => (t += 10) });
    agents.push(agent);
    await agent.reconcile([acceptedJob('stall', [container('a')], [NODE])]);
    await until('healthy', () => stateOf(sink, 'stall-0') === 'healthy');
    rt.exit('stall-0', 'a', 1);
    await until('restarted', () => sink.status.get('stall-0')?.restarts === 1 && stateOf(sink, 'stall-0') === 'healthy');
    const history = sink.history.get('stall-0')!;
    assert.deepEqual(history.slice(history.lastIndexOf('healthy', history.length - 2)), ['healthy', 'exited', 'starting', 'healthy'], history.join(' → '));
  });

  test('back-off grows between consecutive restarts', async () => {
    const t = { now: 0 };
    const rt = new FakeRuntime(NODE);
    const sink = new FakeSink();
    const agent = new NodeAgent({
      node: NODE, address: 'a', dnsZone: 'ozy.local', engine: rt, pods: rt, sink, log: silentLog,
      timing: { ...FAST, backoffBaseMs: 1000, backoffMaxMs: 60_000 }, now: () => t.now,
    });
    agents.push(agent);
    await agent.reconcile([acceptedJob('bo', [container('a', { restart: 'always' })], [NODE])]);
    await until('healthy', () => stateOf(sink, 'bo-0') === 'healthy');
    const restartsAfter = async (advance: number): Promise<number> => {
      const polls = rt.listCalls;
      await until('polls', () => rt.listCalls > polls + 3);
      t.now += advance;
      const more = rt.listCalls;
      await until('polls', () => rt.listCalls > more + 3);
      return rt.count('restartContainer') + rt.count('restartPod');
    };
    // The clock moves only once the exit was judged (its back-off published): judged after the
    // move, it would count from the new time. A number of engine listings is no proof of that.
    const judged = (backoff: string) => until(`restart in ${backoff}`, () => (sink.status.get('bo-0')?.message ?? '').endsWith(`; restarting in ${backoff}`));
    rt.exit('bo-0', 'a', 1);
    await judged('1.0s');
    assert.equal(await restartsAfter(999), 0, 'not before 1 s');
    assert.equal(await restartsAfter(1), 1);
    await until('running', () => stateOf(sink, 'bo-0') === 'healthy');
    rt.exit('bo-0', 'a', 1);
    await judged('2.0s');
    assert.equal(await restartsAfter(1500), 1, 'the second restart waits 2 s');
    assert.equal(await restartsAfter(500), 2);
  });
});

describe('reconcile', () => {
  test('scale-down stops the removed instance, cleans its volumes and deletes its status and DNS', async () => {
    const { agent, rt, sink } = setup();
    await agent.reconcile([webJob([NODE, NODE])]);
    await until('both healthy', () => stateOf(sink, 'web-0') === 'healthy' && stateOf(sink, 'web-1') === 'healthy' && sink.dns.size === 2);
    const kept = rt.idOf('web-0', 'db');
    await agent.reconcile([webJob([NODE])]);
    assert.equal(rt.idOf('web-1', 'db'), undefined);
    assert.ok(rt.ops.includes('cleanupVolumes web-1'));
    assert.equal(sink.status.has('web-1'), false);
    assert.deepEqual([...sink.dns.keys()], ['/skydns/local/ozy/web/web-0']);
    assert.equal(rt.idOf('web-0', 'db'), kept);
    assert.deepEqual(agent.statuses().map((s) => s.instance), ['web-0']);
  });

  test('persistent volumes are pruned only when their job is no longer accepted, even with no instance here', async () => {
    const { agent, rt, sink } = setup();
    rt.persistentJobs.add('web');
    rt.persistentJobs.add('db');
    await agent.reconcile([webJob([NODE])]);
    await until('healthy', () => stateOf(sink, 'web-0') === 'healthy');
    assert.deepEqual([...rt.persistentJobs], ['web'], 'db is not accepted: its volumes go');
    await agent.reconcile([{ ...webJob([]), volumes: { '0': NODE } }]);
    assert.deepEqual([...rt.persistentJobs], ['web'], 'scaled to 0, its volume recorded here: kept');
    await agent.reconcile([]);
    assert.deepEqual([...rt.persistentJobs], [], 'deleted: gone');
  });

  test('an instance moved to another node is stopped here', async () => {
    const { agent, rt, sink } = setup();
    await agent.reconcile([webJob([NODE])]);
    await until('healthy', () => stateOf(sink, 'web-0') === 'healthy');
    await agent.reconcile([webJob(['n2'])]);
    assert.equal(rt.containers.size, 0);
    assert.equal(sink.status.size, 0);
  });

  test('a spec change replaces the containers (local volumes kept: same instance)', async () => {
    const { agent, rt, sink } = setup();
    await agent.reconcile([webJob()]);
    await until('healthy', () => stateOf(sink, 'web-0') === 'healthy');
    const before = rt.idOf('web-0', 'app');
    const changed = webJob([NODE], { environment: [{ name: 'V', value: '2' }] });
    await agent.reconcile([changed]);
    await until('healthy on the new spec', () => sink.status.get('web-0')?.specHash === changed.specHash && stateOf(sink, 'web-0') === 'healthy');
    assert.notEqual(rt.idOf('web-0', 'app'), before);
    assert.equal(rt.count('stopPod web-0'), 1);
    assert.equal(rt.count('cleanupVolumes'), 0);
  });

  test('a restarted agent adopts running containers without restarting them, and restarts an exited one per policy', async () => {
    const rt = new FakeRuntime(NODE);
    const sink = new FakeSink();
    const first = setup(rt, sink).agent;
    await first.reconcile([webJob()]);
    await until('healthy', () => stateOf(sink, 'web-0') === 'healthy');
    await first.close();
    const ids = [rt.idOf('web-0', 'db'), rt.idOf('web-0', 'app')];
    rt.exit('web-0', 'app', 1);
    const events = rt.ops.length;

    const second = setup(rt, sink).agent;
    await second.reconcile([webJob()]);
    await until('healthy again', () => second.statuses()[0]?.state === 'healthy' && second.statuses()[0]?.restarts === 1);
    assert.deepEqual([rt.idOf('web-0', 'db'), rt.idOf('web-0', 'app')], ids);
    const later = rt.ops.slice(events).filter((e) => !e.startsWith('exec'));
    assert.deepEqual(later, ['restartContainer web-0/app']);
  });

  test('close() leaves containers running; stopAll() removes everything of this node', async () => {
    const { agent, rt, sink } = setup();
    await agent.reconcile([webJob([NODE, NODE])]);
    await until('healthy', () => stateOf(sink, 'web-1') === 'healthy' && sink.dns.size === 2);
    await agent.stopAll();
    assert.equal(rt.containers.size, 0);
    assert.ok(rt.ops.includes('cleanupVolumes web-0') && rt.ops.includes('cleanupVolumes web-1'));
    assert.equal(sink.status.size, 0);
    assert.equal(sink.dns.size, 0);
    assert.deepEqual(agent.statuses(), []);
  });

  test('calls are serialised and coalesce: the newest jobs win', async () => {
    const { agent, rt, sink } = setup();
    const runs = [agent.reconcile([webJob()]), agent.reconcile([]), agent.reconcile([webJob([NODE, NODE])])];
    await Promise.all(runs);
    assert.equal(rt.listNodeCalls, 1, 'the three calls coalesced into one run');
    await until('two instances', () => stateOf(sink, 'web-1') === 'healthy');
    assert.equal(rt.count('stopPod'), 0, 'the middle (empty) job set never ran');
  });
});

describe('faults', () => {
  test('an engine outage skips rounds without throwing; work resumes when it is back', async () => {
    const { agent, rt, sink } = setup();
    rt.engineDown = true;
    await agent.reconcile([webJob()]);
    assert.equal(rt.count('startPod'), 0);
    rt.engineDown = false;
    await agent.reconcile([webJob()]);
    await until('healthy', () => stateOf(sink, 'web-0') === 'healthy');
    rt.engineDown = true;
    const polls = rt.listCalls;
    await until('polls while down', () => rt.listCalls > polls + 5);
    assert.equal(agent.statuses()[0]?.state, 'healthy', 'state kept while the engine is unreachable');
    rt.engineDown = false;
  });

  test('a failing sink (etcd down) stops nothing; the writes catch up when it recovers', async () => {
    const { agent, rt, sink } = setup();
    sink.failing = true;
    await agent.reconcile([webJob()]);
    await until('healthy locally', () => agent.statuses()[0]?.state === 'healthy');
    assert.equal(sink.status.size, 0);
    assert.equal(rt.containers.size, 2);
    assert.equal(rt.count('stopPod') + rt.count('restart'), 0);
    sink.failing = false;
    await until('written', () => stateOf(sink, 'web-0') === 'healthy' && sink.dns.size === 1);

    // A deletion that fails is retried by a later reconcile.
    sink.failing = true;
    await agent.reconcile([]);
    assert.equal(rt.containers.size, 0);
    assert.equal(sink.status.size, 1);
    sink.failing = false;
    await agent.reconcile([]);
    assert.equal(sink.status.size, 0);
    assert.equal(sink.dns.size, 0);
  });
});

describe('an instance moving here (rolling update, rebalancing)', () => {
  test('starts only once the node it left no longer publishes a status for it', async () => {
    const rt = new FakeRuntime(NODE);
    const sink = new FakeSink();
    let oldNodeRunsIt = true;
    const asked: string[] = [];
    const agent = new NodeAgent({
      node: NODE,
      address: '192.0.2.1',
      dnsZone: 'ozy.local',
      engine: rt,
      pods: rt,
      sink,
      log: silentLog,
      timing: FAST,
      elsewhere: async (node, instance) => {
        asked.push(`${node}/${instance}`);
        return oldNodeRunsIt;
      },
    });
    agents.push(agent);
    const job = webJob();
    const moved: AcceptedJob = { ...job, instances: [{ ...job.instances[0]!, from: 'n0' }] };
    await agent.reconcile([moved]);
    assert.deepEqual(asked, ['n0/web-0']);
    assert.ok(!rt.ops.some((op) => op.startsWith('create web-0')), 'nothing created while n0 still runs it');
    oldNodeRunsIt = false;
    await until('started after the hand-over', () => stateOf(sink, 'web-0') === 'healthy');
    assert.ok(asked.length >= 2, 'asked again without a new schedule');
  });
});
