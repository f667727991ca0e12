// Idle client connections closed by the sweep (client-idle.ts) instead of
// Node's keep-alive timer, on real sockets and with a fast sweep: idle ones go,
// busy, reading, fresh and upgraded ones stay.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, test } from 'node:test';
import { ClientIdleSweep } from '../../../src/ingress/client-idle';
import { waitFor } from '../../harness/wait';

const SWEEP_MS = 40;
const IDLE_SWEEPS = 3;

let server: http.Server;
let sweep: ClientIdleSweep;
let port: number;
/** Responses held back by path: `/slow` answers when `release()` is called. */
const held: http.ServerResponse[] = [];

before(async () => {
  server = http.createServer({ keepAlive: true });
  sweep = new ClientIdleSweep(server, IDLE_SWEEPS, SWEEP_MS);
  server.on('request', (req, res) => {
    ClientIdleSweep.requestStarted(req, res);
    if (req.url === '/slow') return void held.push(res);
    res.writeHead(200, { 'content-length': 2 });
    res.end('ok');
  });
  server.on('upgrade', (req, socket) => {
    sweep.release(req.socket);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

after(async () => {
  sweep.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A raw client connection; `closed` resolves when the server closes it. */
async function connect(): Promise<{ socket: net.Socket; closed: Promise<void>; isClosed: () => boolean; received: () => string }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise((resolve) => socket.once('connect', resolve));
  let text = '';
  let done = false;
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.once('close', () => ((done = true), resolve())));
  return { socket, closed, isClosed: () => done, received: () => text };
}

const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('no Keep-Alive header from Node, and a connection idle after its response is closed after the idle sweeps', async () => {
  const c = await connect();
  const t0 = Date.now();
  c.socket.write(GET('/'));
  await waitFor('the response', () => c.received().includes('\r\n\r\nok'));
  assert.ok(!/keep-alive: timeout/i.test(c.received()), c.received());
  await c.closed;
  const idleMs = Date.now() - t0;
  assert.ok(idleMs >= IDLE_SWEEPS * SWEEP_MS, `closed after ${idleMs} ms`);
});

test('a connection waiting for a slow response stays open, then goes once idle after it', async () => {
  const c = await connect();
  c.socket.write(GET('/slow'));
  await waitFor('the request held', () => held.length === 1);
  await sleep(SWEEP_MS * (IDLE_SWEEPS + 3));
  assert.equal(c.isClosed(), false);
  const res = held.pop()!;
  res.writeHead(200, { 'content-length': 2 });
  res.end('ok');
  await c.closed;
  assert.ok(c.received().includes('\r\n\r\nok'));
});

test('requests keep a connection open; so do bytes of a request still arriving', async () => {
  const c = await connect();
  for (let i = 0; i < IDLE_SWEEPS + 3; i++) {
    c.socket.write(GET('/'));
    await sleep(SWEEP_MS);
  }
  for (const piece of ['GET / HTTP/1.1\r\n', 'Host: a\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n', 'X-D: 4\r\n']) {
    c.socket.write(piece);
    await sleep(SWEEP_MS);
  }
  assert.equal(c.isClosed(), false);
  c.socket.write('\r\n');
  await c.closed;
  assert.equal(c.received().split('\r\n\r\nok').length - 1, IDLE_SWEEPS + 4, 'every response arrived');
});

test('a connection that has sent nothing yet, and an upgraded one, are not the sweep’s', async () => {
  const fresh = await connect();
  const upgraded = await connect();
  upgraded.socket.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
  await waitFor('101', () => upgraded.received().startsWith('HTTP/1.1 101'));
  await sleep(SWEEP_MS * (IDLE_SWEEPS + 3));
  assert.equal(fresh.isClosed(), false);
  assert.equal(upgraded.isClosed(), false);
  fresh.socket.destroy();
  upgraded.socket.destroy();
  await waitFor('both forgotten', () => sweep.size() === 0);
});
