// The probes say what they saw, against real sockets on loopback.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { probeHttp, probeTcp } from '../../../src/agent/probes';

let web: http.Server;
let silent: net.Server;
let closedPort: number;
const held: net.Socket[] = [];

function portOf(s: net.Server): number {
  return (s.address() as net.AddressInfo).port;
}

before(async () => {
  web = http.createServer((req, res) => {
    res.statusCode = req.url === '/ok' ? 200 : req.url === '/boom' ? 500 : 404;
    res.end();
  });
  // Accepts connections and never answers: the HTTP probe must time out.
  silent = net.createServer((sock) => held.push(sock));
  await Promise.all([web, silent].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))));
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  closedPort = portOf(probe);
  await new Promise<void>((r) => probe.close(() => r()));
});

after(async () => {
  for (const s of held) s.destroy();
  await Promise.all([web, silent].map((s) => new Promise<void>((r) => s.close(() => r()))));
});

describe('health probes say what they saw', () => {
  test('HTTP: the status code, refused connections and timeouts', async () => {
    assert.deepEqual(await probeHttp('127.0.0.1', portOf(web), '/ok', 2000), { ok: true, saw: 'GET /ok → 200' });
    assert.deepEqual(await probeHttp('127.0.0.1', portOf(web), '/health', 2000), { ok: false, saw: 'GET /health → 404' });
    assert.deepEqual(await probeHttp('127.0.0.1', portOf(web), '/boom', 2000), { ok: false, saw: 'GET /boom → 500' });
    assert.deepEqual(await probeHttp('127.0.0.1', closedPort, '/health', 2000), { ok: false, saw: 'GET /health → connection refused' });
    assert.deepEqual(await probeHttp('127.0.0.1', portOf(silent), '/health', 150), { ok: false, saw: 'GET /health → timed out after 150ms' });
  });

  test('TCP: connected or refused', async () => {
    assert.deepEqual(await probeTcp('127.0.0.1', portOf(silent), 2000), { ok: true, saw: `TCP ${portOf(silent)} → connected` });
    assert.deepEqual(await probeTcp('127.0.0.1', closedPort, 2000), { ok: false, saw: `TCP ${closedPort} → connection refused` });
  });
});
