// The endpoint's routes with fakes behind them: readiness, 404/405, and the
// logs route's gatekeeping (token first, then this node's instances only),
// container choice and follow mode ending the engine stream on disconnect.
import assert from 'node:assert/strict';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { createAgentHttpServer, parseLogsQuery, type Readiness } from '../../../src/observe/agent-http';
import type { LogFrame } from '../../../src/runtime/log-frames';

describe('agent HTTP routes', () => {
  let server: http.Server;
  let base: string;
  let readiness: Readiness = { ready: false, reason: 'first node round not done' };
  const streams: Array<{ id: string; tail?: number; follow?: boolean; ended: boolean }> = [];

  before(async () => {
    server = createAgentHttpServer({
      metrics: { text: async () => 'ozy_up 1\n', contentType: 'text/plain; version=0.0.4; charset=utf-8' },
      readiness: () => readiness,
      apiToken: 'Zq9-secret',
      containersOf: async (instance) => (instance === 'web-0' ? [{ name: 'app', id: 'c1' }, { name: 'side', id: 'c2' }] : undefined),
      async *streamLogs(id, opts): AsyncIterable<LogFrame> {
        const rec = { id, ...(opts.tail !== undefined ? { tail: opts.tail } : {}), follow: opts.follow ?? false, ended: false };
        streams.push(rec);
        try {
          yield { stream: 'stdout', data: Buffer.from(`${id} out\n`) };
          yield { stream: 'stderr', data: Buffer.from(`${id} err\n`) };
          if (!opts.follow) return;
          // Follow: a line every 20 ms until the client goes away.
          for (let i = 0; !opts.signal.aborted; i++) {
            await new Promise((r) => setTimeout(r, 20));
            yield { stream: 'stdout', data: Buffer.from(`tick ${i}\n`) };
          }
        } finally {
          rec.ended = true;
        }
      },
      log: pino({ level: 'silent' }),
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const auth = { headers: { authorization: 'Bearer Zq9-secret' } };

  test('/healthz always 200; /readyz 503 with the reason, then 200', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const not = await fetch(`${base}/readyz`);
    assert.equal(not.status, 503);
    assert.equal(await not.text(), 'not ready: first node round not done\n');
    readiness = { ready: true };
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });

  test('/metrics in the text format; other paths 404; other methods 405', async () => {
    const m = await fetch(`${base}/metrics`);
    assert.equal(m.status, 200);
    assert.equal(await m.text(), 'ozy_up 1\n');
    assert.equal((await fetch(`${base}/`)).status, 404);
    assert.equal((await fetch(`${base}/v1/other`)).status, 404);
    const del = await fetch(`${base}/v1/logs/web-0`, { method: 'DELETE', ...auth });
    assert.equal(del.status, 405);
  });

  test('logs: 401 with a challenge before anything else, even for an unknown instance', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: 'Basic dG9r' }] as Array<Record<string, string>>) {
      for (const path of ['/v1/logs/web-0', '/v1/logs/elsewhere-3']) {
        const r = await fetch(base + path, { headers });
        assert.equal(r.status, 401);
        assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm="ozy"/);
        assert.ok(!(await r.text()).includes('Zq9'));
      }
    }
  });

  test('logs: 404 for an instance not on this node or an unknown container; 400 for a bad query', async () => {
    assert.equal((await fetch(`${base}/v1/logs/elsewhere-3`, auth)).status, 404);
    const c = await fetch(`${base}/v1/logs/web-0?container=nope`, auth);
    assert.equal(c.status, 404);
    assert.match(await c.text(), /containers: app, side/);
    assert.equal((await fetch(`${base}/v1/logs/web-0?tail=abc`, auth)).status, 400);
    assert.equal((await fetch(`${base}/v1/logs/..%2Fetc`, auth)).status, 400);
  });

  test('logs: the first container by default (named in headers), -c picks another, tail passed on', async () => {
    const r = await fetch(`${base}/v1/logs/web-0?tail=5`, auth);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-ozy-container'), 'app');
    assert.equal(r.headers.get('x-ozy-containers'), 'app,side');
    assert.equal(await r.text(), 'c1 out\nc1 err\n');
    assert.equal(streams.at(-1)!.tail, 5);
    const side = await fetch(`${base}/v1/logs/web-0?container=side`, auth);
    assert.equal(await side.text(), 'c2 out\nc2 err\n');
  });

  test('logs follow: streams until the client disconnects, then the engine stream ends', async () => {
    const ac = new AbortController();
    const r = await fetch(`${base}/v1/logs/web-0?follow=1`, { ...auth, signal: ac.signal });
    const reader = r.body!.getReader();
    let got = '';
    while (!got.includes('tick 2')) got += Buffer.from((await reader.read()).value ?? []).toString();
    const rec = streams.at(-1)!;
    assert.equal(rec.follow, true);
    assert.equal(rec.ended, false);
    ac.abort();
    const deadline = Date.now() + 5000;
    while (!rec.ended && Date.now() < deadline) await new Promise((r2) => setTimeout(r2, 10));
    assert.equal(rec.ended, true, 'the engine stream ended after the client left');
  });
});

test('parseLogsQuery', () => {
  assert.deepEqual(parseLogsQuery('/v1/logs/web-0', new URLSearchParams('')), { instance: 'web-0', follow: false });
  assert.deepEqual(parseLogsQuery('/v1/logs/web-0', new URLSearchParams('container=app&tail=10&follow=true')), { instance: 'web-0', container: 'app', tail: 10, follow: true });
  assert.deepEqual(parseLogsQuery('/v1/logs/web-0', new URLSearchParams('tail=-1')), { instance: 'web-0', follow: false });
  assert.equal(typeof parseLogsQuery('/v1/logs/Web_0', new URLSearchParams('')), 'string');
  assert.equal(typeof parseLogsQuery('/v1/logs/web-0', new URLSearchParams('tail=1e9')), 'string');
});
