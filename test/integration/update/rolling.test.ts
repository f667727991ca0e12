// Updates without outage, end to end: three `ozy agent` processes on podman
// run a busybox httpd job; the repository changes its pod; the test samples
// etcd all along. Rolling in batches keeps enough instances healthy, a bad
// spec reverts and is reported, the update survives the death of the agent
// driving it, and `recreate` still replaces everything at once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { versionOf, type AcceptedJob } from '../../../src/model/cluster';
import { agentReports, merge, readJsonIfExists, startClusterWithAgents, type TestCluster, shellJob } from '../../harness/cluster';
import { waitFor } from '../../harness/wait';

const SERVE = ["trap 'exit 0' TERM", 'mkdir -p /srv', 'echo ok > /srv/health.txt', '/bin/httpd -f -p 8080 -h /srv & wait'].join('; ');

interface WebOpts {
  instances: number;
  /** Changes the pod (an environment value): a new spec without a new image. */
  version: string;
  maxParallel?: number;
  strategy?: 'rolling' | 'recreate';
  image?: string;
  minHealthy?: string;
  healthyDeadline?: string;
}

function webJob(o: WebOpts): string {
  const update = [`strategy: ${o.strategy ?? 'rolling'}`, `maxParallel: ${o.maxParallel ?? 1}`, `minHealthy: ${o.minHealthy ?? '1s'}`, `healthyDeadline: ${o.healthyDeadline ?? '30s'}`];
  return shellJob({
    name: 'web',
    script: SERVE,
    memory: '16M',
    cpu: '20m',
    ...(o.image ? { image: o.image } : {}),
    top: [`numInstances: ${o.instances}`, `update: {${update.join(', ')}}`, 'stopGrace: 2s'],
    container: ['ports: ["8080"]', `environment: {VERSION: "${o.version}"}`, 'healthcheck: {type: http, port: 8080, path: /health.txt, interval: 300ms, timeout: 1s}'],
  });
}

/** Healthy instances of `job` right now: a status in etcd, healthy, for the version its placement runs there. */
async function healthyNow(c: TestCluster, job: AcceptedJob | undefined): Promise<number> {
  if (!job) return 0;
  const statuses = new Map((await c.store.listInstanceStatus()).map((s) => [`${s.node}/${s.instance}`, s]));
  let n = 0;
  job.instances.forEach((p, i) => {
    const s = p.node === null ? undefined : statuses.get(`${p.node}/${job.spec.name}-${i}`);
    if (s?.state === 'healthy' && s.specHash === versionOf(job, p).specHash) n++;
  });
  return n;
}

async function webJobNow(c: TestCluster): Promise<AcceptedJob | undefined> {
  return (await c.store.snapshot()).jobs.get('web');
}

/** Every instance on the job's spec, healthy, no rollout under way. */
async function settled(c: TestCluster, instances: number, version: string): Promise<AcceptedJob | false> {
  const job = await webJobNow(c);
  if (!job || job.rollout || job.instances.length !== instances) return false;
  if (!job.spec.containers[0]!.environment.some((e) => e.name === 'VERSION' && 'value' in e && e.value === version)) return false;
  if (job.instances.some((p) => p.spec !== undefined && p.spec !== job.specHash)) return false;
  return (await healthyNow(c, job)) === instances ? job : false;
}

/** Samples the healthy count every ~100 ms until stopped: the minimum seen, and how many samples saw an update under way. */
function sampleHealthy(c: TestCluster): { stop(): Promise<{ min: number; rolling: number; samples: number }> } {
  let min = Infinity;
  let rolling = 0;
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const job = await webJobNow(c);
      const healthy = await healthyNow(c, job);
      samples++;
      if (job?.rollout) rolling++;
      min = Math.min(min, healthy);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { min, rolling, samples };
    },
  };
}

describe('rolling updates end to end (3 agents on podman)', () => {
  let c: TestCluster;

  before(async () => {
    c = await startClusterWithAgents(['a', 'b', 'c']);
    await merge(c.user, { 'jobs/web.yaml': webJob({ instances: 5, version: 'v1' }) }, 'web v1');
    await waitFor('5 instances of web v1 healthy', () => settled(c, 5, 'v1'), { timeoutMs: 90_000 });
  });
  after(async () => {
    await c?.stop();
  });

  test('maxParallel 1: a 5-instance job never has fewer than 4 healthy instances through the update', async (t) => {
    const sampler = sampleHealthy(c);
    const started = Date.now();
    await merge(c.user, { 'jobs/web.yaml': webJob({ instances: 5, version: 'v2' }) }, 'web v2');
    await waitFor('web v2 everywhere', () => settled(c, 5, 'v2'), { timeoutMs: 120_000 });
    const took = Date.now() - started;
    const seen = await sampler.stop();
    t.diagnostic(`update of 5 instances, maxParallel 1: ${took} ms; min healthy ${seen.min} over ${seen.samples} samples (${seen.rolling} during the rollout)`);
    assert.ok(seen.rolling > 0, 'the sampler saw the rollout under way');
    assert.ok(seen.min >= 4, `never fewer than 4 healthy (saw ${seen.min})`);
  });

  test('maxParallel 2: never fewer than 3 healthy', async () => {
    const sampler = sampleHealthy(c);
    await merge(c.user, { 'jobs/web.yaml': webJob({ instances: 5, version: 'v3', maxParallel: 2 }) }, 'web v3');
    await waitFor('web v3 everywhere', () => settled(c, 5, 'v3'), { timeoutMs: 120_000 });
    const seen = await sampler.stop();
    assert.ok(seen.rolling > 0, 'the sampler saw the rollout under way');
    assert.ok(seen.min >= 3, `never fewer than 3 healthy (saw ${seen.min})`);
  });

  test('a bad image reverts: the report names the instance, every instance runs the old spec, nothing retries until the file changes', async (t) => {
    const good = await webJobNow(c);
    const bad = await merge(c.user, { 'jobs/web.yaml': webJob({ instances: 5, version: 'v4', image: 'localhost/ozy-absent:1' }) }, 'web v4 (bad image)');
    const failedAt = Date.now();
    const report = await waitFor('rejections/web.json with update-failed', async () => {
      await c.user.git('pull', '--quiet', '--rebase', 'origin', 'main');
      const r = readJsonIfExists(`${c.user.dir}/rejections/web.json`) as Record<string, unknown> | undefined;
      return r && String(r['type']).endsWith('#update-failed') ? r : undefined;
    }, { timeoutMs: 90_000 });
    assert.equal(report['commit'], bad);
    assert.match(String(report['instance']), /^web-\d$/);
    assert.equal(report['reverted'], true);
    const back = await waitFor('every instance back on v3', () => settled(c, 5, 'v3'), { timeoutMs: 90_000 });
    t.diagnostic(`failed update → every instance back on the old spec: ${Date.now() - failedAt} ms after the bad commit`);
    assert.equal(back.specHash, good?.specHash, 'the previous spec hash: the containers carry the old ozy.spec label');
    // Not tried again: a few poll rounds later nothing rolls and the report stays.
    const rounds = (await agentReports(c.store)).find((a) => a.role === 'poller');
    await new Promise((r) => setTimeout(r, 3000));
    const later = await webJobNow(c);
    assert.equal(later?.rollout, undefined, `no retry (poller ${rounds?.node})`);
    assert.equal(later?.specHash, good?.specHash);
    assert.ok((await c.store.snapshot()).rejections.has('web'), 'the report stays while the file asks for the failed spec');

    // The file changes: a new update starts, succeeds, and the report goes.
    await merge(c.user, { 'jobs/web.yaml': webJob({ instances: 5, version: 'v5' }) }, 'web v5 (fixed)');
    await waitFor('web v5 everywhere', () => settled(c, 5, 'v5'), { timeoutMs: 120_000 });
    await waitFor('the report removed', async () => !(await c.store.snapshot()).rejections.has('web'), { timeoutMs: 20_000 });
  });

  test('the agent driving an update is SIGKILLed mid-way: another agent finishes it', async () => {
    await merge(c.user, { 'jobs/web.yaml': webJob({ instances: 5, version: 'v6', minHealthy: '2s' }) }, 'web v6');
    const job = await waitFor('the rollout past its first batch', async () => {
      const j = await webJobNow(c);
      return j?.rollout && j.instances.filter((p) => p.spec === undefined || p.spec === j.specHash).length >= 2 ? j : undefined;
    }, { timeoutMs: 60_000 });
    const poller = (await agentReports(c.store)).find((a) => a.role === 'poller');
    assert.ok(poller, 'an agent drives the update');
    const agent = c.agents.find((a) => a.node === poller.node)!;
    await agent.kill();
    assert.ok(job.rollout);
    await waitFor('web v6 everywhere, driven by another agent', () => settled(c, 5, 'v6'), { timeoutMs: 120_000 });
    const driver = (await agentReports(c.store)).find((a) => a.role === 'poller');
    assert.notEqual(driver?.node, poller.node);
    await c.startAgent({ name: 'd', memory: '256M' });
  });

  test('recreate still replaces every instance at once', async () => {
    await merge(c.user, { 'jobs/web.yaml': webJob({ instances: 5, version: 'v7', strategy: 'recreate' }) }, 'web v7 recreate');
    const job = await waitFor('the v7 spec accepted', async () => {
      const j = await webJobNow(c);
      return j?.spec.containers[0]!.environment.some((e) => 'value' in e && e.value === 'v7') ? j : undefined;
    }, { timeoutMs: 30_000 });
    assert.equal(job.rollout, undefined, 'no rollout: every instance got the new spec in one write');
    assert.ok(job.instances.every((p) => p.spec === undefined));
    await waitFor('web v7 everywhere', () => settled(c, 5, 'v7'), { timeoutMs: 90_000 });
  });
});
