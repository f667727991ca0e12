// The node agent on engine events, against a real podman service and etcd:
// a container killed from outside is noticed through the event stream (the
// resync is minutes away) and restarted per its policy; an OOM kill is
// reported as OOM with the verdict from the engine / cgroup side; an idle
// node makes no engine call and no etcd request across idle rounds and
// changes of jobs elsewhere (health probes go on: they are not engine calls).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { NodeAgent } from '../../../src/agent/node-agent';
import { storeSink } from '../../../src/agent/node-sink';
import { NETWORK_PROBES, type Probes } from '../../../src/agent/instance-probe';
import { LABEL, PodRuntime, createEngine } from '../../../src/runtime';
import { ClusterStore } from '../../../src/store';
import { createEtcdDriver } from '../../../src/store/etcd-driver';
import { request } from '../../harness/podman';
import { waitFor } from '../../harness/wait';
import { counting } from './counting';
import { ADDRESS, SLEEP, TIMING, ZONE, acceptedJob, container, httpCheck, log, startNode, startNodeFixture, statusWhere, type NodeFixture } from './fixtures';

/** Far beyond any wait in this file: whatever the agent notices, it noticed through events. */
const MINUTES = { ...TIMING, resyncMs: 10 * 60_000 };

let fx: NodeFixture;
const agents: NodeAgent[] = [];
before(async () => {
  fx = await startNodeFixture();
});
after(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await fx?.stop();
});

/** ['a', 'b', 'a'] → {a: 2, b: 1}: what was called, readable in a failure. */
function tally(calls: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) out[c] = (out[c] ?? 0) + 1;
  return out;
}

describe('node agent on engine events (podman + etcd)', () => {
  test('a container killed from outside is noticed through the event stream and restarted per its policy', async () => {
    const n = await startNode(fx, 'kill', MINUTES);
    agents.push(n.agent);
    const job = acceptedJob('kl', [container('main', { restart: 'always', command: SLEEP })], [n.name]);
    await n.agent.reconcile([job]);
    const first = await statusWhere(n, 'kl-0', 'healthy', (s) => s.state === 'healthy');
    const id = first.containers.main!.id!;
    // Another engine client kills it, as `podman kill` would.
    const res = await request(fx.podman.socketPath, 'POST', `/containers/${id}/kill?signal=KILL`);
    assert.ok(res.status < 300, `kill answered ${res.status}`);
    const st = await statusWhere(n, 'kl-0', 'restarted and healthy', (s) => s.restarts === 1 && s.state === 'healthy');
    assert.equal(st.containers.main?.id, id, 'restarted in place');
    assert.ok(n.sink.states.get('kl-0')!.includes('exited'), n.sink.states.get('kl-0')!.join(' → '));
  });

  test('an OOM kill is reported as OOM, the verdict from the engine / cgroup side', async () => {
    const n = await startNode(fx, 'oom', MINUTES);
    agents.push(n.agent);
    const job = acceptedJob(
      'hog',
      [container('hog', { restart: 'never', memory: 16 * 2 ** 20, command: ['/bin/sh', '-c', 'sleep 1; exec /bin/dd if=/dev/zero of=/dev/null bs=64M count=1'] })],
      [n.name],
    );
    await n.agent.reconcile([job]);
    const st = await statusWhere(n, 'hog-0', 'exited', (s) => s.state === 'exited');
    assert.match(st.message ?? '', /^container hog: OOM killed \(memory limit 16Mi\)/);
    assert.equal(st.containers.hog?.oomKilled, true);
    const c = await fx.engine.inspect(st.containers.hog!.id!);
    assert.ok(c.oomSource === 'engine' || c.oomSource === 'cgroup', `source: ${c.oomSource}`);
  });

  test('an idle node makes no engine call and no etcd request, across idle rounds and job changes elsewhere', async () => {
    const name = fx.podman.node('idle');
    const engine = counting(createEngine({ socketPath: fx.podman.socketPath, registryAuth: [] }));
    const driver = counting(createEtcdDriver({ endpoints: [fx.etcd.endpoint], requestTimeoutMs: 10_000 }), new Set(['range', 'txn', 'put', 'delete', 'watch']));
    const store = ClusterStore.connect({ endpoints: [fx.etcd.endpoint], driver: driver.target });
    const session = await store.registerNode(
      { name, address: ADDRESS, labels: {}, capacity: { memory: 8 * 2 ** 30, disk: 8 * 2 ** 30, cpu: 4000 } },
      { ttlSeconds: 10, agentId: randomUUID() },
    );
    let probes = 0;
    const countedProbes: Probes = {
      http: (...a) => (probes++, NETWORK_PROBES.http(...a)),
      tcp: (...a) => (probes++, NETWORK_PROBES.tcp(...a)),
    };
    const dataDir = path.join(fx.dir, name, 'data');
    const agent = new NodeAgent({
      node: name,
      address: ADDRESS,
      dnsZone: ZONE,
      engine: engine.target,
      pods: new PodRuntime({ engine: engine.target, node: name, volumes: { dataDir, sharedRoot: path.join(fx.dir, name, 'shared') }, hostIp: '127.0.0.1', stopTimeoutSec: 1 }),
      sink: storeSink(store, () => session),
      log: log.child({ node: name }),
      timing: MINUTES,
      probes: countedProbes,
    });
    agents.push(agent);
    try {
      const web = acceptedJob(
        'idle',
        [container('web', { restart: 'always', command: ['/bin/httpd', '-f', '-p', '8080', '-h', '/www'], healthcheck: httpCheck(8080, '/index.html') })],
        [name, name, name],
      );
      const elsewhere = (i: number) => acceptedJob(`other${i}`, [container('x', { command: SLEEP })], ['some-other-node', null]);
      await agent.reconcile([web]);
      const dnsKeys = [0, 1, 2].map((i) => fx.store.keys.dnsKey(ZONE, 'idle', `idle-${i}`));
      await waitFor('three healthy instances in DNS', async () => {
        const recs = await fx.store.listDnsRecords();
        return dnsKeys.every((k) => recs.has(k)) || undefined;
      }, { timeoutMs: 30_000 });
      // Settled: a stretch of health checks (every instance checked twice) without any engine call or etcd request.
      const probesFrom = (n: number) => waitFor(`${n} more health checks`, () => probes >= n || undefined, { timeoutMs: 20_000, intervalMs: 20 });
      // (A few tries: start-up's follow-up observations may still be under way. Code that polls never
      // settles; it goes on to fail the assertions below, which say what it called.)
      for (let i = 0; i < 5; i++) {
        const [e, d] = [engine.calls.length, driver.calls.length];
        await probesFrom(probes + 6);
        if (engine.calls.length === e && driver.calls.length === d) break;
      }
      const [engineFrom, driverFrom] = [engine.calls.length, driver.calls.length];

      // Idle rounds: the same jobs again, and jobs changing on other nodes, with health checks going on.
      for (let i = 0; i < 5; i++) {
        await agent.reconcile([web]);
        await agent.reconcile([web, elsewhere(i)]);
        await probesFrom(probes + 3);
      }
      assert.deepEqual(tally(engine.calls.slice(engineFrom)), {}, 'no engine call (health probes are not engine calls)');
      assert.deepEqual(tally(driver.calls.slice(driverFrom)), {}, 'no etcd request');
      // Still watching: a kill is noticed.
      const [c] = await fx.engine.listManaged(name, { instance: 'idle-0' });
      await request(fx.podman.socketPath, 'POST', `/containers/${c!.id}/kill?signal=KILL`);
      await waitFor('the kill noticed and restarted', async () => {
        const s = (await fx.store.listInstanceStatus(name)).find((x) => x.instance === 'idle-0');
        return (s?.restarts === 1 && s.state === 'healthy') || undefined;
      }, { timeoutMs: 20_000 });
      assert.equal(c!.labels[LABEL.node], name);
    } finally {
      await agent.close();
      await session.release().catch(() => undefined);
      await store.close().catch(() => undefined);
    }
  });
});
