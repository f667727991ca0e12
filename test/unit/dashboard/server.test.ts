// The dashboard's HTTP surface on a fixed view (no etcd): read-only, strict
// headers, loopback Host only, paging on the server, the event stream.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { hostAllowed } from '../../../src/dashboard/http-rules';
import { SECTIONS, type Section } from '../../../src/dashboard/model';
import { DashboardServer, type DashboardSource } from '../../../src/dashboard/server';
import type { ChangeEvent } from '../../../src/dashboard/sse';
import { ENV_VALUE, smallCluster } from './fixtures';

function request(port: number, path: string, opts: { method?: string; host?: string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', path, method: opts.method ?? 'GET', headers: opts.host ? { Host: opts.host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard server', () => {
  const listeners = new Set<(ev: ChangeEvent) => void>();
  const source: DashboardSource = {
    data: smallCluster(),
    sectionVersions: Object.fromEntries(SECTIONS.map((s) => [s, 1])) as Record<Section, number>,
    revision: 42,
    subscribe: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  const server = new DashboardServer({ view: source, host: '127.0.0.1', port: 0 });
  let port = 0;
  before(async () => {
    port = await server.start();
  });
  after(() => server.stop());

  test('the page, its script and style, with a strict CSP', async () => {
    const page = await request(port, '/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type']!, /text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'.*script-src 'self'/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    // Nothing from elsewhere: every src/href is a path of ours.
    for (const m of page.body.matchAll(/(?:src|href)="([^"]*)"/g)) assert.match(m[1]!, /^\/[a-z.]+$/);
    assert.equal((await request(port, '/app.js')).status, 200);
    assert.equal((await request(port, '/app.css')).status, 200);
  });

  test('anything but GET and HEAD is refused with 405', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await request(port, '/api/jobs', { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
    const head = await request(port, '/api/jobs', { method: 'HEAD' });
    assert.deepEqual([head.status, head.body], [200, '']);
  });

  test('bound to loopback, a foreign Host (DNS rebinding) gets 421', async () => {
    assert.equal((await request(port, '/api/summary', { host: 'evil.example:80' })).status, 421);
    assert.equal((await request(port, '/api/summary', { host: `localhost:${port}` })).status, 200);
    assert.equal(hostAllowed('[::1]:7080', '127.0.0.1'), true);
    assert.equal(hostAllowed('127.0.0.1.evil.example', '127.0.0.1'), false);
    assert.equal(hostAllowed(undefined, '127.0.0.1'), false);
    assert.equal(hostAllowed('anything', '0.0.0.0'), true);
  });

  test('API: filtered pages, no environment value', async () => {
    const jobs = JSON.parse((await request(port, '/api/jobs?q=web&limit=1')).body) as { total: number; items: Array<{ name: string }>; revision: number };
    assert.deepEqual([jobs.total, jobs.items.map((j) => j.name), jobs.revision], [2, ['batch-web'], 42]);
    for (const p of ['/api/summary', '/api/nodes', '/api/jobs', '/api/instances', '/api/rejections', '/api/runs']) {
      const r = await request(port, p);
      assert.equal(r.status, 200, p);
      assert.ok(!r.body.includes(ENV_VALUE), p);
    }
    assert.equal((await request(port, '/api/nope')).status, 404);
  });

  test('/events: hello with the versions, then a change event', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const req = http.get({ port, host: '127.0.0.1', path: '/events' }, (res) => {
        assert.match(res.headers['content-type']!, /text\/event-stream/);
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          text += d;
          if (text.includes('event: hello') && !text.includes('event: change')) for (const fn of listeners) fn({ revision: 43, changed: ['jobs'] });
          if (text.includes('event: change')) {
            req.destroy();
            resolve(text);
          }
        });
      });
      req.on('error', reject);
    });
    assert.match(got, /^retry: 2000\nevent: hello\ndata: \{"revision":42,/);
    assert.match(got, /event: change\ndata: \{"revision":43,"changed":\["jobs"\]\}\n\n/);
  });

  test('/events: heartbeats, and a bounded number of streams (503 beyond)', async () => {
    // A server of its own: no stream of another test counts against its bound.
    const small = new DashboardServer({ view: source, host: '127.0.0.1', port: 0, heartbeatMs: 50, maxClients: 2 });
    const port = await small.start();
    const open: http.ClientRequest[] = [];
    const heard = await new Promise<string>((resolve, reject) => {
      const req = http.get({ port, host: '127.0.0.1', path: '/events' }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          text += d;
          if (text.includes(': heartbeat')) resolve(text);
        });
      });
      req.on('error', reject);
      open.push(req);
    });
    assert.match(heard, /\n: heartbeat\n\n/);
    const second = await new Promise<number>((resolve, reject) => {
      const req = http.get({ port, host: '127.0.0.1', path: '/events' }, (res) => resolve(res.statusCode!));
      req.on('error', reject);
      open.push(req);
    });
    assert.equal(second, 200);
    const third = await request(port, '/events');
    assert.deepEqual([third.status, third.headers['retry-after']], [503, '5']);
    for (const r of open) r.destroy();
    await small.stop();
  });
});
