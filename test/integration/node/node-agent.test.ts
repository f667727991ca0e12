// NodeAgent against a real podman service and a real etcd: pods, health
// checks, restart policies, OOM kills, DNS records, scale-down, adoption,
// replacement and node isolation. Each test uses its own node name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LABEL, localVolumePath } from '../../../src/runtime';
import type { NodeAgent } from '../../../src/agent/node-agent';
import { DNS_TTL_SECONDS } from '../../../src/network/dns';
import { freePort } from '../../harness/net';
import { waitFor } from '../../harness/wait';
import {
  ADDRESS,
  SLEEP,
  acceptedJob,
  container,
  httpCheck,
  startNode,
  startNodeFixture,
  statusWhere,
  type NodeFixture,
} from './fixtures';

let fx: NodeFixture;
const agents: NodeAgent[] = [];
before(async () => {
  fx = await startNodeFixture();
});
after(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await fx?.stop();
});

async function node(suffix: string) {
  const n = await startNode(fx, suffix);
  agents.push(n.agent);
  return n;
}

const ids = async (nodeName: string, instance: string): Promise<Record<string, string>> =>
  Object.fromEntries((await fx.engine.listManaged(nodeName, { instance })).map((c) => [c.labels[LABEL.container]!, c.id]));

describe('node agent on podman + etcd', () => {
  test('two containers talk over localhost, the dependent starts only once its dependency is healthy; DNS has --address and the host port', async () => {
    const n = await node('pair');
    const port = await freePort();
    const job = acceptedJob(
      'pair',
      [
        // Serves /health only after a second: a dependent started too early finds nothing.
        container('server', {
          command: ['/bin/sh', '-c', 'sleep 1; echo ok > /www/health; exec /bin/httpd -f -p 8080 -h /www'],
          ports: [{ host: port, container: 8080, protocol: 'tcp' }],
          healthcheck: httpCheck(8080, '/health'),
        }),
        // One try over the pod's localhost, no retry, restart never: it only becomes healthy if the order held.
        container('client', {
          restart: 'never',
          dependsOn: ['server'],
          command: ['/bin/sh', '-c', 'mkdir -p /w && wget -q -O /w/ok http://127.0.0.1:8080/health && exec /bin/httpd -f -p 8081 -h /w'],
          healthcheck: httpCheck(8081, '/ok'),
        }),
      ],
      [n.name],
    );
    await n.agent.reconcile([job]);
    const st = await statusWhere(n, 'pair-0', 'healthy', (s) => s.state === 'healthy');
    assert.equal(st.restarts, 0);
    assert.equal(st.specHash, job.specHash);
    assert.deepEqual(Object.keys(st.containers), ['server', 'client']);
    assert.deepEqual(
      Object.fromEntries(Object.entries(st.containers).map(([k, v]) => [k, v.id])),
      await ids(n.name, 'pair-0'),
    );
    const rec = await waitFor('DNS record', () => n.dns('pair', 'pair-0'));
    assert.deepEqual(rec, { host: ADDRESS, port, ttl: DNS_TTL_SECONDS });
    const key = fx.store.keys.dnsKey('ozy.local', 'pair', 'pair-0');
    assert.equal(key, '/skydns/local/ozy/pair/pair-0');
    // The published port answers on the host.
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal((await res.text()).trim(), 'ok');
  });

  test('the memory limit is enforced and the kill is reported as OOM', async () => {
    const n = await node('oom');
    const job = acceptedJob(
      'hog',
      [container('hog', { restart: 'never', memory: 16 * 2 ** 20, command: ['/bin/dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'] })],
      [n.name],
    );
    await n.agent.reconcile([job]);
    const st = await statusWhere(n, 'hog-0', 'exited', (s) => s.state === 'exited');
    assert.match(st.message ?? '', /^container hog: OOM killed \(memory limit 16Mi\)/);
    assert.equal(st.containers.hog?.oomKilled, true);
    assert.equal(st.containers.hog?.exitCode, 137);
    assert.equal(await n.dns('hog', 'hog-0'), undefined);
  });

  test('health check: healthy → unhealthy (DNS removed) → restart → healthy (DNS back), same containers', async () => {
    const n = await node('hc');
    const job = acceptedJob(
      'hc',
      [
        container('web', {
          restart: 'always',
          // The health file lives in a local volume, so the test can remove it from the host.
          command: ['/bin/sh', '-c', 'echo ok > /www/h/health; exec /bin/httpd -f -p 8080 -h /www'],
          volumes: [{ type: 'local', path: '/www/h', space: 2 ** 20 }],
          ports: [{ container: 8080, protocol: 'tcp' }],
          healthcheck: httpCheck(8080, '/h/health'),
        }),
      ],
      [n.name],
    );
    await n.agent.reconcile([job]);
    await statusWhere(n, 'hc-0', 'healthy', (s) => s.state === 'healthy');
    const [web] = await fx.engine.listManaged(n.name, { instance: 'hc-0' });
    // No published port: the record is the pod's bridge IP and the container port.
    assert.deepEqual(await waitFor('DNS record', () => n.dns('hc', 'hc-0')), { host: web!.ip, port: 8080, ttl: DNS_TTL_SECONDS });

    fs.rmSync(path.join(localVolumePath(n.dataDir, 'hc-0', 'web', 0), 'health'));
    const st = await statusWhere(n, 'hc-0', 'restarted and healthy', (s) => s.restarts >= 1 && s.state === 'healthy');
    assert.equal(st.containers.web?.id, web!.id, 'restarted in place');
    const states = n.sink.states.get('hc-0')!;
    const healthy = states.indexOf('healthy');
    assert.ok(healthy >= 0 && states.indexOf('unhealthy', healthy) > healthy, states.join(' → '));
    assert.equal(states[states.length - 1], 'healthy');
    // The record is published after the healthy status: wait for it before reading the writes.
    assert.ok(await waitFor('DNS back', () => n.dns('hc', 'hc-0')));
    const key = fx.store.keys.dnsKey('ozy.local', 'hc', 'hc-0');
    const ops = n.sink.dnsOps.filter((o) => o.endsWith(key)).map((o) => o.split(' ')[0]);
    // A fresh start clears any stale record first; then published, withdrawn while unhealthy, published again.
    assert.deepEqual(ops, ['delete', 'put', 'delete', 'put']);
  });

  test('restart policy never leaves a failed container exited while on-failure restarts its own', async () => {
    const n = await node('never');
    const never = acceptedJob('nv', [container('main', { restart: 'never', command: ['/bin/sh', '-c', 'exit 3'] })], [n.name]);
    const onFailure = acceptedJob('of', [container('main', { restart: 'on-failure', command: ['/bin/sh', '-c', 'exit 1'] })], [n.name]);
    await n.agent.reconcile([never, onFailure]);
    // The on-failure instance is the clock: two restarts take several polls of the never one.
    await statusWhere(n, 'of-0', 'restarted twice', (s) => s.restarts >= 2);
    const st = await statusWhere(n, 'nv-0', 'exited', (s) => s.state === 'exited');
    assert.equal(st.restarts, 0);
    assert.match(st.message ?? '', /^container main exited with code 3; not restarted/);
    const [c] = await fx.engine.listManaged(n.name, { instance: 'nv-0' });
    assert.equal(c?.state, 'exited');
    assert.equal(c?.exitCode, 3);
  });

  test('scale-down removes the highest instance: containers, local volumes, status and DNS', async () => {
    const n = await node('scale');
    const make = (count: number) =>
      acceptedJob(
        'sd',
        [container('main', { command: SLEEP, ports: [{ container: 80, protocol: 'tcp' }], volumes: [{ type: 'local', path: '/data', space: 2 ** 20 }] })],
        Array.from({ length: count }, () => n.name),
      );
    await n.agent.reconcile([make(2)]);
    await statusWhere(n, 'sd-1', 'healthy', (s) => s.state === 'healthy');
    await statusWhere(n, 'sd-0', 'healthy', (s) => s.state === 'healthy');
    await waitFor('both DNS records', async () => (await n.dns('sd', 'sd-0')) && (await n.dns('sd', 'sd-1')));
    const volume = path.join(n.dataDir, 'volumes', 'sd-1');
    assert.ok(fs.existsSync(volume));
    const kept = await ids(n.name, 'sd-0');

    await n.agent.reconcile([make(1)]);
    assert.deepEqual(await fx.engine.listManaged(n.name, { instance: 'sd-1' }), []);
    assert.equal(fs.existsSync(volume), false, 'local volume deleted');
    assert.equal(await n.status('sd-1'), undefined);
    assert.equal(await n.dns('sd', 'sd-1'), undefined);
    assert.deepEqual(await ids(n.name, 'sd-0'), kept);
    assert.ok(await n.dns('sd', 'sd-0'));
  });

  test('an agent restart adopts running containers without restarting them (same ids, same start times)', async () => {
    const n = await node('adopt');
    const job = acceptedJob(
      'ad',
      [
        container('web', { command: ['/bin/httpd', '-f', '-p', '8080', '-h', '/www'], healthcheck: httpCheck(8080, '/index.html') }),
        container('side', { command: SLEEP, dependsOn: ['web'] }),
      ],
      [n.name],
    );
    await n.agent.reconcile([job]);
    await statusWhere(n, 'ad-0', 'healthy', (s) => s.state === 'healthy');
    const before = await fx.engine.listManaged(n.name, { instance: 'ad-0' });
    await n.agent.close();

    const second = n.restartAgent();
    agents.push(second);
    await second.reconcile([job]);
    await waitFor('adopted and healthy', () => second.statuses().find((s) => s.instance === 'ad-0' && s.state === 'healthy'));
    const afterward = await fx.engine.listManaged(n.name, { instance: 'ad-0' });
    const key = (cs: typeof before) => cs.map((c) => `${c.id} ${c.startedAt} ${c.state}`).sort();
    assert.deepEqual(key(afterward), key(before));
    assert.equal(second.statuses()[0]?.restarts, 0);
    assert.equal((await statusWhere(n, 'ad-0', 'healthy', (s) => s.state === 'healthy')).restarts, 0);
  });

  test('a spec change replaces the containers', async () => {
    const n = await node('replace');
    const v1 = acceptedJob('rp', [container('main', { command: SLEEP, environment: [{ name: 'V', value: '1' }] })], [n.name]);
    const v2 = acceptedJob('rp', [container('main', { command: SLEEP, environment: [{ name: 'V', value: '2' }] })], [n.name]);
    assert.notEqual(v1.specHash, v2.specHash);
    await n.agent.reconcile([v1]);
    await statusWhere(n, 'rp-0', 'healthy', (s) => s.state === 'healthy');
    const old = await ids(n.name, 'rp-0');
    await n.agent.reconcile([v2]);
    await statusWhere(n, 'rp-0', 'healthy on v2', (s) => s.state === 'healthy' && s.specHash === v2.specHash);
    const now = await fx.engine.listManaged(n.name, { instance: 'rp-0' });
    assert.equal(now.length, 1);
    assert.notEqual(now[0]!.id, old.main);
    assert.equal(now[0]!.labels[LABEL.spec], v2.specHash);
  });

  test("containers of another node are never touched, even with the same instance name", async () => {
    const a = await node('iso-a');
    const b = await node('iso-b');
    const job = (owner: string) => acceptedJob('iso', [container('main', { command: SLEEP })], [owner]);
    await b.agent.reconcile([job(b.name)]);
    await statusWhere(b, 'iso-0', 'healthy', (s) => s.state === 'healthy');
    const theirs = await ids(b.name, 'iso-0');

    // A sees the instance on B: nothing to do. Then A is told it owns it: it starts its own copy beside B's.
    await a.agent.reconcile([job(b.name)]);
    assert.deepEqual(await fx.engine.listManaged(a.name), []);
    await a.agent.reconcile([job(a.name)]);
    await statusWhere(a, 'iso-0', 'healthy', (s) => s.state === 'healthy');
    assert.notEqual((await ids(a.name, 'iso-0')).main, theirs.main);

    // Fencing A removes only A's containers.
    await a.agent.stopAll();
    assert.deepEqual(await fx.engine.listManaged(a.name), []);
    assert.equal(await a.status('iso-0'), undefined);
    const still = await fx.engine.listManaged(b.name, { instance: 'iso-0' });
    assert.deepEqual(still.map((c) => [c.id, c.state]), [[theirs.main, 'running']]);
    assert.equal((await b.status('iso-0'))?.state, 'healthy');
  });
});
