// Three agents racing on rapid random commits: at every committed etcd
// revision no node is over capacity and every instance has one node
// (invariants 1 and 2); every judged change is whole (invariant 3).
// Checked per revision, not per event: the writes inside one transaction
// are atomic, so a state between two of its events never exists.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { versionOf, type AcceptedJob, type NodeInfo } from '../../../src/model/cluster';
import { agentReports, jobYaml, merge, startCluster, type TestCluster } from '../../harness/cluster';
import { prng } from '../../harness/random';
import { waitFor } from '../../harness/wait';


function overCapacity(nodes: NodeInfo[], jobs: Map<string, AcceptedJob>): string[] {
  const used = new Map<string, { memory: number; cpu: number; disk: number }>();
  for (const j of jobs.values()) {
    for (const p of j.instances) {
      if (!p.node) continue;
      // Computed here, independently of the scheduler's own accounting, from
      // the version the instance runs (a rolling update pins older ones).
      const spec = versionOf(j, p).spec;
      const memory = spec.containers.reduce((a, c) => a + c.memory, 0);
      const cpu = spec.containers.reduce((a, c) => a + c.cpu, 0);
      const disk = spec.containers.reduce((a, c) => a + c.volumes.filter((v) => v.type === 'local').reduce((x, v) => x + v.space, 0), 0);
      const u = used.get(p.node) ?? { memory: 0, cpu: 0, disk: 0 };
      u.memory += memory;
      u.cpu += cpu;
      u.disk += disk;
      used.set(p.node, u);
    }
  }
  const bad: string[] = [];
  for (const n of nodes) {
    const u = used.get(n.name);
    if (!u) continue;
    for (const r of ['memory', 'cpu', 'disk'] as const) if (u[r] > n.capacity[r]) bad.push(`${n.name} ${r} ${u[r]} > ${n.capacity[r]}`);
  }
  return bad;
}

describe('brain: racing agents keep the invariants', () => {
  let c: TestCluster;
  let nodes: NodeInfo[];
  const violations: string[] = [];
  let revisionsChecked = 0;
  let stopWatch: (() => Promise<void>) | undefined;
  let state = new Map<string, AcceptedJob>();
  /** The revision whose events are being applied: checked once the next revision's first event arrives. */
  let open: number | undefined;
  const checkRevision = (): void => {
    if (open === undefined) return;
    revisionsChecked++;
    for (const v of overCapacity(nodes, state)) violations.push(`rev ${open}: ${v}`);
    for (const j of state.values()) {
      if (j.instances.length !== j.spec.numInstances) violations.push(`rev ${open}: ${j.spec.name} has ${j.instances.length} placements for ${j.spec.numInstances} instances`);
    }
    open = undefined;
  };

  before(async () => {
    c = await startCluster();
    await Promise.all(['a', 'b', 'c'].map((n) => c.startAgent({ name: n, memory: '1G', cpus: '2', poll: '100ms' })));
    await c.waitForNodes(3);
    const snap = await c.store.snapshot();
    nodes = snap.nodes;
    // Check every committed revision, not only the final state.
    state = new Map(snap.jobs);
    stopWatch = await c.store.watchJobs(snap.revision + 1, {
      onChange: (ev) => {
        if (open !== undefined && ev.revision !== open) checkRevision();
        if (ev.type === 'put' && ev.value) state.set(ev.name, ev.value);
        else state.delete(ev.name);
        open = ev.revision;
      },
      onReset: () => violations.push('watch was reset; revisions may have been skipped'),
    });
  });
  after(async () => {
    await stopWatch?.();
    await c?.stop();
  });

  for (const seed of [1, 2, 3]) {
    test(`random commit sequence, seed ${seed}`, async () => {
      const rand = prng(seed);
      const names = ['alpha', 'beta', 'gamma', 'delta', 'eps'].map((n) => `${n}${seed}`);
      const live = new Set<string>();
      let last = '';
      for (let step = 0; step < 14; step++) {
        const name = names[Math.floor(rand() * names.length)]!;
        const change: Record<string, string | null> = {};
        if (live.has(name) && rand() < 0.25) {
          change[`jobs/${name}.yaml`] = null;
          live.delete(name);
        } else {
          // Big jobs against 3 × 1G: concurrent decisions on different commits collide.
          const instances = 1 + Math.floor(rand() * 4);
          const memory = `${200 + Math.floor(rand() * 5) * 50}M`;
          change[`jobs/${name}.yaml`] = jobYaml(name, { instances, memory, cpu: '200m', image: 'localhost/ozy-absent:1' });
          live.add(name);
        }
        // Commits land back to back: agents see some, skip others, and race on each.
        last = await merge(c.user, change, `seed ${seed} step ${step}`);
      }
      // Converged: every agent judged the last merge (or a report commit on top of it).
      await waitFor('every agent judged the last merge and is idle', async () => {
        await c.user.git('fetch', '--quiet', 'origin');
        const agents = await agentReports(c.store);
        if (agents.length !== 3) return false;
        const poller = agents.find((a) => a.role === 'poller');
        if (poller?.lastRound !== 'unchanged' && poller?.lastRound !== 'idle') return false;
        for (const a of agents) {
          if (typeof a.head !== 'string') return false;
          const contains = await c.user.git('merge-base', '--is-ancestor', last, a.head).then(() => true, () => false);
          if (!contains) return false;
        }
        return true;
      }, { timeoutMs: 30_000 });
      const snap = await c.store.snapshot();
      // Converged: the latest revision's events have all arrived.
      const same = (m: ReadonlyMap<string, AcceptedJob>): string => JSON.stringify([...m.entries()].sort(([x], [y]) => x.localeCompare(y)));
      await waitFor('the watch reached the snapshot', async () => same(state) === same(snap.jobs), { timeoutMs: 10_000, intervalMs: 50 });
      checkRevision();
      assert.deepEqual(overCapacity(snap.nodes, snap.jobs), []);
      for (const n of live) {
        assert.ok(snap.jobs.has(n) || snap.rejections.has(n), `${n} is accepted or rejected`);
      }
      assert.deepEqual(violations, [], `checked ${revisionsChecked} revisions`);
    });
  }
});
