// Ingress and name service end to end: two `ozy agent` processes running a
// real busybox httpd job on podman, `ozy ingress` and `ozy dns` as child
// processes reading only etcd, and real clients (HTTP with a Host header, a
// raw TCP connection, dig). The job never publishes its port: the agents
// publish the ingress port on a host port of their choosing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { BUSYBOX_IMAGE, buildBusyboxImage, createEngine } from '../../../src/runtime';
import { merge, startCluster, type TestCluster } from '../../harness/cluster';
import { freePort } from '../../harness/net';
import { startOzy, type OzyProcess } from '../../harness/ozy-process';
import { waitFor } from '../../harness/wait';

const run = promisify(execFile);
const HOST = 'shop.example.test';

const SHOP_SCRIPT = [
  "trap 'exit 0' TERM",
  'mkdir -p /srv/cgi-bin',
  '/bin/hostname > /srv/index.html',
  'echo ok > /srv/health.txt',
  // CGI headers end in CRLF (HTTP parsers insist): the script's own printf writes them.
  String.raw`printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nrm -f /srv/health.txt\n/bin/hostname\n' > /srv/cgi-bin/sick`,
  'chmod +x /srv/cgi-bin/sick',
  '/bin/httpd -f -p 8080 -h /srv & wait',
].join('; ');

function shopJob(name: string, instances: number, tcpPort: number): string {
  return [
    `name: ${name}`,
    `numInstances: ${instances}`,
    'containers:',
    '  web:',
    `    image: ${BUSYBOX_IMAGE}`,
    // Each copy serves its own hostname, so the test can tell which one answered;
    // GET /cgi-bin/sick makes the copy that serves it fail its health check (/health.txt gone).
    `    command: ["/bin/sh", "-c", ${JSON.stringify(SHOP_SCRIPT)}]`,
    '    ports: ["8080"]',
    '    memory: 32M',
    '    cpu: 50m',
    '    healthcheck: {type: http, port: 8080, path: /health.txt, interval: 300ms, timeout: 1s}',
    'ingress:',
    `  - host: ${HOST}`,
    '    port: 8080',
    `  - tcp: ${tcpPort}`,
    '    port: 8080',
    '',
  ].join('\n');
}

function get(address: string, host: string, path = '/index.html'): Promise<{ status: number; type: string; body: string }> {
  const [hostname, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('ingress and DNS end to end (agents on podman)', () => {
  let c: TestCluster;
  let ingress: OzyProcess;
  let dns: OzyProcess;
  let ingressAddress: string;
  let dnsPort: number;
  let tcpPort: number;

  before(async () => {
    c = await startCluster();
    await buildBusyboxImage(createEngine({ socketPath: c.podman.socketPath, registryAuth: [] }));
    // Room for one instance per node: the two copies land on two nodes.
    await Promise.all(['a', 'b'].map((n) => c.startAgent({ name: n, memory: '48M' })));
    await c.waitForNodes(2);
    tcpPort = await freePort();
    dnsPort = await freePort();
    const etcd = c.etcd.endpoint;
    ingress = startOzy(['ingress', '--etcd', etcd, '--listen', '127.0.0.1:0', '--tcp-ip', '127.0.0.1']);
    dns = startOzy(['dns', '--etcd', etcd, '--listen', `127.0.0.1:${dnsPort}`, '--zone', 'ozy.local']);
    ingressAddress = await ingress.address('ingress listening');
    await dns.address('dns listening');
  });
  after(async () => {
    await ingress?.stop();
    await dns?.stop();
    await c?.stop();
  });

  test('requests by Host reach the healthy instances on both nodes', async () => {
    await merge(c.user, { 'jobs/shop.yaml': shopJob('shop', 2, tcpPort) }, 'shop with ingress');
    const statuses = await waitFor('both instances healthy with an endpoint', async () => {
      const all = (await c.store.listInstanceStatus()).filter((s) => s.job === 'shop' && s.state === 'healthy' && s.endpoints?.['8080']);
      return all.length === 2 ? all : undefined;
    }, { timeoutMs: 60_000 });
    assert.deepEqual(new Set(statuses.map((s) => s.node)).size, 2, 'one instance per node');
    for (const s of statuses) assert.equal(s.endpoints!['8080']!.host, '127.0.0.1', 'the node address');

    const servedBy = new Set<string>();
    await waitFor('both instances answer through the ingress', async () => {
      const r = await get(ingressAddress, 'SHOP.example.test:8443');
      if (r.status === 200) servedBy.add(r.body.trim());
      return servedBy.size === 2;
    }, { timeoutMs: 20_000 });
  });

  test('an instance failing its health check stops getting requests; the other serves them all', async () => {
    const sick = await get(ingressAddress, HOST, '/cgi-bin/sick');
    assert.equal(sick.status, 200, sick.body);
    const sickHost = sick.body.trim();
    await waitFor('the sick instance out of the routes', async () => {
      const statuses = (await c.store.listInstanceStatus()).filter((st) => st.job === 'shop');
      return statuses.some((st) => st.state !== 'healthy' && st.endpoints === undefined);
    }, { timeoutMs: 20_000 });
    // Once the ingress's watch has the change too: every request goes to the healthy one.
    await waitFor('ten requests in a row served by the healthy instance', async () => {
      for (let i = 0; i < 10; i++) {
        const r = await get(ingressAddress, HOST);
        if (r.status !== 200 || r.body.trim() === sickHost) return false;
      }
      return true;
    }, { timeoutMs: 10_000 });
  });

  test('an unknown host is a 404 problem', async () => {
    const r = await get(ingressAddress, 'nobody.example.test');
    assert.equal(r.status, 404);
    assert.match(r.type, /application\/problem\+json/);
    assert.match(String((JSON.parse(r.body) as { type?: string }).type), /errors\.md#/);
  });

  test('a TCP route forwards a raw connection to an instance', async () => {
    const reply = await waitFor('an answer over the TCP route', () =>
      new Promise<string>((resolve, reject) => {
        const sock = net.connect(tcpPort, '127.0.0.1', () => sock.end('GET /index.html HTTP/1.0\r\n\r\n'));
        let data = '';
        sock.setEncoding('utf8').on('data', (d: string) => (data += d));
        sock.on('end', () => resolve(data));
        sock.on('error', reject);
      }).then((d) => (d.startsWith('HTTP/1.') ? d : undefined)),
    );
    assert.match(reply, /^HTTP\/1\.[01] 200/);
  });

  test('ozy dns answers A and SRV for the healthy instances', async () => {
    const digShort = async (name: string, type: string) =>
      (await run('dig', ['@127.0.0.1', '-p', String(dnsPort), '+norecurse', '+short', '+time=2', '+tries=1', name, type])).stdout.trim().split('\n').filter(Boolean);
    const a = await waitFor('two A records', async () => {
      const lines = await digShort('shop.ozy.local', 'A');
      return lines.length === 2 ? lines : undefined;
    });
    for (const ip of a) assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    const srv = await digShort('shop.ozy.local', 'SRV');
    assert.equal(srv.length, 2);
    for (const line of srv) assert.match(line, /^\d+ \d+ 8080 shop-[01]\.shop\.ozy\.local\.$/);
    assert.equal((await digShort('shop-1.shop.ozy.local', 'A')).length, 1);
  });

  test('a second job claiming the same host is refused with a report naming the first; the first keeps serving', async () => {
    const other = await freePort();
    await merge(c.user, { 'jobs/zshop.yaml': shopJob('zshop', 1, other) }, 'zshop claims the same host');
    const text = await waitFor('report for zshop', () => c.user.readRemoteFile('main', 'rejections/zshop.json'), { timeoutMs: 20_000 });
    const problem = JSON.parse(text) as { type: string; job: string; errors?: Array<{ pointer: string; message: string }> };
    assert.match(problem.type, /errors\.md#ingress-conflict$/);
    assert.equal(problem.job, 'zshop');
    assert.match(problem.errors![0]!.message, /already routed to job "shop"/);
    assert.equal((await get(ingressAddress, HOST)).status, 200);
    await merge(c.user, { 'jobs/zshop.yaml': null }, 'drop zshop');
  });

  test('--container-dns: a container resolves instances by name through ozy dns', async () => {
    // ozy dns where containers reach it: the host's own address on the podman bridge.
    const digShort = async (name: string) =>
      (await run('dig', ['@127.0.0.1', '-p', String(dnsPort), '+norecurse', '+short', '+time=2', '+tries=1', name, 'A'])).stdout.trim().split('\n').filter(Boolean);
    const shopIps = await digShort('shop.ozy.local');
    const route = (await run('ip', ['-4', 'route', 'get', shopIps[0]!])).stdout;
    const gateway = /\bsrc (\d+\.\d+\.\d+\.\d+)/.exec(route)?.[1];
    assert.ok(gateway, `the host's address towards the pods: ${route}`);
    const bridgeDns = startOzy(['dns', '--etcd', c.etcd.endpoint, '--listen', `${gateway}:53`, '--zone', 'ozy.local']);
    try {
      await bridgeDns.address('dns listening');
      // A third node, the only one with room for the resolver job.
      await c.startAgent({ name: 'c', memory: '48M', extraArgs: ['--container-dns', gateway] });
      const resolver = [
        'name: resolver',
        'containers:',
        '  web:',
        `    image: ${BUSYBOX_IMAGE}`,
        `    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; mkdir -p /srv; (while true; do /bin/nslookup shop.ozy.local > /srv/n.txt 2>&1; mv /srv/n.txt /srv/index.html; sleep 1; done) & /bin/httpd -f -p 8080 -h /srv & wait"]`,
        '    ports: ["8080"]',
        '    memory: 40M',
        '    cpu: 50m',
        '    healthcheck: {type: http, port: 8080, path: /index.html, interval: 300ms, timeout: 1s}',
        'ingress:',
        '  - host: resolver.example.test',
        '    port: 8080',
        '',
      ].join('\n');
      await merge(c.user, { 'jobs/resolver.yaml': resolver }, 'resolver');
      const body = await waitFor('the resolver\'s answer through the ingress', async () => {
        const r = await get(ingressAddress, 'resolver.example.test');
        return r.status === 200 && shopIps.every((ip) => r.body.includes(ip)) ? r.body : undefined;
      }, { timeoutMs: 60_000 });
      assert.match(body, new RegExp(gateway.replace(/\./g, '\\.')), 'it asked the server --container-dns named');
      await merge(c.user, { 'jobs/resolver.yaml': null }, 'drop resolver');
    } finally {
      await bridgeDns.stop();
    }
  });

  test('scaled to 0, the known host answers 503 with a problem body', async () => {
    await merge(c.user, { 'jobs/shop.yaml': shopJob('shop', 0, tcpPort) }, 'shop to 0');
    const r = await waitFor('503 once no instance is left', async () => {
      const res = await get(ingressAddress, HOST);
      return res.status === 503 ? res : undefined;
    }, { timeoutMs: 30_000 });
    assert.match(r.type, /application\/problem\+json/);
  });
});
