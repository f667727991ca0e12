// Autoscaling on CPU end to end: three agent processes, real etcd, podman
// and git. The job's containers burn CPU while a file exists in their
// shared volume (capped at their `cpu` by the CFS quota, so a loaded
// instance measures ~100 % of its limit). A watcher records every count the
// job has in etcd, so "never above max", "never below min" and "not before
// scaleDownAfter" are checked on the whole history, not on one look.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AcceptedJob } from '../../../src/model/cluster';
import { sharedVolumePath } from '../../../src/runtime/volumes';
import { merge, shellJob, startClusterWithAgents, type TestCluster } from '../../harness/cluster';
import { waitFor } from '../../harness/wait';
import { runCli } from '../../unit/cli/run-cli';
import type { ClusterStatus } from '../../../src/agent/cluster-status';

// httpd answers the health check; the loop spins while /shared/load exists.
const BURN = ["trap 'exit 0' TERM", 'mkdir -p /srv', 'echo ok > /srv/health.txt', '/bin/httpd -f -p 8080 -h /srv & while :; do if [ -f /shared/load ]; then :; else sleep 0.2; fi; done'].join('; ');

interface BurnOpts {
  min: number;
  max: number;
  cpu: string;
  scaleDownAfter: string;
  version?: string;
}

function burnJob(o: BurnOpts): string {
  return shellJob({
    name: 'burn',
    script: BURN,
    memory: '100M',
    cpu: '50m',
    top: ['numInstances: 1', `autoscale: {min: ${o.min}, max: ${o.max}, cpu: ${o.cpu}, scaleDownAfter: ${o.scaleDownAfter}}`, 'update: {minHealthy: 1s, healthyDeadline: 60s}', 'stopGrace: 1s'],
    container: [
      'ports: ["8080"]',
      `environment: {VERSION: "${o.version ?? '1'}"}`,
      'healthcheck: {type: http, port: 8080, path: /health.txt, interval: 500ms, timeout: 1s}',
      'volumes:',
      '  - type: shared',
      '    path: /shared',
      '    space: 1M',
    ],
  });
}

/** Every count the job had, with when it was first seen (ms), from polling etcd. */
class CountHistory {
  readonly seen: Array<{ at: number; count: number; placed: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly c: TestCluster) {}
  start(): void {
    const tick = async (): Promise<void> => {
      const job = (await this.c.store.snapshot().catch(() => undefined))?.jobs.get('burn');
      if (job) {
        const count = job.instances.length;
        const placed = job.instances.filter((p) => p.node !== null).length;
        const last = this.seen[this.seen.length - 1];
        if (!last || last.count !== count || last.placed !== placed) this.seen.push({ at: Date.now(), count, placed });
      }
      if (this.timer !== undefined) this.timer = setTimeout(() => void tick(), 150);
    };
    this.timer = setTimeout(() => void tick(), 0);
  }
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
  now(): number {
    return this.seen[this.seen.length - 1]?.count ?? 0;
  }
  since(t: number): Array<{ at: number; count: number; placed: number }> {
    const before = this.seen.filter((s) => s.at < t);
    return [...before.slice(-1), ...this.seen.filter((s) => s.at >= t)];
  }
}

/**
 * The stabilization window of the scale-up, capacity and scale-down tests:
 * long enough to span several 2 s CPU samples, short enough that waiting it
 * out twice (the count comes down in steps as the loaded samples leave the
 * window) does not dominate the file. The lowered-max test keeps 15 s: it
 * shows that a lowered max does not wait for the window.
 */
const SCALE_DOWN_AFTER_S = 8;

async function burnNow(c: TestCluster): Promise<AcceptedJob | undefined> {
  return (await c.store.snapshot()).jobs.get('burn');
}

/** Instances of `burn` healthy on the spec they run (statuses in etcd). */
async function healthy(c: TestCluster): Promise<number> {
  const job = await burnNow(c);
  if (!job) return 0;
  const statuses = new Map((await c.store.listInstanceStatus()).map((s) => [`${s.node}/${s.instance}`, s]));
  return job.instances.filter((p, i) => p.node !== null && statuses.get(`${p.node}/burn-${i}`)?.state === 'healthy').length;
}

async function status(c: TestCluster): Promise<ClusterStatus> {
  const r = await runCli(['status', '--etcd', c.etcd.endpoint, '--json'], process.cwd());
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as ClusterStatus;
}

describe('autoscaling on CPU end to end (3 agents on podman)', () => {
  let c: TestCluster;
  let history: CountHistory;
  let loadFile: string;
  const load = (on: boolean): void => {
    if (on) fs.writeFileSync(loadFile, 'on\n');
    else fs.rmSync(loadFile, { force: true });
  };

  before(async () => {
    // 256M nodes, 100M instances: two per node, six in the cluster.
    c = await startClusterWithAgents(['a', 'b', 'c'], { memory: '256M' });
    const sharedRoot = path.join(path.dirname(c.agents[0]!.dataDir), 'shared');
    loadFile = path.join(sharedVolumePath(sharedRoot, 'burn', '/shared'), 'load');
    history = new CountHistory(c);
    history.start();
  });
  after(async () => {
    history?.stop();
    await c?.stop();
  });

  test('load on: scales up within a few sampling intervals, never above max', async (t) => {
    await merge(c.user, { 'jobs/burn.yaml': burnJob({ min: 1, max: 3, cpu: '50%', scaleDownAfter: `${SCALE_DOWN_AFTER_S}s` }) }, 'burn, autoscaled');
    await waitFor('burn-0 healthy', async () => (await healthy(c)) === 1, { timeoutMs: 60_000 });
    fs.mkdirSync(path.dirname(loadFile), { recursive: true });
    const on = Date.now();
    load(true);
    await waitFor('a second instance', async () => history.now() >= 2, { timeoutMs: 30_000 });
    const added = Date.now() - on;
    await waitFor('two healthy', async () => (await healthy(c)) >= 2, { timeoutMs: 30_000 });
    const healthyAfter = Date.now() - on;
    await waitFor('three instances', async () => history.now() === 3, { timeoutMs: 30_000 });
    // Every loaded instance keeps asking for double: max must hold it.
    await waitFor('three healthy', async () => (await healthy(c)) === 3, { timeoutMs: 30_000 });
    const held = Date.now();
    await waitFor('a few evaluations at max', async () => Date.now() - held > 6_000, { timeoutMs: 10_000, intervalMs: 500 });
    t.diagnostic(`load step → second instance committed ${added} ms, healthy ${healthyAfter} ms`);
    assert.ok(Math.max(...history.seen.map((s) => s.count)) <= 3, `never above max: ${JSON.stringify(history.seen)}`);
    const st = await status(c);
    const row = st.jobs.find((j) => j.name === 'burn')?.autoscale;
    assert.ok(row, 'ozy status has the autoscale row');
    assert.equal(row.count, 3);
    assert.equal(row.targetPercent, 50);
    assert.ok(row.measuredPercent !== null && row.measuredPercent > 70, `measured ${row.measuredPercent}`);
  });

  test('more wanted than fit: as many as fit run, ozy status says capped by capacity, no report', async () => {
    await merge(c.user, { 'jobs/burn.yaml': burnJob({ min: 1, max: 8, cpu: '50%', scaleDownAfter: `${SCALE_DOWN_AFTER_S}s` }) }, 'burn: max 8');
    await waitFor('eight wanted, six placed', async () => {
      const job = await burnNow(c);
      return job?.instances.length === 8 && job.instances.filter((p) => p.node !== null).length === 6;
    }, { timeoutMs: 60_000 });
    const st = await status(c);
    const row = st.jobs.find((j) => j.name === 'burn')?.autoscale;
    assert.equal(row?.capped, true);
    assert.equal(row?.state, 'capped by capacity (6 of 8 placed)');
    assert.deepEqual(st.rejections.map((r) => r.key), [], 'nothing in git was rejected');
    assert.ok(fs.existsSync(path.dirname(loadFile)));
  });

  test('load off: scales down only after scaleDownAfter, never below min', async (t) => {
    const off = Date.now();
    load(false);
    await waitFor('back to min', async () => history.now() === 1, { timeoutMs: 90_000 });
    const after = history.since(off);
    t.diagnostic(`counts after load off (ms, count, placed): ${JSON.stringify(after.map((s) => [s.at - off, s.count, s.placed]))}`);
    const firstDrop = after.find((s, i) => i > 0 && s.count < after[0]!.count);
    assert.ok(firstDrop, `a scale-down happened: ${JSON.stringify(after)}`);
    assert.ok(firstDrop.at - off >= SCALE_DOWN_AFTER_S * 1000, `not before scaleDownAfter (${SCALE_DOWN_AFTER_S} s): first drop after ${firstDrop.at - off} ms`);
    assert.ok(Math.min(...after.map((s) => s.count)) >= 1, 'never below min');
    const job = await burnNow(c);
    assert.deepEqual(job?.instances.length, 1);
  });

  test('raising min in git scales up at once; lowering max scales down at once', async () => {
    await merge(c.user, { 'jobs/burn.yaml': burnJob({ min: 3, max: 8, cpu: '50%', scaleDownAfter: '15s' }) }, 'burn: min 3');
    await waitFor('three instances', async () => history.now() === 3, { timeoutMs: 30_000 });
    const down = Date.now();
    await merge(c.user, { 'jobs/burn.yaml': burnJob({ min: 1, max: 2, cpu: '50%', scaleDownAfter: '15s' }) }, 'burn: max 2');
    await waitFor('two instances', async () => history.now() === 2, { timeoutMs: 30_000 }).catch(async (err: unknown) => {
      const job = await burnNow(c);
      const said = c.agents.flatMap((a) => a.logs().split('\n').filter((l) => /autoscale|burn/.test(l)).slice(-15));
      throw new Error(`${String(err)}; counts since (ms, count, placed): ${JSON.stringify(history.since(down).map((h) => [h.at - down, h.count, h.placed]))}; accepted: ${JSON.stringify(job?.spec.autoscale)} ${job?.commit}\n${said.join('\n')}`);
    });
    assert.ok(Date.now() - down < 15_000, 'a lowered max does not wait for scaleDownAfter');
  });

  test('a rolling update of an autoscaled job under steady load causes no scale-up and keeps the count', async () => {
    // Loaded instances measure ~100 % of their limit: at a 100 % target that is steady.
    await merge(c.user, { 'jobs/burn.yaml': burnJob({ min: 2, max: 3, cpu: '100%', scaleDownAfter: '5m' }) }, 'burn: target 100%');
    load(true);
    await waitFor('two healthy', async () => (await healthy(c)) === 2, { timeoutMs: 60_000 });
    const from = Date.now();
    await merge(c.user, { 'jobs/burn.yaml': burnJob({ min: 2, max: 3, cpu: '100%', scaleDownAfter: '5m', version: '2' }) }, 'burn: version 2');
    await waitFor('the update rolled through', async () => {
      const job = await burnNow(c);
      if (!job || job.rollout || !job.spec.containers[0]!.environment.some((e) => 'value' in e && e.value === '2')) return false;
      return job.instances.every((p) => p.spec === undefined) && (await healthy(c)) === 2;
    }, { timeoutMs: 90_000 });
    const done = Date.now();
    await waitFor('some evaluations after it', async () => Date.now() - done > 6_000, { timeoutMs: 10_000, intervalMs: 500 });
    const during = history.since(from);
    assert.deepEqual([...new Set(during.map((s) => s.count))], [2], `the count stayed 2: ${JSON.stringify(during)}`);
    load(false);
  });
});
