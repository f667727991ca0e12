import assert from 'node:assert/strict';
import { test } from 'node:test';
import { failureAnswer } from '../../../src/ingress/answers';
import { filterResponseHeaders, forwardRequestHeaders, hasRequestBody } from '../../../src/ingress/headers';
import type { HttpRoute } from '../../../src/ingress/route-table';
import { parseListen } from '../../../src/network/listen-address';
import { problemTypeUrl } from '../../../src/problems';

const route: HttpRoute = { id: 'web web.example.com/', job: 'web', host: 'web.example.com', path: '/', port: 3000, backends: [] };

test('each failure is a problem+json body with its status and a docs/errors.md type', () => {
  const cases = [
    [failureAnswer({ kind: 'unknown-host', host: 'x.org', path: '/' }), 404, 'ingress-no-route'],
    [failureAnswer({ kind: 'no-path', host: 'x.org', path: '/a' }), 404, 'ingress-no-route'],
    [failureAnswer({ kind: 'no-instance', route, host: 'web.example.com', path: '/' }), 503, 'ingress-no-healthy-instance'],
    [failureAnswer({ kind: 'timeout', instance: 'web-0', address: 'h:1', timeoutMs: 5, host: 'web.example.com', path: '/' }), 504, 'ingress-backend-timeout'],
    [failureAnswer({ kind: 'bad-gateway', instance: 'web-0', address: 'h:1', reason: 'ECONNRESET', host: 'web.example.com', path: '/' }), 502, 'ingress-bad-gateway'],
    [failureAnswer({ kind: 'all-refused', route, tried: 2, reason: 'ECONNREFUSED', host: 'web.example.com', path: '/' }), 502, 'ingress-bad-gateway'],
  ] as const;
  for (const [a, status, type] of cases) {
    assert.equal(a.status, status);
    assert.equal(a.headers['content-type'], 'application/problem+json');
    assert.equal(Number(a.headers['content-length']), Buffer.byteLength(a.body));
    const body = JSON.parse(a.body) as { type: string; status: number; title: string; detail: string };
    assert.equal(body.type, problemTypeUrl(type));
    assert.equal(body.status, status);
    assert.ok(body.title.length > 0 && body.detail.length > 0);
  }
});

test('request headers: hop-by-hop dropped, X-Forwarded-* added, X-Forwarded-For appended', () => {
  const out = forwardRequestHeaders(
    { host: 'web.example.com:8080', connection: 'keep-alive, x-secret-hop', 'x-secret-hop': '1', 'keep-alive': 'timeout=5', 'x-forwarded-for': '1.2.3.4', te: 'trailers', 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
    '::ffff:10.0.0.9',
    'http',
  );
  assert.deepEqual(out, {
    host: 'web.example.com:8080',
    'content-type': 'text/plain',
    'transfer-encoding': 'chunked',
    'x-forwarded-for': '1.2.3.4, 10.0.0.9',
    'x-forwarded-host': 'web.example.com:8080',
    'x-forwarded-proto': 'http',
  });
  const up = forwardRequestHeaders({ host: 'h', connection: 'Upgrade', upgrade: 'websocket' }, '127.0.0.1', 'http', true);
  assert.equal(up.connection, 'upgrade');
  assert.equal(up.upgrade, 'websocket');
});

test('response headers keep repeats and spelling, drop hop-by-hop and transfer-encoding', () => {
  const raw = ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Connection', 'keep-alive', 'Transfer-Encoding', 'chunked', 'Keep-Alive', 'timeout=5', 'X-App', 'y'];
  assert.deepEqual(filterResponseHeaders(raw), ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-App', 'y']);
});

test('requests with a body are recognised (they are never replayed)', () => {
  assert.equal(hasRequestBody({}), false);
  assert.equal(hasRequestBody({ 'content-length': '0' }), false);
  assert.equal(hasRequestBody({ 'content-length': '5' }), true);
  assert.equal(hasRequestBody({ 'transfer-encoding': 'chunked' }), true);
});

test('--listen addresses', () => {
  assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen(':80'), { host: '0.0.0.0', port: 80 });
  assert.deepEqual(parseListen('8080'), { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(parseListen('[::1]:53'), { host: '::1', port: 53 });
  assert.deepEqual(parseListen('fd:3'), { fd: 3 });
  assert.equal(typeof parseListen('host:99999'), 'string');
  assert.equal(typeof parseListen('::1:53'), 'string');
});
