// The deciding agent's view of the schedule comes from a watch, not from a
// read per round: idle rounds read nothing from etcd, a one-file change
// costs the commit alone; and no decision compares our clock with another
// agent's (a skewed clock reverts nothing). Real etcd; git is pinned in memory.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { Brain } from '../../../src/agent/brain';
import { CachedSchedule } from '../../../src/agent/cached-schedule';
import type { GitPort, SourceFile } from '../../../src/agent/ports';
import { ClusterStore, type NodeSession, type ScheduleCache } from '../../../src/store';
import { CountingDriver } from '../../../bench/lib/counting-driver';
import { startEtcd, type EtcdServer } from '../../harness/etcd';
import { jobYaml } from '../../harness/cluster';
import { waitFor } from '../../harness/wait';

const GiB = 1024 ** 3;
const log = pino({ level: 'silent' });

/** A git source whose head and files the test moves by hand. */
class HandGit implements GitPort {
  head = 'a'.repeat(40);
  files: SourceFile[] = [];
  /** Commits this "repository" contains, in order (for isAncestor). */
  history: string[] = [this.head];
  fetches = 0;
  async sync(): Promise<{ head: string }> {
    this.fetches++;
    return { head: this.head };
  }
  async readFiles(): Promise<{ files: SourceFile[]; changed: string[] }> {
    return { files: this.files, changed: this.files.map((f) => f.path) };
  }
  reportSyncs = 0;
  async syncReports(): Promise<string | null> {
    this.reportSyncs++;
    return null;
  }
  async isAncestor(a: string, b: string): Promise<boolean> {
    const ia = this.history.indexOf(a);
    const ib = this.history.indexOf(b);
    return ia >= 0 && ib >= 0 && ia <= ib;
  }
  commit(head: string, files: Record<string, string>): void {
    this.head = head;
    this.history.push(head);
    this.files = Object.entries(files).map(([path, content]) => ({ path, content }));
  }
}

describe('watch-fed brain', () => {
  let etcd: EtcdServer;
  let store: ClusterStore;
  let driver: CountingDriver;
  const sessions: NodeSession[] = [];
  const caches: ScheduleCache[] = [];

  before(async () => {
    etcd = await startEtcd();
    driver = CountingDriver.connect([etcd.endpoint]);
    store = ClusterStore.connect({ endpoints: [etcd.endpoint], driver });
    for (const name of ['n1', 'n2']) {
      sessions.push(
        await store.registerNode(
          { name, address: '127.0.0.1', labels: {}, capacity: { memory: 4 * GiB, disk: 10 * GiB, cpu: 4000 } },
          { ttlSeconds: 30, agentId: name },
        ),
      );
    }
  });
  after(async () => {
    for (const c of caches) await c.close();
    for (const s of sessions) await s.revoke().catch(() => undefined);
    await store.close();
    await etcd.stop();
  });

  async function brainOn(git: GitPort, opts: { node: string; now?: () => Date; staleCommitMs?: number } ): Promise<{ brain: Brain; cache: ScheduleCache }> {
    const cache = await store.openScheduleCache({ onChange: () => undefined });
    caches.push(cache);
    const brain = new Brain(git, new CachedSchedule(store, cache), {
      node: opts.node,
      reportBranch: 'main',
      reportsDir: 'rejections',
      staleCommitMs: opts.staleCommitMs ?? 10_000,
      log,
      ...(opts.now ? { now: opts.now } : {}),
    });
    return { brain, cache };
  }

  test('idle rounds read nothing from etcd; a one-file change costs only its commit', async () => {
    const git = new HandGit();
    git.commit('b'.repeat(40), Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`jobs/j${i}.yaml`, jobYaml(`j${i}`, { instances: 2, memory: '50M' })])));
    const { brain, cache } = await brainOn(git, { node: 'n1' });
    assert.equal((await brain.tick()).kind, 'committed');
    // The reports mark the round wrote is in the watch-fed view (as it is a poll later).
    await waitFor('the reports mark in the view', () => cache.snapshot().reportsRevision === cache.scheduleRevision);

    driver.reset();
    for (let i = 0; i < 5; i++) assert.equal((await brain.tick({ fetch: i % 2 === 0 })).kind, 'idle');
    const idle = driver.reset();
    assert.equal(idle.txns + idle.ranges + idle.requests, 0, `idle rounds asked etcd nothing: ${JSON.stringify(idle)}`);
    assert.equal(idle.bytesRead, 0);

    git.commit('c'.repeat(40), { ...Object.fromEntries(git.files.map((f) => [f.path, String(f.content)])), 'jobs/j3.yaml': jobYaml('j3', { instances: 3, memory: '50M' }) });
    const r = await brain.tick();
    assert.equal(r.kind, 'committed');
    const change = driver.reset();
    // The scheduling commit, then the reports mark's compare-and-set (which reads that one small key).
    assert.equal(change.txns, 2, `the commit and the reports mark (${JSON.stringify(change)})`);
    assert.ok(change.ranges <= 1 && change.bytesRead < 100, `the decision read nothing: ${JSON.stringify(change)}`);
    assert.equal((await store.snapshot()).jobs.get('j3')?.instances.length, 3);
    assert.equal(git.reportSyncs, 1, 'the reports did not change: no git round trip for them after the first');

    // A change that does change the reports syncs them.
    const files = Object.fromEntries(git.files.map((f) => [f.path, String(f.content)]));
    git.commit('9'.repeat(40), { ...files, 'jobs/huge.yaml': jobYaml('huge', { instances: 1, memory: '100G' }) });
    assert.equal((await brain.tick()).kind, 'committed');
    assert.equal(git.reportSyncs, 2);
  });

  test('another agent commits meanwhile: the guard refuses, the cache catches up, the round re-decides', async () => {
    const git = new HandGit();
    git.history = ['c'.repeat(40), '9'.repeat(40)];
    git.commit('d'.repeat(40), { 'ozy.yaml': 'deletionGuard:\n  allowDeleteAll: true\n', 'jobs/k.yaml': jobYaml('k', { instances: 1, memory: '50M' }) });
    const cache = await store.openScheduleCache({ onChange: () => undefined });
    caches.push(cache);
    const cached = new CachedSchedule(store, cache);
    // Someone else commits after our decision read the cache and before our commit.
    let interfere = true;
    const port = {
      snapshot: async () => {
        const s = await cached.snapshot();
        if (interfere) {
          interfere = false;
          const other = await store.commitSchedule(s.scheduleRevision, { putJobs: [], deleteJobs: [], putRejections: [], deleteRejections: [], readJobs: s.jobs }, { commit: 'c'.repeat(40), by: 'elsewhere' });
          assert.ok(other.ok);
        }
        return s;
      },
      commitSchedule: cached.commitSchedule.bind(cached),
      markReportsPushed: cached.markReportsPushed.bind(cached),
    };
    const brain = new Brain(git, port, { node: 'n2', reportBranch: 'main', reportsDir: 'rejections', staleCommitMs: 10_000, log });
    const r = await brain.tick();
    assert.equal(r.kind, 'committed');
    assert.equal(r.kind === 'committed' && r.attempts, 2, 'refused once, then decided again on the caught-up view');
    await waitFor('k accepted', async () => (await store.snapshot()).jobs.has('k'));
  });

  test('a clock minutes ahead reverts nothing: a newer commit by another agent makes us stand down', async () => {
    // Agent A (true clock) judged commit F; agent B has not fetched F yet and its clock is 10 minutes ahead.
    // Comparing B's clock with A's timestamp would make F look old enough to be "force-pushed away".
    const a = new HandGit();
    a.history = ['d'.repeat(40)];
    a.commit('f'.repeat(40), { 'ozy.yaml': 'deletionGuard:\n  allowDeleteAll: true\n', 'jobs/fresh.yaml': jobYaml('fresh', { instances: 1, memory: '50M' }) });
    const { brain: brainA } = await brainOn(a, { node: 'n1' });
    assert.equal((await brainA.tick()).kind, 'committed');

    const b = new HandGit();
    b.history = ['e'.repeat(40)];
    b.commit('e'.repeat(40), { 'ozy.yaml': 'deletionGuard:\n  allowDeleteAll: true\n', 'jobs/old.yaml': jobYaml('old', { instances: 1, memory: '50M' }) });
    const ahead = () => new Date(Date.now() + 10 * 60_000);
    const { brain: brainB } = await brainOn(b, { node: 'n2', now: ahead, staleCommitMs: 10_000 });
    for (let i = 0; i < 3; i++) assert.equal((await brainB.tick()).kind, 'behind');
    const snap = await store.snapshot();
    assert.equal(snap.schedule?.commit, 'f'.repeat(40), 'the newer commit stays judged');
    assert.ok(snap.jobs.has('fresh') && !snap.jobs.has('old'), 'nothing was reverted');
  });
});
