// Daemon jobs and rebalancing end to end, with real agents on podman: a
// daemon runs once on every node (a node that joins gets its instance in
// the next round; a node it does not fit on is named in the report), and
// with `rebalance: true` in ozy.yaml instances move onto a node that joins.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { placementName } from '../../../src/model/cluster';
import { merge, readJsonIfExists, startClusterWithAgents, type TestCluster, shellJob } from '../../harness/cluster';
import { waitFor } from '../../harness/wait';

const SLEEP = ["trap 'exit 0' TERM", 'sleep 3600 & wait'].join('; ');

function job(name: string, lines: string[], memory: string): string {
  return shellJob({ name, script: SLEEP, memory, cpu: '10m', top: [...lines, 'update: {minHealthy: 1s}', 'stopGrace: 1s'] });
}

/** Instance name → node, for the healthy instances of `job` on the nodes etcd places them on. */
async function healthyPlacements(c: TestCluster, name: string): Promise<Map<string, string>> {
  const snap = await c.store.snapshot();
  const j = snap.jobs.get(name);
  const statuses = new Map((await c.store.listInstanceStatus()).map((s) => [`${s.node}/${s.instance}`, s]));
  const out = new Map<string, string>();
  j?.instances.forEach((p, i) => {
    const instance = placementName(name, p, i);
    if (p.node !== null && statuses.get(`${p.node}/${instance}`)?.state === 'healthy') out.set(instance, p.node);
  });
  return out;
}

describe('daemon jobs end to end (agents on podman)', () => {
  let c: TestCluster;

  before(async () => {
    c = await startClusterWithAgents(['a', 'b', 'c']);
  });
  after(async () => {
    await c?.stop();
  });

  test('one instance per node, named after it; a fourth agent gets its own in the next round', async (t) => {
    await merge(c.user, { 'jobs/node-agent.yaml': job('node-agent', ['type: daemon'], '32M') }, 'daemon');
    const three = await waitFor('3 daemon instances healthy', async () => {
      const m = await healthyPlacements(c, 'node-agent');
      return m.size === 3 ? m : undefined;
    }, { timeoutMs: 60_000 });
    for (const [instance, node] of three) assert.equal(instance, `node-agent-${node}`);
    const joined = Date.now();
    const d = await c.startAgent({ name: 'd', memory: '256M' });
    const placedAt = await waitFor('the new node has its daemon instance in etcd', async () => {
      const j = (await c.store.snapshot()).jobs.get('node-agent');
      return j?.instances.some((p) => p.node === d.node) ? Date.now() : undefined;
    }, { timeoutMs: 20_000 });
    await waitFor('4 daemon instances healthy', async () => (await healthyPlacements(c, 'node-agent')).size === 4, { timeoutMs: 60_000 });
    t.diagnostic(`daemon instance placed on a joining node ${placedAt - joined} ms after the agent reported running (poll 300ms)`);
  });

  test('a node it does not fit on is named in the report while it runs on the others', async () => {
    const small = await c.startAgent({ name: 'small', memory: '24M' });
    const report = await waitFor('rejections/node-agent.json naming the small node', async () => {
      await c.user.git('pull', '--quiet', '--rebase', 'origin', 'main');
      const r = readJsonIfExists(`${c.user.dir}/rejections/node-agent.json`) as Record<string, unknown> | undefined;
      return r && String(r['type']).endsWith('#daemon-not-placed') ? r : undefined;
    }, { timeoutMs: 30_000 });
    assert.match(String(report['detail']), new RegExp(`runs on 4 of 5 eligible nodes.*${small.node}`));
    assert.ok((report['nodes'] as Record<string, string>)[small.node], 'the per-node reason');
    assert.equal((await healthyPlacements(c, 'node-agent')).size, 4, 'still running on the other four');
  });
});

describe('rebalancing on node join (ozy.yaml rebalance: true)', () => {
  let c: TestCluster;

  before(async () => {
    c = await startClusterWithAgents(['a', 'b'], { files: { 'ozy.yaml': 'rebalance: true\n' } });
  });
  after(async () => {
    await c?.stop();
  });

  test('instances move onto a node that joins until no node holds more than one above the average', async () => {
    await merge(c.user, { 'jobs/spread.yaml': job('spread', ['numInstances: 8'], '8M') }, 'spread');
    const perNode = (m: Map<string, string>): number[] => {
      const counts = new Map<string, number>();
      for (const node of m.values()) counts.set(node, (counts.get(node) ?? 0) + 1);
      return [...counts.values()].sort((x, y) => y - x);
    };
    // Two nodes: average 4, so at most 5 on one.
    await waitFor('8 healthy, at most 5 per node', async () => {
      const m = await healthyPlacements(c, 'spread');
      const j = (await c.store.snapshot()).jobs.get('spread');
      return m.size === 8 && !j?.rollout && perNode(m)[0]! <= 5;
    }, { timeoutMs: 90_000 });
    const e = await c.startAgent({ name: 'e', memory: '256M' });
    // Three nodes: average 8/3, so at most 3 on one; the new node gets some.
    const m = await waitFor('rebalanced onto the new node', async () => {
      const got = await healthyPlacements(c, 'spread');
      const j = (await c.store.snapshot()).jobs.get('spread');
      return got.size === 8 && !j?.rollout && perNode(got)[0]! <= 3 ? got : undefined;
    }, { timeoutMs: 90_000 });
    assert.ok([...m.values()].includes(e.node), 'some instances run on the node that joined');
  });
});
