// `ozy plan` and `ozy status` against a real etcd holding registered nodes.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { main } from '../../../src/cli/main';
import { decide } from '../../../src/plan';
import { renderRepoDir } from '../../../src/render';
import { ClusterStore, type NodeSession } from '../../../src/store';
import { jobYaml } from '../../harness/cluster';
import { startEtcd, type EtcdServer } from '../../harness/etcd';
import { tempDir } from '../../harness/tmp';

const GiB = 1024 ** 3;

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(argv, { stdout, stderr, env: {}, cwd: process.cwd() });
  return { code, out, err };
}

describe('ozy plan and ozy status against a live cluster', () => {
  let etcd: EtcdServer;
  let store: ClusterStore;
  const sessions: NodeSession[] = [];
  const repo = tempDir('ozy-plan-');

  const writeJobs = (files: Record<string, string | null>) => {
    for (const [f, text] of Object.entries(files)) {
      const p = path.join(repo.dir, f);
      if (text === null) fs.rmSync(p, { force: true });
      else {
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, text);
      }
    }
  };

  before(async () => {
    etcd = await startEtcd();
    store = ClusterStore.connect({ endpoints: [etcd.endpoint] });
    for (const [name, zone] of [['n1', 'a'], ['n2', 'b']] as const) {
      sessions.push(
        await store.registerNode(
          { name, zone, address: '127.0.0.1', labels: {}, capacity: { memory: 1 * GiB, disk: 10 * GiB, cpu: 2000 } },
          { ttlSeconds: 30, agentId: name },
        ),
      );
    }
  });
  after(async () => {
    for (const s of sessions) await s.revoke().catch(() => undefined);
    await store.close();
    await etcd.stop();
    repo.cleanup();
  });

  test('plan: every job feasible → exit 0 with placements on live nodes', async () => {
    writeJobs({ 'jobs/web.yaml': jobYaml('web', { instances: 3, memory: '200M' }) });
    const r = await run(['plan', repo.dir, '--etcd', etcd.endpoint, '--json']);
    assert.equal(r.code, 0, r.err);
    const plan = JSON.parse(r.out) as { outcomes: Array<{ job: string; bucket: string; placements: string[] }> };
    const web = plan.outcomes.find((o) => o.job === 'web');
    assert.equal(web?.bucket, 'create');
    assert.equal(web?.placements.length, 3);
    for (const n of web!.placements) assert.ok(['n1', 'n2'].includes(n));
  });

  test('plan: a job that cannot fit → exit 2, the problem and per-node reasons; human and markdown output', async () => {
    writeJobs({ 'jobs/big.yaml': jobYaml('big', { instances: 3, memory: '900M' }) });
    const json = await run(['plan', repo.dir, '--etcd', etcd.endpoint, '--json']);
    assert.equal(json.code, 2);
    const big = (JSON.parse(json.out) as { outcomes: Array<{ job: string; bucket: string; problem?: { type: string }; nodeReasons?: Record<string, string> }> }).outcomes.find((o) => o.job === 'big');
    assert.equal(big?.bucket, 'rejected');
    assert.match(big!.problem!.type, /#insufficient-memory$/);
    assert.deepEqual(Object.keys(big!.nodeReasons ?? {}).sort(), ['n1', 'n2']);
    const human = await run(['plan', repo.dir, '--etcd', etcd.endpoint]);
    assert.equal(human.code, 2);
    assert.match(human.out, /rejected\s+big/);
    assert.match(human.out, /Job requires/);
    assert.match(human.out, /^ +node n1: insufficient memory: needs 900M/m, 'per-node reasons read "node n1: …"');
    const md = await run(['plan', repo.dir, '--etcd', etcd.endpoint, '--markdown']);
    assert.match(md.out, /\| `big` \| rejected \|/);
    writeJobs({ 'jobs/big.yaml': null });
  });

  test('plan: an invalid file → exit 2 with the field named', async () => {
    writeJobs({ 'jobs/bad.yaml': 'name: bad\nnumInstances: -1\ncontainers: {}\n' });
    const r = await run(['plan', repo.dir, '--etcd', etcd.endpoint, '--json']);
    assert.equal(r.code, 2);
    assert.match(r.out, /numInstances/);
    writeJobs({ 'jobs/bad.yaml': null });
  });

  test('status: nodes with capacity and allocation, jobs, instances, rejections', async () => {
    // Commit what plan showed, as an agent would.
    const render = await renderRepoDir(repo.dir, { commit: 'c'.repeat(40) });
    const snap = await store.snapshot();
    const d = decide({ desired: render.jobs, invalid: render.problems, cluster: snap, commit: 'c'.repeat(40), now: new Date(), deletionGuard: render.settings.deletionGuard });
    assert.equal((await store.commitSchedule(snap.scheduleRevision, { ...d, readJobs: snap.jobs }, { commit: 'c'.repeat(40), by: 'test' })).ok, true);

    const r = await run(['status', '--etcd', etcd.endpoint, '--json']);
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out) as {
      nodes: Array<{ name: string; alive: boolean; zone: string; allocated: { memory: number }; used: { memory: number }; capacity: { memory: number } }>;
      jobs: Array<{ name: string; desired: number; placed: number }>;
      instances: Array<{ instance: string; node: string; state: string; health: string }>;
    };
    assert.deepEqual(s.nodes.map((n) => [n.name, n.alive, n.zone]), [['n1', true, 'a'], ['n2', true, 'b']]);
    assert.equal(s.nodes.reduce((a, n) => a + n.allocated.memory, 0), 3 * 200 * 1024 ** 2);
    assert.deepEqual(s.nodes.map((n) => n.used), s.nodes.map((n) => n.allocated));
    assert.deepEqual(s.jobs.map((j) => [j.name, j.desired, j.placed]), [['web', 3, 3]]);
    assert.deepEqual(s.instances.map((i) => i.instance), ['web-0', 'web-1', 'web-2']);
    // No agent runs them here: they are placed but nobody reported them yet.
    assert.ok(s.instances.every((i) => i.state === 'pending' && i.health === 'unknown'));
    const human = await run(['status', '--etcd', etcd.endpoint]);
    assert.match(human.out, /NODES[\s\S]*n1\s+yes\s+a[\s\S]*JOBS[\s\S]*web\s+3\s+3/);
  });

  test('plan and status need --etcd', async () => {
    assert.equal((await run(['plan', repo.dir])).code, 1);
    assert.equal((await run(['status'])).code, 1);
  });
});
