// Invariant 1 at every revision of arbitrary multi-transaction rounds,
// against a real etcd: hundreds of jobs move at random between full-ish
// nodes (two random valid packings, so there are cycles that need "leave"
// writes), committed by the real ClusterStore whose driver dies after a
// random number of its transactions; decide() on the state left behind
// finishes the round. A watch checks every revision (allocatedByNode).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decide } from '../../../src/plan';
import { ClusterStore, type NodeSession } from '../../../src/store';
import type { EtcdDriver } from '../../../src/store/driver';
import { createEtcdDriver } from '../../../src/store/etcd-driver';
import { roundTransactions } from '../../../src/store/round-txns';
import { watchCapacity } from '../../harness/capacity-watch';
import { startEtcd, type EtcdServer } from '../../harness/etcd';
import { pickOne, randomRound, type Shape } from '../../harness/packing';
import { prng } from '../../harness/random';
import { waitFor } from '../../harness/wait';
import { uniquePrefix } from './fixtures';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const NODES = 16;
const JOBS = 300;

/** Lets `survive` transactions through, then fails everything: the agent died between two transactions. */
function dyingDriver(inner: EtcdDriver, survive: number): EtcdDriver {
  let txns = 0;
  const live = <T>(call: () => Promise<T>): Promise<T> => (txns >= survive ? Promise.reject(new Error('agent killed')) : call());
  return {
    txn: (compares, success, failure) =>
      live(() => {
        txns++;
        return inner.txn(compares, success, failure);
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

function shape(rand: () => number): Shape {
  return {
    memory: pickOne(rand, [128, 256, 512, 1024]) * MiB,
    cpu: pickOne(rand, [50, 100, 250]),
    disk: pickOne(rand, [0, 0, 1 * GiB]),
    hostPorts: rand() < 0.03 ? [pickOne(rand, [80, 443])] : [],
  };
}

describe('safe rounds: arbitrary moves through the real store, cut short at random', () => {
  let etcd: EtcdServer;
  const stores: ClusterStore[] = [];
  const sessions: NodeSession[] = [];

  before(async () => {
    etcd = await startEtcd({ extraArgs: ['--max-txn-ops', '65'] });
  });
  after(async () => {
    for (const s of sessions) await s.revoke().catch(() => undefined);
    await Promise.all(stores.map((s) => s.close()));
    await etcd?.stop();
  });

  for (const seed of [1, 2, 3]) {
    test(`seed ${seed}: every revision within capacity, and decide() finishes the round`, async (t) => {
      const rand = prng(seed);
      const prefix = uniquePrefix();
      const store = ClusterStore.connect({ endpoints: [etcd.endpoint], prefix });
      stores.push(store);
      for (let i = 0; i < NODES; i++) {
        const capacity = { memory: 16 * GiB, disk: 100 * GiB, cpu: 8000 };
        sessions.push(await store.registerNode({ name: `n${i}`, address: '127.0.0.1', labels: {}, capacity }, { ttlSeconds: 60, agentId: `a${i}` }));
      }
      const empty = await store.snapshot();
      const nodes = empty.nodes;
      const watch = await watchCapacity(store, nodes, empty.revision + 1);
      const round = randomRound(rand, nodes, JOBS, () => shape(rand));

      // The start state, then the round by an agent that dies after k of its n transactions.
      const first = await store.commitSchedule(
        empty.scheduleRevision,
        { putJobs: [...round.read.values()], deleteJobs: [], putRejections: [], deleteRejections: [], readJobs: empty.jobs },
        { commit: 'c0', by: 'test' },
      );
      assert.ok(first.ok);
      const snap = await store.snapshot();
      const writes = { putJobs: round.putJobs, deleteJobs: round.deleteJobs, putRejections: [], deleteRejections: [], readJobs: snap.jobs };
      const planned = roundTransactions(store.keys, writes, new Date().toISOString());
      assert.ok(planned.chunks.length >= 3, `a round of ${planned.chunks.length} transactions`);
      const k = 1 + Math.floor(rand() * (planned.chunks.length - 1));
      const dying = ClusterStore.connect({
        endpoints: [etcd.endpoint],
        prefix,
        driver: dyingDriver(createEtcdDriver({ endpoints: [etcd.endpoint], requestTimeoutMs: 5_000 }), k),
      });
      await assert.rejects(dying.commitSchedule(snap.scheduleRevision, writes, { commit: 'c1', by: 'dying' }), /agent killed/);
      await dying.close();

      // Another agent decides on what was left and commits: the round completes.
      const cut = await store.snapshot();
      const deciding = (s: typeof cut) =>
        decide({ desired: round.wanted, invalid: [], cluster: s, commit: 'c1', now: new Date(), deletionGuard: { maxDeleteShare: 1, allowDeleteAll: true } });
      const finish = deciding(cut);
      const done = await store.commitSchedule(cut.scheduleRevision, { ...finish, readJobs: cut.jobs }, { commit: 'c1', by: 'finisher' });
      assert.ok(done.ok);
      const end = await store.snapshot();
      for (const d of round.wanted) {
        if (end.rejections.has(d.spec.name)) continue;
        assert.equal(end.jobs.get(d.spec.name)?.specHash, d.specHash, `${d.spec.name} at its new spec`);
      }
      assert.deepEqual([...end.jobs.keys()].filter((n) => !round.wanted.some((d) => d.spec.name === n)), [], 'deleted jobs are gone');
      const again = deciding(end);
      assert.deepEqual([again.putJobs.length, again.deleteJobs.length], [0, 0], 'nothing left to do');

      // A last job without instances marks the end of the history to check.
      const some = [...end.jobs.values()][0]!;
      const marker = { ...some, spec: { ...some.spec, name: 'zz-end-marker', numInstances: 0 }, file: 'jobs/zz-end-marker.yaml', instances: [] };
      const mark = await store.commitSchedule(end.scheduleRevision, { putJobs: [marker], deleteJobs: [], putRejections: [], deleteRejections: [], readJobs: end.jobs }, { commit: 'c2', by: 'test' });
      assert.ok(mark.ok);
      await waitFor('the watch to reach the last revision', () => watch.lastRevision() >= mark.revision);
      watch.flush();
      await watch.stop();

      const pending = [...end.jobs.values()].reduce((n, j) => n + j.instances.filter((p) => p.node === null).length, 0);
      t.diagnostic(
        `${round.putJobs.length} puts, ${round.deleteJobs.length} deletes in ${planned.chunks.length} transactions with ${planned.leaves} leave writes; ` +
          `killed after ${k}; the finishing round: ${finish.putJobs.length} puts in ${done.ok ? done.transactions : 0} transactions; ` +
          `${pending} instances left pending; ${watch.revisions()} revisions checked`,
      );
      assert.deepEqual(watch.violations, [], `${watch.violations.length} over-capacity node-revisions`);
    });
  }
});
