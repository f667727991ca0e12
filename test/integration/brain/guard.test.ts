// Invariants 1 and 3 at the exact moment they matter: two agents read the
// same snapshot, decide on different commits, and both try to commit. The
// real etcd guard must refuse the second, which re-reads and decides again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { Brain } from '../../../src/agent/brain';
import type { GitPort, SourceFile, StorePort } from '../../../src/agent/ports';
import { ClusterStore, type NodeSession } from '../../../src/store';
import { startEtcd, type EtcdServer } from '../../harness/etcd';
import { jobYaml } from '../../harness/cluster';

const GiB = 1024 ** 3;

/** A git source pinned to one commit (the store under test is real). */
function pinnedGit(commit: string, files: SourceFile[]): GitPort {
  return {
    sync: async () => ({ head: commit }),
    readFiles: async () => ({ files, changed: files.map((f) => f.path) }),
    syncReports: async () => null,
    isAncestor: async () => true,
  };
}

/** Lets both brains take their snapshot before either commits. */
function barrier(parties: number): () => Promise<void> {
  let waiting = 0;
  let release!: () => void;
  const all = new Promise<void>((r) => (release = r));
  return async () => {
    if (++waiting === parties) release();
    await all;
  };
}

function gatedStore(store: ClusterStore, gate: () => Promise<void>): StorePort & { commits: Array<boolean> } {
  let first = true;
  const commits: boolean[] = [];
  return {
    commits,
    snapshot: async () => {
      const s = await store.snapshot();
      if (first) {
        first = false;
        await gate();
      }
      return s;
    },
    markReportsPushed: (revision) => store.markReportsPushed(revision),
    commitSchedule: async (guard, writes, meta) => {
      const r = await store.commitSchedule(guard, writes, meta);
      commits.push(r.ok);
      return r;
    },
  };
}

describe('brain + etcd guard: concurrent decisions on different commits', () => {
  let etcd: EtcdServer;
  let store: ClusterStore;
  const sessions: NodeSession[] = [];

  before(async () => {
    etcd = await startEtcd();
    store = ClusterStore.connect({ endpoints: [etcd.endpoint] });
    for (const name of ['n1', 'n2']) {
      sessions.push(
        await store.registerNode(
          { name, address: '127.0.0.1', labels: {}, capacity: { memory: 1 * GiB, disk: 10 * GiB, cpu: 2000 } },
          { ttlSeconds: 30, agentId: name },
        ),
      );
    }
  });
  after(async () => {
    for (const s of sessions) await s.revoke().catch(() => undefined);
    await store.close();
    await etcd.stop();
  });

  test('the second commit is refused, re-decided, and no node is over capacity', async () => {
    const log = pino({ level: 'silent' });
    const gate = barrier(2);
    // Two commits that each replace the job set with one job: each job alone fits
    // (2 × 600M on 2 × 1G), both together cannot.
    const optIn = { path: 'ozy.yaml', content: 'deletionGuard:\n  allowDeleteAll: true\n' };
    const a = gatedStore(store, gate);
    const b = gatedStore(store, gate);
    const brainA = new Brain(pinnedGit('a'.repeat(40), [optIn, { path: 'jobs/x.yaml', content: jobYaml('x', { instances: 2, memory: '600M' }) }]), a, { node: 'n1', reportBranch: 'main', reportsDir: 'rejections', staleCommitMs: 60_000, log });
    const brainB = new Brain(pinnedGit('b'.repeat(40), [optIn, { path: 'jobs/y.yaml', content: jobYaml('y', { instances: 2, memory: '600M' }) }]), b, { node: 'n2', reportBranch: 'main', reportsDir: 'rejections', staleCommitMs: 60_000, log });

    const [ra, rb] = await Promise.all([brainA.tick(), brainB.tick()]);
    assert.equal(ra.kind, 'committed');
    assert.equal(rb.kind, 'committed');
    // Exactly one of the first attempts won; the loser committed on its second attempt.
    assert.deepEqual([a.commits[0], b.commits[0]].sort(), [false, true]);
    const attempts = [ra, rb].map((r) => (r.kind === 'committed' ? r.attempts : 0)).sort();
    assert.deepEqual(attempts, [1, 2]);

    const snap = await store.snapshot();
    const used = new Map<string, number>();
    for (const j of snap.jobs.values()) {
      const mem = j.spec.containers.reduce((s, c) => s + c.memory, 0);
      for (const p of j.instances) if (p.node) used.set(p.node, (used.get(p.node) ?? 0) + mem);
    }
    for (const [node, mem] of used) assert.ok(mem <= 1 * GiB, `${node} holds ${mem} bytes of 1 GiB`);
    // The loser re-decided on the winner's state: it replaced the job instead of adding to it.
    assert.equal(snap.jobs.size, 1);
  });
});
