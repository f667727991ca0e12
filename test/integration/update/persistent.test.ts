// Persistent volumes end to end: two `ozy agent` processes on podman run a
// one-instance busybox job with a persistent volume. The data written into
// db-0's volume survives a rolling spec change, an agent restart and a
// scale 1 → 0 → 1; when its node dies db-0 waits (pending, `volume on node
// N`) and comes back there with its data; with `onNodeLoss: recreate` it
// starts elsewhere, empty. The pod appends a line to /data/starts on each
// start, so a new pod on the same directory shows up as one more line.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildClusterStatus } from '../../../src/agent/cluster-status';
import type { AcceptedJob } from '../../../src/model/cluster';
import { persistentVolumePath } from '../../../src/runtime/volumes';
import { merge, startClusterWithAgents, type AgentProcess, type TestCluster, shellJob } from '../../harness/cluster';
import { waitFor } from '../../harness/wait';

const RUN = ["trap 'exit 0' TERM", 'date >> /data/starts', 'sleep 1000000 & wait'].join('; ');

function dbJob(o: { instances: number; version: string; onNodeLoss?: 'wait' | 'recreate' }): string {
  return shellJob({
    name: 'db',
    script: RUN,
    memory: '16M',
    cpu: '20m',
    top: [
      `numInstances: ${o.instances}`,
      ...(o.onNodeLoss ? [`onNodeLoss: ${o.onNodeLoss}`] : []),
      'update: {strategy: rolling, minHealthy: 1s, healthyDeadline: 30s}',
      'stopGrace: 1s',
    ],
    container: [`environment: {VERSION: "${o.version}"}`, 'volumes: [{type: persistent, path: /data, space: 100M}]'],
  });
}

async function dbNow(c: TestCluster): Promise<AcceptedJob | undefined> {
  return (await c.store.snapshot()).jobs.get('db');
}

/** db-0 placed, on the job's spec, reported running healthy by its node: that node. */
async function runningOn(c: TestCluster, version: string): Promise<string | undefined> {
  const job = await dbNow(c);
  const p = job?.instances[0];
  if (!job || job.rollout || !p?.node || (p.spec !== undefined && p.spec !== job.specHash)) return undefined;
  if (!job.spec.containers[0]!.environment.some((e) => 'value' in e && e.value === version)) return undefined;
  const s = (await c.store.listInstanceStatus()).find((x) => x.instance === 'db-0' && x.node === p.node);
  return s?.state === 'healthy' && s.specHash === job.specHash ? p.node : undefined;
}

function volumeDir(agent: AgentProcess): string {
  return persistentVolumePath(agent.dataDir, 'db', 'db-0', 'app', '/data');
}

function starts(agent: AgentProcess): number {
  const file = path.join(volumeDir(agent), 'starts');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').length : 0;
}

describe('persistent volumes end to end (2 agents on podman)', () => {
  let c: TestCluster;
  let home: AgentProcess;
  const agentOf = (node: string): AgentProcess => [...c.agents].reverse().find((a) => a.node === node)!;

  before(async () => {
    c = await startClusterWithAgents(['a', 'b']);
    await merge(c.user, { 'jobs/db.yaml': dbJob({ instances: 1, version: 'v1' }) }, 'db v1');
    const node = await waitFor('db-0 running', () => runningOn(c, 'v1'), { timeoutMs: 90_000 });
    home = agentOf(node);
    await waitFor('the pod wrote its start', () => starts(home) === 1, { timeoutMs: 20_000 });
    fs.writeFileSync(path.join(volumeDir(home), 'hello'), 'kept');
  });
  after(async () => {
    await c?.stop();
  });

  test('a rolling spec change: the new pod on the same node mounts the same directory', async () => {
    await merge(c.user, { 'jobs/db.yaml': dbJob({ instances: 1, version: 'v2' }) }, 'db v2');
    assert.equal(await waitFor('db-0 on v2', () => runningOn(c, 'v2'), { timeoutMs: 90_000 }), home.node);
    await waitFor('the new pod started on the same data', () => starts(home) === 2, { timeoutMs: 20_000 });
    assert.equal(fs.readFileSync(path.join(volumeDir(home), 'hello'), 'utf8'), 'kept');
    assert.deepEqual((await dbNow(c))?.volumes, { '0': home.node });
  });

  test('an agent restart keeps the volume (and adopts the pod)', async () => {
    await home.stop();
    home = await c.startAgent({ name: home.node.slice(home.node.lastIndexOf('-') + 1), memory: '256M', dataDir: home.dataDir });
    assert.equal(await waitFor('db-0 running after the restart', () => runningOn(c, 'v2'), { timeoutMs: 60_000 }), home.node);
    assert.equal(fs.readFileSync(path.join(volumeDir(home), 'hello'), 'utf8'), 'kept');
  });

  test('scale 1 → 0 → 1: the volume stays, db-0 comes back to the same node and finds it', async () => {
    const before = starts(home);
    await merge(c.user, { 'jobs/db.yaml': dbJob({ instances: 0, version: 'v2' }) }, 'db to 0');
    await waitFor('db-0 gone', async () => (await dbNow(c))?.instances.length === 0 && !(await c.store.listInstanceStatus()).some((s) => s.instance === 'db-0'), {
      timeoutMs: 60_000,
    });
    assert.equal(fs.readFileSync(path.join(volumeDir(home), 'hello'), 'utf8'), 'kept', 'scaled away: kept');
    assert.deepEqual((await dbNow(c))?.volumes, { '0': home.node });
    await merge(c.user, { 'jobs/db.yaml': dbJob({ instances: 1, version: 'v2' }) }, 'db to 1');
    assert.equal(await waitFor('db-0 back', () => runningOn(c, 'v2'), { timeoutMs: 60_000 }), home.node);
    await waitFor('a new pod on the same data', () => starts(home) === before + 1, { timeoutMs: 20_000 });
  });

  test('its node dies: db-0 waits, pending with `volume on node N`; the node returns: it runs there with its data', async () => {
    const node = home.node;
    await home.kill();
    await waitFor('db-0 pending', async () => (await dbNow(c))?.instances[0]?.node === null, { timeoutMs: 30_000 });
    const snap = await c.store.snapshot();
    const status = buildClusterStatus({ ...snap, statuses: await c.store.listInstanceStatus(), agents: new Map() });
    const row = status.instances.find((i) => i.instance === 'db-0');
    assert.equal(row?.state, 'pending');
    assert.equal(row?.message, `volume on node ${node}`);
    // Still waiting a few scheduler rounds later (poll 300 ms): not moved to the live node.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal((await dbNow(c))?.instances[0]?.node, null);

    home = await c.startAgent({ name: node.slice(node.lastIndexOf('-') + 1), memory: '256M', dataDir: home.dataDir });
    assert.equal(await waitFor('db-0 back on its node', () => runningOn(c, 'v2'), { timeoutMs: 60_000 }), node);
    assert.equal(fs.readFileSync(path.join(volumeDir(home), 'hello'), 'utf8'), 'kept');
  });

  test('onNodeLoss: recreate: its node dies, db-0 starts on the other node with a new, empty volume', async () => {
    await merge(c.user, { 'jobs/db.yaml': dbJob({ instances: 1, version: 'v3', onNodeLoss: 'recreate' }) }, 'db recreate');
    assert.equal(await waitFor('db-0 on v3', () => runningOn(c, 'v3'), { timeoutMs: 90_000 }), home.node);
    const lost = home.node;
    await home.kill();
    const other = await waitFor('db-0 elsewhere', async () => {
      const n = await runningOn(c, 'v3');
      return n !== undefined && n !== lost ? n : undefined;
    }, { timeoutMs: 60_000 });
    const there = agentOf(other);
    await waitFor('the pod wrote its first start there', () => starts(there) === 1, { timeoutMs: 20_000 });
    assert.equal(fs.existsSync(path.join(volumeDir(there), 'hello')), false, 'a new, empty volume');
    assert.deepEqual((await dbNow(c))?.volumes, { '0': other });
  });
});
