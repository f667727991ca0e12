// Invariant 1 at every revision of rounds that take several transactions
// (DESIGN.md "Scale"), against a real etcd and the real ClusterStore:
// seeded random commits resize, scale, delete and create hundreds of jobs on
// full-ish nodes, so decide() moves many of them and each round needs
// several guarded transactions. The agent committing each round dies after
// a random number of transactions (its etcd driver refuses everything from
// then on); a second brain judging the same commit finishes the round. A
// watch replays every revision's events in order and checks every node's
// usage (allocatedByNode) against its capacity.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { Brain, type RoundResult } from '../../../src/agent/brain';
import type { GitPort, SourceFile, StorePort } from '../../../src/agent/ports';
import { ClusterStore, type CommitResult, type NodeSession } from '../../../src/store';
import type { EtcdDriver } from '../../../src/store/driver';
import { createEtcdDriver } from '../../../src/store/etcd-driver';
import { watchCapacity } from '../../harness/capacity-watch';
import { jobYaml } from '../../harness/cluster';
import { startEtcd, type EtcdServer } from '../../harness/etcd';
import { prng } from '../../harness/random';
import { waitFor } from '../../harness/wait';

const GiB = 1024 ** 3;
const NODES = 20;
const JOBS = 500;
const ROUNDS = 6;
const log = pino({ level: 'silent' });
const optIn: SourceFile = { path: 'ozy.yaml', content: 'deletionGuard:\n  allowDeleteAll: true\n' };

interface Wanted {
  instances: number;
  memoryMi: number;
  cpuM: number;
}

/** A git source pinned to one commit of the given jobs. */
function pinnedGit(head: string, jobs: ReadonlyMap<string, Wanted>): GitPort {
  const files: SourceFile[] = [optIn];
  for (const [name, w] of jobs) {
    files.push({ path: `jobs/${name}.yaml`, content: jobYaml(name, { instances: w.instances, memory: `${w.memoryMi}Mi`, cpu: `${w.cpuM}m`, image: 'localhost/ozy-absent:1' }) });
  }
  return {
    sync: async () => ({ head }),
    readFiles: async () => ({ files, changed: files.map((f) => f.path) }),
    syncReports: async () => null,
    isAncestor: async () => true,
  };
}

/**
 * An etcd driver that lets `survive` schedule transactions through, then
 * dies: the agent is killed between two transactions of its round, and
 * nothing it would send afterwards reaches etcd.
 */
function dyingDriver(inner: EtcdDriver, scheduleKey: string, survive: number): EtcdDriver {
  let commits = 0;
  let dead = false;
  const live = <T>(call: () => Promise<T>): Promise<T> => (dead ? Promise.reject(new Error('agent killed')) : call());
  return {
    txn: (compares, success, failure) =>
      live(async () => {
        if (!success.some((op) => op.op === 'put' && op.key === scheduleKey)) return inner.txn(compares, success, failure);
        if (commits >= survive) {
          dead = true;
          throw new Error(`agent killed after ${commits} schedule transactions`);
        }
        const res = await inner.txn(compares, success, failure);
        if (res.succeeded) commits++;
        return res;
      }),
    range: (key, opts) => live(() => inner.range(key, opts)),
    put: (key, value, lease) => live(() => inner.put(key, value, lease)),
    delete: (key, opts) => live(() => inner.delete(key, opts)),
    currentRevision: () => live(() => inner.currentRevision()),
    leaseGrant: (ttl) => live(() => inner.leaseGrant(ttl)),
    leaseKeepAliveOnce: (id, timeoutMs) => live(() => inner.leaseKeepAliveOnce(id, timeoutMs)),
    leaseTimeToLive: (id) => live(() => inner.leaseTimeToLive(id)),
    leaseRevoke: (id) => live(() => inner.leaseRevoke(id)),
    watch: (key, opts, callbacks) => inner.watch(key, opts, callbacks),
    close: () => inner.close(),
  };
}

/** The store as the brain sees it, recording each commit's full result. */
function recording(store: ClusterStore, results: CommitResult[]): StorePort {
  return {
    snapshot: () => store.snapshot(),
    markReportsPushed: (revision) => store.markReportsPushed(revision),
    commitSchedule: async (guard, writes, meta) => {
      const r = await store.commitSchedule(guard, writes, meta);
      results.push(r);
      return r;
    },
  };
}

function randomJob(rand: () => number): Wanted {
  return {
    instances: 1 + Math.floor(rand() * 3),
    memoryMi: [64, 128, 256, 512][Math.floor(rand() * 4)]!,
    cpuM: [50, 100, 200][Math.floor(rand() * 3)]!,
  };
}

/**
 * One commit: resize ~40% of the jobs (decide() moves those that no longer
 * fit in place), scale, delete ~10% and create about as many: the nodes stay
 * full-ish without saturating.
 */
function mutate(rand: () => number, jobs: Map<string, Wanted>, round: number): Map<string, Wanted> {
  const next = new Map<string, Wanted>();
  for (const [name, w] of jobs) {
    const roll = rand();
    if (roll < 0.4) next.set(name, { ...w, memoryMi: [64, 128, 256, 512][Math.floor(rand() * 4)]! });
    else if (roll < 0.5) continue;
    else if (roll < 0.6) next.set(name, { ...w, instances: 1 + Math.floor(rand() * 3) });
    else next.set(name, w);
  }
  for (let i = 0; i < JOBS / 10; i++) next.set(`r${round}-new-${i}`, randomJob(rand));
  return next;
}

const commitOf = (round: number): string => round.toString(16).padStart(40, 'c');

describe('safe rounds: a real etcd, agents killed between transactions', () => {
  let etcd: EtcdServer;
  let store: ClusterStore;
  const sessions: NodeSession[] = [];

  before(async () => {
    // 65 ops per transaction: a round that did not chunk would be refused.
    etcd = await startEtcd({ extraArgs: ['--max-txn-ops', '65'] });
    store = ClusterStore.connect({ endpoints: [etcd.endpoint] });
    for (let i = 0; i < NODES; i++) {
      const name = `n${i}`;
      const capacity = { memory: 14 * GiB, disk: 50 * GiB, cpu: 8000 };
      sessions.push(await store.registerNode({ name, address: '127.0.0.1', labels: {}, capacity }, { ttlSeconds: 60, agentId: name }));
    }
  });
  after(async () => {
    for (const s of sessions) await s.revoke().catch(() => undefined);
    await store?.close();
    await etcd?.stop();
  });

  test('every revision within capacity; the next brain completes each round cut short', async (t) => {
    const rand = prng(20261130);
    const start = await store.snapshot();
    assert.equal(start.nodes.length, NODES);
    const watch = await watchCapacity(store, start.nodes, start.revision + 1, start.jobs);
    const results: CommitResult[] = [];
    const brainOpts = { reportBranch: 'main', reportsDir: 'rejections', staleCommitMs: 60_000, log };

    // Round 0 fills the nodes (~85% of memory): 500 jobs, several transactions.
    let wanted = new Map<string, Wanted>();
    for (let i = 0; i < JOBS; i++) wanted.set(`job-${String(i).padStart(3, '0')}`, randomJob(rand));
    const first = await new Brain(pinnedGit(commitOf(0), wanted), recording(store, results), { ...brainOpts, node: 'n0' }).tick();
    assert.equal(first.kind, 'committed');

    const kills: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      wanted = mutate(rand, wanted, round);
      const head = commitOf(round);
      const survive = 1 + Math.floor(rand() * 3);
      const dying = ClusterStore.connect({
        endpoints: [etcd.endpoint],
        driver: dyingDriver(createEtcdDriver({ endpoints: [etcd.endpoint], requestTimeoutMs: 5_000 }), store.keys.schedule, survive),
      });
      const cut = await new Brain(pinnedGit(head, wanted), recording(dying, results), { ...brainOpts, node: 'n1' }).tick().then(
        (r: RoundResult) => r.kind,
        (err: Error) => err.message,
      );
      kills.push(`round ${round}: ${cut}`);
      await dying.close();

      // Another agent judges the same commit and finishes the round; a further tick has nothing to do.
      const finisher = new Brain(pinnedGit(head, wanted), recording(store, results), { ...brainOpts, node: 'n2' });
      const done = await finisher.tick();
      assert.ok(done.kind === 'committed' || done.kind === 'unchanged', `round ${round}: ${done.kind}`);
      const again = await finisher.tick();
      // Rejection reports may be reworded (their per-node reasons describe the state), but no job changes.
      if (again.kind === 'committed') assert.deepEqual([again.decision.putJobs.length, again.decision.deleteJobs.length], [0, 0], `round ${round}: the round is complete`);

      const snap = await store.snapshot();
      for (const [name, w] of wanted) {
        const job = snap.jobs.get(name);
        if (snap.rejections.has(name)) continue;
        assert.equal(job?.spec.numInstances, w.instances, `round ${round}: ${name} count`);
        assert.equal(job?.spec.containers[0]?.memory, w.memoryMi * 1024 * 1024, `round ${round}: ${name} at its new spec`);
      }
      for (const name of snap.jobs.keys()) assert.ok(wanted.has(name), `round ${round}: ${name} deleted`);
    }

    // A last write, of a job without instances, marks the end of the history to check.
    const end = await store.snapshot();
    const some = [...end.jobs.values()][0]!;
    const marker = { ...some, spec: { ...some.spec, name: 'zz-end-marker', numInstances: 0 }, file: 'jobs/zz-end-marker.yaml', instances: [] };
    const mark = await store.commitSchedule(
      end.scheduleRevision,
      { putJobs: [marker], deleteJobs: [], putRejections: [], deleteRejections: [], readJobs: end.jobs },
      { commit: commitOf(99), by: 'test' },
    );
    assert.ok(mark.ok);
    await waitFor('the watch to reach the last revision', () => watch.lastRevision() >= mark.revision);
    watch.flush();
    await watch.stop();

    const multi = results.filter((r) => r.ok && r.transactions > 1);
    const leaves = results.reduce((n, r) => n + (r.ok ? r.leaves : 0), 0);
    t.diagnostic(`${watch.revisions()} revisions checked; ${multi.length} multi-transaction commits; ${leaves} leave writes; ${kills.join(', ')}`);
    assert.deepEqual(watch.violations, [], `${watch.violations.length} over-capacity node-revisions`);
    assert.ok(kills.some((k) => k.includes('killed')), 'some rounds were cut short');
    assert.ok(multi.length >= ROUNDS, 'rounds took several transactions');
  });
});
