// Zero failed requests through `ozy ingress` while the cluster replaces or
// removes instances: a steady 50 requests/s (keep-alive) against a 3-instance
// job during a rolling update, then during a scale-down. Every stop drains
// first (routes and DNS out, then SIGTERM), so no request may fail.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { merge, startClusterWithAgents, type TestCluster, shellJob } from '../../harness/cluster';
import { startOzy, type OzyProcess } from '../../harness/ozy-process';
import { waitFor } from '../../harness/wait';

const HOST = 'web.ozy.test';
const SERVE = ["trap 'exit 0' TERM", 'mkdir -p /srv', 'echo ok > /srv/health.txt', '/bin/hostname > /srv/index.html', '/bin/httpd -f -p 8080 -h /srv & wait'].join('; ');

function webJob(instances: number, version: string): string {
  return shellJob({
    name: 'web',
    script: SERVE,
    memory: '16M',
    cpu: '20m',
    top: [`numInstances: ${instances}`, 'update: {maxParallel: 1, minHealthy: 1s, healthyDeadline: 30s}', 'stopGrace: 2s'],
    container: ['ports: ["8080"]', `environment: {VERSION: "${version}"}`, 'healthcheck: {type: http, port: 8080, path: /health.txt, interval: 300ms, timeout: 1s}'],
    after: ['ingress:', `  - host: ${HOST}`, '    port: 8080'],
  });
}

/** A steady load: `rate` requests per second through the ingress, keep-alive; counts what failed and why. */
function steadyLoad(address: string, rate: number): { answered(): number; stop(): Promise<{ sent: number; ok: number; failures: string[] }> } {
  const [hostname, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let sent = 0;
  let ok = 0;
  const failures: string[] = [];
  const inflight = new Set<Promise<void>>();
  const one = (): Promise<void> =>
    new Promise<void>((resolve) => {
      sent++;
      const req = http.request({ hostname, port, path: '/index.html', headers: { host: HOST }, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else failures.push(`HTTP ${res.statusCode}`);
          resolve();
        });
      });
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      req.on('error', (err) => {
        failures.push(err.message);
        resolve();
      });
      req.end();
    });
  const timer = setInterval(() => {
    const p = one();
    inflight.add(p);
    void p.then(() => inflight.delete(p));
  }, 1000 / rate);
  return {
    answered: () => ok + failures.length,
    async stop() {
      clearInterval(timer);
      await Promise.all([...inflight]);
      agent.destroy();
      return { sent, ok, failures };
    },
  };
}

describe('no failed requests through ozy ingress while instances are replaced or removed', () => {
  let c: TestCluster;
  let ingress: OzyProcess;
  let address: string;

  const healthyWeb = async (n: number, version: string): Promise<boolean> => {
    const job = (await c.store.snapshot()).jobs.get('web');
    if (!job || job.rollout || job.instances.length !== n) return false;
    if (!job.spec.containers[0]!.environment.some((e) => 'value' in e && e.value === version)) return false;
    const statuses = (await c.store.listInstanceStatus()).filter((s) => s.job === 'web' && s.state === 'healthy' && s.specHash === job.specHash);
    return statuses.length === n;
  };

  before(async () => {
    c = await startClusterWithAgents(['a', 'b', 'c']);
    ingress = startOzy(['ingress', '--etcd', c.etcd.endpoint, '--listen', '127.0.0.1:0']);
    address = await ingress.address('ingress listening');
    await merge(c.user, { 'jobs/web.yaml': webJob(3, 'v1') }, 'web v1');
    await waitFor('3 healthy instances of v1', () => healthyWeb(3, 'v1'), { timeoutMs: 90_000 });
  });
  after(async () => {
    await ingress?.stop();
    await c?.stop();
  });

  test('during a rolling update of a 3-instance job at 50 requests/s', async (t) => {
    const load = steadyLoad(address, 50);
    await merge(c.user, { 'jobs/web.yaml': webJob(3, 'v2') }, 'web v2');
    await waitFor('3 healthy instances of v2', () => healthyWeb(3, 'v2'), { timeoutMs: 90_000 });
    const r = await load.stop();
    t.diagnostic(`rolling update: ${r.sent} requests, ${r.ok} ok, ${r.failures.length} failed`);
    assert.ok(r.sent > 100, `the load ran through the update (${r.sent} requests)`);
    assert.deepEqual(r.failures, []);
  });

  test('during a scale-down from 3 to 1 at 50 requests/s', async (t) => {
    const load = steadyLoad(address, 50);
    // The load runs on every instance before the change.
    await waitFor('50 requests answered', () => load.answered() >= 50, { timeoutMs: 10_000 });
    await merge(c.user, { 'jobs/web.yaml': webJob(1, 'v2') }, 'web scaled to 1');
    await waitFor('one instance left, its siblings gone from etcd', async () => {
      const statuses = (await c.store.listInstanceStatus()).filter((s) => s.job === 'web');
      return (await healthyWeb(1, 'v2')) && statuses.length === 1;
    }, { timeoutMs: 60_000 });
    const r = await load.stop();
    t.diagnostic(`scale-down: ${r.sent} requests, ${r.ok} ok, ${r.failures.length} failed`);
    assert.ok(r.sent > 50);
    assert.deepEqual(r.failures, []);
  });
});
