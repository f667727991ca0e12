// `ozy ingress --http ADDR`: requests by status code and duration on its own
// metrics listener; with --workers 2 the primary serves the sum of both
// workers. Real etcd, the real ozy ingress process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { startEtcd, type EtcdServer } from '../../harness/etcd';
import { freePort } from '../../harness/net';
import { startOzy, type OzyProcess } from '../../harness/ozy-process';
import { waitFor } from '../../harness/wait';

describe('ozy ingress --http (metrics)', () => {
  let etcd: EtcdServer;
  let ingress: OzyProcess;
  let proxy: string;
  let metricsUrl: string;

  before(async () => {
    etcd = await startEtcd();
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    ingress = startOzy(['ingress', '--etcd', etcd.endpoint, '--listen', '127.0.0.1:0', '--workers', '2', '--http', `127.0.0.1:${port}`]);
    proxy = await ingress.address('ingress listening');
  });
  after(async () => {
    await ingress?.stop();
    await etcd?.stop();
  });

  test('requests by code, summed over the workers, with durations; the scrape lints clean', async () => {
    // New connections each time: the kernel spreads them over both workers.
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`http://${proxy}/`, { headers: { host: 'nobody.example', connection: 'close' } });
      assert.equal(r.status, 404);
      await r.arrayBuffer();
    }
    const body = await waitFor(
      'six 404s counted',
      async () => {
        const text = await (await fetch(metricsUrl)).text();
        return text.includes('ozy_ingress_requests_total{code="404"} 6\n') ? text : undefined;
      },
      { timeoutMs: 10_000 },
    );
    assert.match(body, /^ozy_ingress_request_duration_seconds_count\{code="404"\} 6$/m);
    assert.equal((await fetch(metricsUrl.replace('/metrics', '/healthz'))).status, 200);
    assert.equal((await fetch(metricsUrl.replace('/metrics', '/other'))).status, 404);
    if (spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status !== 0) return;
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  });
});
