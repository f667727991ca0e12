// The agent's HTTP endpoint on a real cluster (etcd, git, podman, two
// `ozy agent` processes): the address in each agent's etcd record,
// /healthz and /readyz, a real scrape that `promtool check metrics` accepts,
// `ozy logs` with and without the token (-c, --tail, -f), and an explicit
// --http on a taken port refused.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { main } from '../../../src/cli/main';
import { ozyEntry } from '../../../src/paths';
import { buildBusyboxImage, createEngine } from '../../../src/runtime';
import { merge, startCluster, type TestCluster } from '../../harness/cluster';
import { havePrometheus, startPrometheus } from '../../harness/prometheus';
import { tempDir } from '../../harness/tmp';
import { waitFor } from '../../harness/wait';

const TOKEN = 'test-token-4f9c2e';

const CHATTY = `name: chatty
containers:
  app:
    image: localhost/ozy-busybox:1
    command: ["/bin/sh", "-c", "i=0; while true; do echo line-$i; i=$((i+1)); /bin/sleep 0.3; done"]
    memory: 32M
    cpu: 50m
  side:
    image: localhost/ozy-busybox:1
    command: ["/bin/sh", "-c", "echo side-says-hello >&2; exec /bin/sleep 3600"]
    memory: 32M
    cpu: 50m
`;

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

async function ozy(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(argv, { stdout, stderr, env, cwd: process.cwd() });
  return { code, out, err };
}

function promtool(): boolean {
  return spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
}

describe('agent HTTP endpoint', () => {
  let c: TestCluster;
  const addr = new Map<string, string>();
  const noUp = tempDir('ozy-no-up-');
  // No running ozy up may lend its token to the "without a token" case.
  const baseEnv = (): NodeJS.ProcessEnv => ({ OZY_UP_STATE_DIR: noUp.dir, OZY_ETCD: c.etcd.endpoint });

  before(async () => {
    c = await startCluster();
    await buildBusyboxImage(createEngine({ socketPath: c.podman.socketPath, registryAuth: [] }));
    // One explicit ephemeral port, one default (7070, or a loopback fallback when taken).
    await c.startAgent({ name: 'a', memory: '512M', extraArgs: ['--http', '127.0.0.1:0'], env: { OZY_API_TOKEN: TOKEN } });
    await c.startAgent({ name: 'b', memory: '512M', env: { OZY_API_TOKEN: TOKEN } });
    await c.waitForNodes(2);
  });
  after(async () => {
    await c?.stop();
    noUp.cleanup();
  });

  test("each agent's HTTP address is in its etcd record", async () => {
    await waitFor('both agents record an http address', async () => {
      const agents = await c.store.listAgentStatus();
      for (const a of c.agents) {
        const http = agents.get(a.node)?.http;
        if (typeof http !== 'string') return false;
        addr.set(a.node, http);
      }
      return true;
    });
    for (const a of addr.values()) assert.match(a, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(addr.get(c.agents[0]!.node), addr.get(c.agents[1]!.node));
  });

  test('/healthz 200, /readyz 200 after the first round, unknown paths 404, other methods 405', async () => {
    for (const a of addr.values()) {
      assert.equal((await get(`http://${a}/healthz`)).status, 200);
      await waitFor(`/readyz of ${a}`, async () => (await get(`http://${a}/readyz`)).status === 200);
      assert.equal((await get(`http://${a}/nope`)).status, 404);
      const post = await get(`http://${a}/metrics`, { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
    }
  });

  test('a real scrape lints clean with promtool check metrics', async (t) => {
    const a = addr.get(c.agents[0]!.node)!;
    const scrape = await get(`http://${a}/metrics`);
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    for (const name of ['ozy_instances{state="healthy"}', 'ozy_lease_held 1', 'ozy_ready 1', 'ozy_node_capacity_bytes{resource="memory"} 536870912', 'ozy_schedule_commits_total{result="won"}']) {
      assert.ok(scrape.body.includes(name), `${name} in\n${scrape.body}`);
    }
    if (!promtool()) return t.skip('promtool not installed (apt-get install --no-install-recommends prometheus)');
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: scrape.body, encoding: 'utf8' });
    assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}`);
  });

  test('ozy logs: 401 without or with a wrong token; with it: the default container, -c, --tail, -f', async () => {
    await merge(c.user, { 'jobs/chatty.yaml': CHATTY }, 'chatty');
    await waitFor('chatty-0 healthy', async () => (await c.store.listInstanceStatus()).find((s) => s.instance === 'chatty-0' && s.state === 'healthy'), { timeoutMs: 60_000 });
    await waitFor('chatty-0 has written 3 lines', async () => (await ozy(['logs', 'chatty-0'], { ...baseEnv(), OZY_API_TOKEN: TOKEN })).out.includes('line-2'), { timeoutMs: 20_000 });

    const none = await ozy(['logs', 'chatty-0'], baseEnv());
    assert.equal(none.code, 1);
    assert.match(none.err, /401/);
    assert.match(none.err, /set OZY_API_TOKEN/);
    assert.equal(none.out, '');
    const wrong = await ozy(['logs', 'chatty-0'], { ...baseEnv(), OZY_API_TOKEN: 'not-the-token' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /401/);
    assert.equal(wrong.out, '');
    // Straight at the agent: the challenge header, and no token in any answer.
    const node = (await c.store.listInstanceStatus()).find((s) => s.instance === 'chatty-0')!.node;
    const direct = await get(`http://${addr.get(node)}/v1/logs/chatty-0`);
    assert.equal(direct.status, 401);
    assert.match(direct.headers.get('www-authenticate') ?? '', /^Bearer /);

    const env = { ...baseEnv(), OZY_API_TOKEN: TOKEN };
    const all = await ozy(['logs', 'chatty-0'], env);
    const a2 = [all, none, wrong];
    assert.equal(all.code, 0, all.err);
    assert.match(all.out, /^line-0\nline-1\n/);
    assert.match(all.err, /Defaulted container "app" out of: app, side/);
    const side = await ozy(['logs', 'chatty-0', '-c', 'side'], env);
    assert.equal(side.code, 0, side.err);
    assert.equal(side.out, 'side-says-hello\n');
    const missing = await ozy(['logs', 'chatty-0', '-c', 'nope'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no container "nope" \(containers: app, side\)/);
    const tail = await ozy(['logs', 'chatty-0', '--tail', '1'], env);
    assert.equal(tail.code, 0, tail.err);
    assert.match(tail.out, /^line-\d+\n$/);
    assert.notEqual(tail.out, 'line-0\n');
    assert.equal((await ozy(['logs', 'nobody-0'], env)).code, 1);
    assert.equal((await ozy(['logs'], env)).code, 2);
    assert.equal((await ozy(['logs', 'chatty-0', '--tail', 'x'], env)).code, 2);

    // -f: a line written after the start shows up, then the client stops.
    const tailNow = Math.max(...[...(await ozy(['logs', 'chatty-0', '--tail', '1'], env)).out.matchAll(/line-(\d+)/g)].map((m) => Number(m[1])));
    const follow = spawn(process.execPath, [ozyEntry(), 'logs', 'chatty-0', '--tail', '1', '-f'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follow.stdout.setEncoding('utf8').on('data', (d: string) => (followed += d));
    try {
      await waitFor(
        'a line written after `ozy logs -f` started',
        () => [...followed.matchAll(/line-(\d+)/g)].some((m) => Number(m[1]) > tailNow + 1),
        { timeoutMs: 15_000 },
      );
    } finally {
      follow.kill('SIGTERM');
    }
    // The token never reaches a log: the agents' (debug level, config included) nor the CLI's messages.
    for (const a of c.agents) assert.ok(!a.logs().includes(TOKEN), `${a.node} logged the token`);
    assert.ok(a2.every((r) => !r.err.includes(TOKEN)));
  });

  test('a real Prometheus server scrapes both agents: its query API returns ozy_instances of each', async (t) => {
    if (!havePrometheus()) return t.skip('prometheus not installed (apt-get install --no-install-recommends prometheus)');
    const targets = [...addr.values()];
    const prom = await startPrometheus(targets);
    try {
      const result = await waitFor(
        'ozy_instances{state="healthy"} from both agents',
        async () => {
          const r = await prom.query('ozy_instances{state="healthy"}');
          return new Set(r.map((s) => s.metric.instance)).size === targets.length ? r : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      assert.deepEqual(new Set(result.map((s) => s.metric.instance)), new Set(targets));
      // chatty-0 runs healthy on exactly one of them.
      assert.equal(result.reduce((n, s) => n + Number(s.value[1]), 0), 1);
      // Cluster-wide series come from the poller only.
      const pollers = await prom.query('ozy_poller == 1');
      assert.equal(pollers.length, 1);
      const pending = await waitFor('ozy_instances_pending scraped', async () => (await prom.query('ozy_instances_pending')).length > 0 ? prom.query('ozy_instances_pending') : undefined, { timeoutMs: 15_000, intervalMs: 500 });
      assert.equal(pending.length, 1);
      assert.equal(pending[0]!.metric.instance, pollers[0]!.metric.instance);
    } finally {
      await prom.stop();
    }
  });

  test('an explicit --http on a taken port stops the agent with an error', async () => {
    const taken = addr.get(c.agents[0]!.node)!;
    const dir = tempDir('ozy-http-taken-');
    try {
      const res = spawnSync(
        process.execPath,
        [ozyEntry(), 'agent', '--node', c.podman.node('taken'), '--repo', c.repoUrl, '--etcd', c.etcd.endpoint, '--docker-socket', c.podman.socketPath, '--data-dir', dir.dir, '--http', taken],
        { encoding: 'utf8', timeout: 20_000 },
      );
      assert.equal(res.status, 1, res.stderr);
      assert.match(res.stderr, new RegExp(`ozy agent: --http ${taken.replace(/\./g, '\\.')}: cannot listen \\(EADDRINUSE\\)`));
      // It never registered.
      assert.equal((await c.store.snapshot()).nodes.some((n) => n.name === c.podman.node('taken')), false);
    } finally {
      dir.cleanup();
    }
  });
});
