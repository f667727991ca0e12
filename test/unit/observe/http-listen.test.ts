import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { test } from 'node:test';
import { loadAgentConfig, loggableConfig } from '../../../src/config';
import { DEFAULT_HTTP_PORT, HttpBindError, listenHttp, parseHttpListen, reachableAddress } from '../../../src/observe/http-listen';

test('--http values: default, off, HOST:PORT, :PORT, [v6]:PORT; fd: and garbage refused', () => {
  assert.deepEqual(parseHttpListen(undefined), { kind: 'default' });
  assert.deepEqual(parseHttpListen('off'), { kind: 'off' });
  assert.deepEqual(parseHttpListen('OFF'), { kind: 'off' });
  assert.deepEqual(parseHttpListen('127.0.0.1:9100'), { kind: 'explicit', host: '127.0.0.1', port: 9100 });
  assert.deepEqual(parseHttpListen(':9100'), { kind: 'explicit', host: '0.0.0.0', port: 9100 });
  assert.deepEqual(parseHttpListen('[::1]:9100'), { kind: 'explicit', host: '::1', port: 9100 });
  for (const bad of ['fd:3', 'nope', '1.2.3.4:99999', '']) assert.equal(typeof parseHttpListen(bad), 'string', bad);
});

test('agent config: --http and OZY_HTTP (the flag wins); OZY_API_TOKEN is never in the loggable config', () => {
  const base = ['--node', 'n1', '--repo', 'http://git/jobs', '--data-dir', '/tmp/ozy-cfg-test', '--memory', '1G', '--disk', '1G', '--cpus', '1'];
  assert.deepEqual(loadAgentConfig(base, {}).http, { kind: 'default' });
  assert.deepEqual(loadAgentConfig(base, { OZY_HTTP: 'off' }).http, { kind: 'off' });
  assert.deepEqual(loadAgentConfig([...base, '--http', '127.0.0.1:9', ], { OZY_HTTP: 'off' }).http, { kind: 'explicit', host: '127.0.0.1', port: 9 });
  assert.throws(() => loadAgentConfig([...base, '--http', 'x'], {}), /--http/);
  const cfg = loadAgentConfig(base, { OZY_API_TOKEN: 'tok-123' });
  assert.equal(cfg.apiToken, 'tok-123');
  assert.ok(!JSON.stringify(loggableConfig(cfg)).includes('tok-123'));
});

function listening(server: net.Server | http.Server, port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => resolve(true));
  });
}

test('an explicit address that is taken is an HttpBindError; the default falls back to an ephemeral loopback port', async () => {
  const blocker = net.createServer();
  await listening(blocker, 0);
  const port = (blocker.address() as net.AddressInfo).port;
  const a = http.createServer();
  await assert.rejects(listenHttp(a, { kind: 'explicit', host: '127.0.0.1', port }), (err: unknown) => err instanceof HttpBindError && /EADDRINUSE/.test(err.message));
  // Hold 7070 if nobody does; either way it is taken for the default now.
  const hold = net.createServer();
  const held = await listening(hold, DEFAULT_HTTP_PORT);
  const b = http.createServer();
  const bound = await listenHttp(b, { kind: 'default' });
  assert.ok(bound);
  assert.equal(bound.host, '127.0.0.1');
  assert.notEqual(bound.port, DEFAULT_HTTP_PORT);
  assert.equal(await listenHttp(http.createServer(), { kind: 'off' }), undefined);
  await Promise.all([blocker, b, ...(held ? [hold] : [])].map((s) => new Promise((r) => s.close(r))));
});

test('a server on every address is recorded under the node address', () => {
  assert.equal(reachableAddress({ host: '0.0.0.0', port: 9100 }, '10.0.0.5'), '10.0.0.5:9100');
  assert.equal(reachableAddress({ host: '127.0.0.1', port: 7070 }, '10.0.0.5'), '127.0.0.1:7070');
  assert.equal(reachableAddress({ host: '::1', port: 7070 }, '10.0.0.5'), '[::1]:7070');
});
