// The ingress's instance side on real sockets: the HTTP proxy (no etcd; a
// fixed route table) in front of instances written to misbehave in the ways
// the pool, the response parser and the retry rules must handle.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { Balancer } from '../../../src/ingress/balancer';
import { HttpProxy } from '../../../src/ingress/http-proxy';
import type { Backend as RouteBackend, HttpRoute, RouteTable } from '../../../src/ingress/route-table';
import { problemTypeUrl } from '../../../src/problems';
import { freePort } from '../../harness/net';
import { waitFor } from '../../harness/wait';
import { request, startBackend, type Backend } from './fixtures';

const log = pino({ level: process.env.OZY_TEST_LOG ?? 'silent' }, pino.destination(2));

const routes = new Map<string, HttpRoute[]>();
const table: RouteTable = { exact: routes, wildcard: new Map(), tcp: new Map(), conflicts: [] };
let proxy: HttpProxy;
let server: http.Server;
let port: number;
const cleanups: (() => Promise<unknown> | void)[] = [];

/** Routes `host` to the given ports, in this order (a new route starts its round robin at the first). */
function route(host: string, ports: number[]): void {
  const backends: RouteBackend[] = ports.map((p, i) => ({ instance: `${host.split('.')[0]}-${i}`, node: 'n1', host: '127.0.0.1', port: p, address: `127.0.0.1:${p}` }));
  routes.set(host, [{ id: `job ${host}/`, job: host.split('.')[0]!, host, path: '/', port: 80, backends }]);
}

async function backend(name: string): Promise<Backend> {
  const b = await startBackend(name);
  cleanups.push(() => b.close());
  return b;
}

/** A raw TCP "instance": `onConnection` gets each socket and its ordinal. */
async function rawInstance(onConnection: (s: net.Socket, n: number) => void): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const open = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => undefined);
    onConnection(s, n++);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        srv.close(() => resolve());
      }),
  );
  return { port: (srv.address() as net.AddressInfo).port, connections: () => n };
}

/** Calls `each` with every complete request head a raw instance receives on `s` (bodyless requests only). */
function onRequests(s: net.Socket, each: (head: string, i: number) => void): void {
  let buf = '';
  let i = 0;
  s.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
      const head = buf.slice(0, end);
      buf = buf.slice(end + 4);
      each(head, i++);
    }
  });
}

before(async () => {
  proxy = new HttpProxy({ table: () => table, balancer: new Balancer(), backendTimeoutMs: 5_000, log });
  server = http.createServer({ keepAlive: true, requestTimeout: 0 });
  server.on('request', (req, res) => proxy.handleRequest(req, res));
  server.on('checkContinue', (req, res) => proxy.handleRequest(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  proxy.close();
  for (const c of cleanups.reverse()) await c();
});

describe('keep-alive connections to instances', () => {
  test('sequential requests to one instance share one connection', async () => {
    const counted = await rawInstance((s) => onRequests(s, () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')));
    route('pool.example.com', [counted.port]);
    for (let i = 0; i < 5; i++) assert.equal((await request(port, 'pool.example.com')).body, 'ok');
    assert.equal(counted.connections(), 1);
  });

  test('a pooled connection the instance closed as it was reused: the request goes again on a new connection, unseen by the client', async () => {
    // Answers the first request on each connection, then closes on the next one without answering:
    // the keep-alive race (an instance's idle timeout firing as the proxy reuses the connection).
    const racy = await rawInstance((s) =>
      onRequests(s, (_head, i) => {
        if (i === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst');
        else s.end();
      }),
    );
    route('racy.example.com', [racy.port]);
    assert.equal((await request(port, 'racy.example.com')).body, 'first');
    const again = await request(port, 'racy.example.com', '/again');
    assert.equal(again.status, 200, 'not a 502');
    assert.equal(again.body, 'first', 'answered on a new connection');
    const del = await request(port, 'racy.example.com', '/x', { method: 'DELETE' });
    assert.equal(del.status, 200, 'a request without a body never reached the instance either');
    assert.equal(racy.connections(), 3);
  });

  test('a connection is not reused after a response with bytes beyond its end, nor after Connection: close', async () => {
    const sloppy = await rawInstance((s) =>
      onRequests(s, (head) => {
        if (head.startsWith('GET /extra')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE');
        else s.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok');
      }),
    );
    route('sloppy.example.com', [sloppy.port]);
    assert.equal((await request(port, 'sloppy.example.com', '/extra')).body, 'ok');
    assert.equal((await request(port, 'sloppy.example.com', '/close')).body, 'ok');
    assert.equal((await request(port, 'sloppy.example.com', '/extra')).body, 'ok', 'the garbage was never read as a response');
    assert.equal(sloppy.connections(), 3);
  });
});

describe('retries', () => {
  test('a new connection reset before any response byte: a GET goes to another instance', async () => {
    const dying = await rawInstance((s) => s.once('data', () => s.resetAndDestroy()));
    const good = await backend('good');
    route('rolling.example.com', [dying.port, good.port]);
    for (let i = 0; i < 4; i++) {
      const r = await request(port, 'rolling.example.com', `/page/${i}`);
      assert.equal(r.status, 200, `request ${i}`);
      assert.equal(r.body, 'good');
    }
    assert.ok(dying.connections() >= 1, 'the dying instance was tried');
  });

  test('an instance that closes without answering (EOF): a HEAD goes to another instance', async () => {
    const closing = await rawInstance((s) => s.once('data', () => s.end()));
    const good = await backend('good-head');
    route('closing.example.com', [closing.port, good.port]);
    const r = await request(port, 'closing.example.com', '/', { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-backend'], 'good-head');
    assert.equal(closing.connections(), 1);
  });

  test('a POST whose body reached the dropping instance is not replayed: 502', async () => {
    const dying = await rawInstance((s) => {
      let got = 0;
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (got > 200) s.resetAndDestroy(); // the head and some of the body arrived
      });
    });
    const good = await backend('good-post');
    route('post.example.com', [dying.port, good.port]);
    const r = await request(port, 'post.example.com', '/', { method: 'POST', body: Buffer.alloc(64 * 1024, 1) });
    assert.equal(r.status, 502);
    assert.equal((JSON.parse(r.body) as { type: string }).type, problemTypeUrl('ingress-bad-gateway'));
    assert.equal(good.seen.length, 0, 'the other instance never got it');
  });

  test('every instance refusing: 502 after trying each once', async () => {
    route('refused.example.com', [await freePort(), await freePort()]);
    const r = await request(port, 'refused.example.com');
    assert.equal(r.status, 502);
    assert.match((JSON.parse(r.body) as { detail: string }).detail, /all 2 instance\(s\) tried refused/);
  });
});

describe('responses', () => {
  test('a malformed response (two Content-Lengths) is a 502, and its connection is dropped', async () => {
    const bad = await rawInstance((s) => onRequests(s, () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc')));
    route('bad.example.com', [bad.port]);
    assert.equal((await request(port, 'bad.example.com')).status, 502);
    assert.equal((await request(port, 'bad.example.com')).status, 502);
    assert.equal(bad.connections(), 2);
  });

  test('chunked with trailers, until-close, HEAD, 204 and 304 bodies are framed right', async () => {
    const framings = await rawInstance((s) =>
      onRequests(s, (head) => {
        const path = head.split(' ')[1];
        if (path === '/chunked') s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-T: 1\r\n\r\n');
        else if (path === '/close') s.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end');
        else if (path === '/head') s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
        else if (path === '/204') s.write('HTTP/1.1 204 No Content\r\n\r\n');
        else s.write('HTTP/1.1 304 Not Modified\r\nETag: "1"\r\n\r\n');
      }),
    );
    route('framing.example.com', [framings.port]);
    assert.equal((await request(port, 'framing.example.com', '/chunked')).body, 'abcde');
    assert.equal((await request(port, 'framing.example.com', '/close')).body, 'until the end');
    const head = await request(port, 'framing.example.com', '/head', { method: 'HEAD' });
    assert.deepEqual([head.status, head.headers['content-length'], head.body], [200, '1000', '']);
    assert.equal((await request(port, 'framing.example.com', '/204')).status, 204);
    assert.equal((await request(port, 'framing.example.com', '/304')).status, 304);
    const again = await request(port, 'framing.example.com', '/chunked');
    assert.equal(again.body, 'abcde', 'the connection is still in step');
  });

  test('a head and body that arrive in pieces, with a 100 Continue before them, are put together', async () => {
    const pieces = ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Pie', 'ce: yes\r\nContent-Le', 'ngth: 11\r\n\r\nhello', ' world'];
    const slow = await rawInstance((s) =>
      onRequests(s, () => {
        // Separate writes, a little apart, so that they arrive as separate reads.
        const next = (i: number): void => {
          if (i < pieces.length) s.write(pieces[i]!, () => setTimeout(() => next(i + 1), 5));
        };
        next(0);
      }),
    );
    route('pieces.example.com', [slow.port]);
    for (let i = 0; i < 3; i++) {
      const r = await request(port, 'pieces.example.com');
      assert.deepEqual([r.status, r.headers['x-piece'], r.body], [200, 'yes', 'hello world']);
    }
  });

  test('a large response streams with back-pressure: a client that stops reading stops the ingress reading the instance', async () => {
    const total = 32 * 1024 * 1024;
    const sent = createHash('sha256');
    const big = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked: no length given
      let written = 0;
      const more = (): void => {
        while (written < total) {
          const piece = Buffer.alloc(64 * 1024, (written / 65536) % 251);
          sent.update(piece);
          written += piece.length;
          if (!res.write(piece)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => big.close(() => resolve())));
    route('big.example.com', [(big.address() as net.AddressInfo).port]);

    const received = createHash('sha256');
    let bytes = 0;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host: 'big.example.com' }, agent: false }, resolve);
      req.on('error', reject);
    });
    res.pause();
    await waitFor('the ingress to stop reading from the instance', () => proxy.pool.size().paused > 0);
    const done = new Promise<void>((resolve, reject) => {
      res.on('data', (d: Buffer) => {
        bytes += d.length;
        received.update(d);
      });
      res.on('end', resolve);
      res.on('error', reject);
    });
    res.resume();
    await done;
    assert.equal(bytes, total);
    assert.equal(received.digest('hex'), sent.digest('hex'));
  });

  test('a client that goes away mid-response takes the instance connection with it', async () => {
    let closed = false;
    const endless = await rawInstance((s) => {
      s.on('close', () => (closed = true));
      onRequests(s, () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\npartial'));
    });
    route('endless.example.com', [endless.port]);
    await new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host: 'endless.example.com' }, agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined); // the destroy
    });
    await waitFor('the instance connection closed', () => closed);
  });

  test('a chunked upload is chunked again for the instance, and arrives whole', async () => {
    const up = await backend('chunky');
    route('chunky.example.com', [up.port]);
    const body = Buffer.alloc(300_000, 7);
    const r = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { host: 'chunky.example.com', 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
        let s = '';
        res.on('data', (d: Buffer) => (s += d.toString()));
        res.on('end', () => resolve(s));
      });
      req.on('error', reject);
      req.write(body.subarray(0, 1000));
      req.end(body.subarray(1000));
    });
    const got = JSON.parse(r) as { bytes: number; sha256: string };
    assert.equal(got.bytes, body.length);
    assert.equal(got.sha256, createHash('sha256').update(body).digest('hex'));
    assert.equal(up.seen[up.seen.length - 1]!['transfer-encoding'], 'chunked');
  });
});
