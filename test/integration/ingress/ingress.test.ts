// `ozy ingress` against a real etcd: accepted jobs and instance statuses are
// written through the ClusterStore as agents write them; instances are plain
// Node servers on loopback. The proxy runs in-process (IngressServer), and
// once as the `ozy ingress` command in a child process.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import { IngressServer } from '../../../src/ingress/ingress-server';
import { matchRoute } from '../../../src/ingress/route-table';
import { problemTypeUrl } from '../../../src/problems';
import { ClusterStore } from '../../../src/store';
import { startEtcd, type EtcdServer } from '../../harness/etcd';
import { freePort } from '../../harness/net';
import { waitFor } from '../../harness/wait';
import { uniquePrefix } from '../store/fixtures';
import { acceptedJob, healthyStatus, putJobs, putStatus, registerNodes, request, startBackend, startOzy, type Backend, type TestNodes } from './fixtures';

const log = pino({ level: process.env.OZY_TEST_LOG ?? 'silent' }, pino.destination(2));
const BACKEND_TIMEOUT_MS = 1_500;

let etcd: EtcdServer;
let prefix: string;
let nodes: TestNodes;
let readerStore: ClusterStore;
let ingress: IngressServer;
let port: number;
const backends: Backend[] = [];
const cleanups: (() => Promise<unknown> | void)[] = [];

async function backend(name: string): Promise<Backend> {
  const b = await startBackend(name);
  backends.push(b);
  return b;
}

/** The backends the ingress routes `host` to right now. */
function routedTo(host: string, path = '/'): string[] | undefined {
  const m = matchRoute(ingress.routes(), host, path);
  return m.kind === 'route' ? m.route.backends.map((b) => b.instance) : undefined;
}

before(async () => {
  etcd = await startEtcd();
  prefix = uniquePrefix();
  nodes = await registerNodes(etcd.endpoint, prefix, ['n1', 'n2']);
  readerStore = ClusterStore.connect({ endpoints: [etcd.endpoint], prefix });
  ingress = new IngressServer({ store: readerStore, listen: { host: '127.0.0.1', port: 0 }, tcpIp: '127.0.0.1', backendTimeoutMs: BACKEND_TIMEOUT_MS, log });
  port = Number((await ingress.start()).split(':').pop());
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  await ingress?.stop(0);
  await readerStore?.close();
  await Promise.all(backends.map((b) => b.close()));
  await nodes?.close();
  await etcd?.stop();
});

describe('ozy ingress (in-process, real etcd)', () => {
  test('requests reach instances on both nodes, with X-Forwarded-* headers', async () => {
    const [a, b] = [await backend('web-a'), await backend('web-b')];
    const web = acceptedJob('web', [{ host: 'web.example.com', path: '/', port: 3000 }], ['n1', 'n2']);
    await putJobs(nodes.store, [web]);
    await putStatus(nodes, healthyStatus(web, 0, { 3000: a.port }));
    await putStatus(nodes, healthyStatus(web, 1, { 3000: b.port }));
    await waitFor('both instances routed', () => routedTo('web.example.com')?.length === 2);

    const answers = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const r = await request(port, 'Web.Example.com:8080', `/page?i=${i}`);
      assert.equal(r.status, 200);
      answers.add(r.body);
    }
    assert.deepEqual([...answers].sort(), ['web-a', 'web-b'], 'both instances get traffic');
    const h = a.seen[a.seen.length - 1]!;
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-host'], 'Web.Example.com:8080');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h.host, 'Web.Example.com:8080', 'the Host header reaches the instance unchanged');
  });

  test('an instance turning unhealthy stops getting requests once the watch delivers it', async () => {
    const [a, b] = [await backend('unh-a'), await backend('unh-b')];
    const job = acceptedJob('unh', [{ host: 'unh.example.com', path: '/', port: 80 }], ['n1', 'n2']);
    await putJobs(nodes.store, [job]);
    await putStatus(nodes, healthyStatus(job, 0, { 80: a.port }));
    await putStatus(nodes, healthyStatus(job, 1, { 80: b.port }));
    await waitFor('two backends', () => routedTo('unh.example.com')?.length === 2);
    await putStatus(nodes, healthyStatus(job, 1, { 80: b.port }, { state: 'unhealthy' }));
    await waitFor('one backend', () => routedTo('unh.example.com')?.join() === 'unh-0');
    const before = b.seen.length;
    for (let i = 0; i < 6; i++) assert.equal((await request(port, 'unh.example.com')).body, 'unh-a');
    assert.equal(b.seen.length, before, 'the unhealthy instance got nothing');
  });

  test('no healthy instance → 503, unknown host or path → 404, each with a problem body', async () => {
    const job = acceptedJob('down', [{ host: 'down.example.com', path: '/app', port: 80 }], ['n1']);
    await putJobs(nodes.store, [job]);
    await waitFor('the route', () => routedTo('down.example.com', '/app') !== undefined);
    const r503 = await request(port, 'down.example.com', '/app/x');
    assert.equal(r503.status, 503);
    assert.equal(r503.headers['content-type'], 'application/problem+json');
    const p503 = JSON.parse(r503.body) as { type: string; status: number; job: string };
    assert.equal(p503.type, problemTypeUrl('ingress-no-healthy-instance'));
    assert.equal(p503.job, 'down');

    const r404 = await request(port, 'nobody.example.com', '/');
    assert.equal(r404.status, 404);
    assert.equal((JSON.parse(r404.body) as { type: string }).type, problemTypeUrl('ingress-no-route'));
    assert.equal((await request(port, 'down.example.com', '/other')).status, 404, 'known host, no matching path');
  });

  test('a backend that does not answer in time → 504', async () => {
    const slow = await backend('slow');
    const job = acceptedJob('slow', [{ host: 'slow.example.com', path: '/', port: 80 }], ['n1']);
    await putJobs(nodes.store, [job]);
    await putStatus(nodes, healthyStatus(job, 0, { 80: slow.port }));
    await waitFor('the route', () => routedTo('slow.example.com')?.length === 1);
    const r = await request(port, 'slow.example.com', '/hang');
    assert.equal(r.status, 504);
    assert.equal((JSON.parse(r.body) as { type: string }).type, problemTypeUrl('ingress-backend-timeout'));
  });

  test('an instance that resets the connection after accepting it → 502', async () => {
    const rude = net.createServer((s) => s.once('data', () => s.resetAndDestroy()));
    await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => rude.close(() => resolve())));
    const job = acceptedJob('rude', [{ host: 'rude.example.com', path: '/', port: 80 }], ['n1']);
    await putJobs(nodes.store, [job]);
    await putStatus(nodes, healthyStatus(job, 0, { 80: (rude.address() as net.AddressInfo).port }));
    await waitFor('the route', () => routedTo('rude.example.com')?.length === 1);
    const r = await request(port, 'rude.example.com', '/');
    assert.equal(r.status, 502);
    assert.equal((JSON.parse(r.body) as { type: string }).type, problemTypeUrl('ingress-bad-gateway'));
  });

  test('a refused connection is retried on another instance: every request succeeds', async () => {
    const good = await backend('retry-good');
    const dead = await freePort(); // nothing listens there
    const job = acceptedJob('retry', [{ host: 'retry.example.com', path: '/', port: 80 }], ['n1', 'n2']);
    await putJobs(nodes.store, [job]);
    await putStatus(nodes, healthyStatus(job, 0, { 80: dead }));
    await putStatus(nodes, healthyStatus(job, 1, { 80: good.port }));
    await waitFor('two backends', () => routedTo('retry.example.com')?.length === 2);
    for (let i = 0; i < 8; i++) {
      const r = await request(port, 'retry.example.com', '/', { method: 'POST', body: `body ${i}` });
      assert.equal(r.status, 200);
      assert.equal((JSON.parse(r.body) as { bytes: number }).bytes, `body ${i}`.length, 'the body was not lost by the failed attempt');
    }
  });

  test('a streamed (chunked) upload of several MB passes intact, and so does Expect: 100-continue', async () => {
    const up = await backend('upload');
    const job = acceptedJob('upload', [{ host: 'upload.example.com', path: '/', port: 80 }], ['n2']);
    await putJobs(nodes.store, [job]);
    await putStatus(nodes, healthyStatus(job, 0, { 80: up.port }));
    await waitFor('the route', () => routedTo('upload.example.com')?.length === 1);

    const hash = createHash('sha256');
    const chunks = 64;
    const result = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/up', headers: { host: 'upload.example.com', 'transfer-encoding': 'chunked', expect: '100-continue' }, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      // The body goes only after the instance said "continue" (through the ingress).
      req.on('continue', () => {
        let i = 0;
        const writeMore = (): void => {
          while (i < chunks) {
            const chunk = Buffer.alloc(64 * 1024, i % 251);
            hash.update(chunk);
            i++;
            if (!req.write(chunk)) return void req.once('drain', writeMore);
          }
          req.end();
        };
        writeMore();
      });
    });
    const got = JSON.parse(result) as { bytes: number; sha256: string };
    assert.equal(got.bytes, chunks * 64 * 1024);
    assert.equal(got.sha256, hash.digest('hex'));
  });

  test('a websocket stays open across route changes', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => resolve());
    }));
    wss.on('connection', (sock) => sock.on('message', (m) => sock.send(`echo ${m.toString()}`)));
    const wsPort = (wss.address() as net.AddressInfo).port;
    const job = acceptedJob('chat', [{ host: 'chat.example.com', path: '/', port: 8080 }], ['n1']);
    await putJobs(nodes.store, [job]);
    await putStatus(nodes, healthyStatus(job, 0, { 8080: wsPort }));
    await waitFor('the route', () => routedTo('chat.example.com')?.length === 1);

    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket`, { headers: { host: 'chat.example.com' } });
    let closed = false;
    ws.on('close', () => (closed = true));
    const messages: string[] = [];
    ws.on('message', (m) => messages.push(m.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send('one');
    await waitFor('the first echo', () => messages.includes('echo one'));

    // Route changes: another job appears, and this job's only instance turns unhealthy.
    const other = acceptedJob('other', [{ host: 'other.example.com', path: '/', port: 80 }], ['n2']);
    await putJobs(nodes.store, [other]);
    await putStatus(nodes, healthyStatus(job, 0, { 8080: wsPort }, { state: 'unhealthy' }));
    await waitFor('the new table', () => routedTo('other.example.com') !== undefined && routedTo('chat.example.com')?.length === 0);
    ws.send('two');
    await waitFor('the echo after the route change', () => messages.includes('echo two'));
    assert.equal(closed, false);
    ws.close();
  });

  test('a TCP route forwards connections to an instance; its listener goes with the route', async () => {
    const echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => echo.close(() => resolve())));
    const dead = await freePort();
    const listenPort = await freePort();
    const job = acceptedJob('echo', [{ tcp: listenPort, port: 7 }], ['n1', 'n2']);
    await putJobs(nodes.store, [job]);
    await putStatus(nodes, healthyStatus(job, 0, { 7: dead }));
    await putStatus(nodes, healthyStatus(job, 1, { 7: (echo.address() as net.AddressInfo).port }));
    await waitFor('the TCP listener', () => ingress.tcpPorts().includes(listenPort) && ingress.routes().tcp.get(listenPort)?.backends.length === 2);

    for (let i = 0; i < 4; i++) {
      const reply = await waitFor('an echo through the TCP route', () => echoOnce(listenPort, `hello ${i}`));
      assert.equal(reply, `hello ${i}`);
    }
    await putJobs(nodes.store, [acceptedJob('echo', [], ['n1', 'n2'])]);
    await waitFor('the listener closed', () => !ingress.tcpPorts().includes(listenPort));
    await waitFor('connections refused', () => echoOnce(listenPort, 'x').then(() => false, () => true));
  });
});

/** Connects, sends `text`, half-closes, and returns all it gets back. */
function echoOnce(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => s.end(text));
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('end', () => {
      s.destroy();
      resolve(got);
    });
    s.on('error', reject);
  });
}

describe('ozy ingress (the command, as a child process)', () => {
  test('routes by host, logs JSON, stops on SIGTERM', async () => {
    const b = await backend('cmd');
    const job = acceptedJob('cmd', [{ host: 'cmd.example.com', path: '/', port: 80 }], ['n2']);
    await putJobs(nodes.store, [job]);
    await putStatus(nodes, healthyStatus(job, 0, { 80: b.port }));
    const ozy = startOzy(['ingress', '--etcd', etcd.endpoint, '--etcd-prefix', prefix, '--listen', '127.0.0.1:0', '--tcp-ip', '127.0.0.1', '--backend-timeout', '2s']);
    cleanups.push(() => ozy.stop());
    const address = await ozy.address('ingress listening');
    const childPort = Number(address.split(':').pop());
    const r = await waitFor('a routed answer', async () => {
      const x = await request(childPort, 'cmd.example.com');
      return x.status === 200 ? x : undefined;
    });
    assert.equal(r.body, 'cmd');
    assert.equal((await request(childPort, 'nope.example.com')).status, 404);
    assert.equal(await ozy.stop(), 0);
    assert.match(ozy.logs(), /"msg":"routes updated"/);
  });

  test('--workers 2: both workers serve the same port and stop with the primary', async () => {
    const ozy = startOzy(['ingress', '--etcd', etcd.endpoint, '--etcd-prefix', prefix, '--listen', '127.0.0.1:0', '--workers', '2']);
    cleanups.push(() => ozy.stop());
    const childPort = Number((await ozy.address('ingress listening')).split(':').pop());
    await waitFor('two workers listening', () => (ozy.logs().match(/"msg":"ingress worker listening"/g) ?? []).length === 2);
    for (let i = 0; i < 4; i++) {
      const r = await waitFor('a routed answer', async () => {
        const x = await request(childPort, 'cmd.example.com');
        return x.status === 200 ? x : undefined;
      });
      assert.equal(r.body, 'cmd');
    }
    assert.equal(await ozy.stop(), 0);
  });
});
