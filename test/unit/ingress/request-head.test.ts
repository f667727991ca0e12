import assert from 'node:assert/strict';
import { test } from 'node:test';
import { upstreamRequestHead } from '../../../src/ingress/request-head';

test('the request head: spelling and order kept, hop-by-hop dropped, X-Forwarded-* set', () => {
  const raw = [
    'Host', 'Web.Example.com:8080',
    'Connection', 'keep-alive, X-Secret-Hop',
    'X-Secret-Hop', '1',
    'Keep-Alive', 'timeout=5',
    'TE', 'trailers',
    'X-Forwarded-For', '1.2.3.4',
    'x-forwarded-for', '5.6.7.8',
    'X-Forwarded-Host', 'spoofed',
    'X-Forwarded-Proto', 'https',
    'Content-Type', 'text/plain',
    'Transfer-Encoding', 'chunked',
    'Cookie', 'a=1',
    'Cookie', 'b=2',
  ];
  const head = upstreamRequestHead('POST', '/up?x=1', raw, '::ffff:10.0.0.9', 'http');
  assert.equal(
    head,
    'POST /up?x=1 HTTP/1.1\r\n' +
      'Host: Web.Example.com:8080\r\n' +
      'Content-Type: text/plain\r\n' +
      'Transfer-Encoding: chunked\r\n' +
      'Cookie: a=1\r\n' +
      'Cookie: b=2\r\n' +
      'x-forwarded-for: 1.2.3.4, 5.6.7.8, 10.0.0.9\r\n' +
      'x-forwarded-host: Web.Example.com:8080\r\n' +
      'x-forwarded-proto: http\r\n\r\n',
  );
});

test('a second Host line is dropped (the request was routed by the first); no X-Forwarded-Host without a Host', () => {
  assert.equal(upstreamRequestHead('GET', '/', ['Host', 'a.example.com', 'Host', 'b.example.com'], '127.0.0.1', 'http').match(/^Host: /gim)?.length, 1);
  const bare = upstreamRequestHead('GET', '/', [], undefined, 'http');
  assert.equal(bare, 'GET / HTTP/1.1\r\nx-forwarded-for: unknown\r\nx-forwarded-proto: http\r\n\r\n');
});
