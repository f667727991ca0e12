// The schedule against a real etcd: consistent snapshots, the /schedule
// guard (first commit wins), chunking of large rounds, large jobs, corrupt
// values. This etcd allows at most 65 ops per transaction (64 writes + the
// guard bump), so a commit that did not chunk would be refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClusterStore,
  CorruptValueError,
  ETCD_MAX_REQUEST_BYTES,
  InvalidStoreArgumentError,
  ValueTooLargeError,
} from '../../../src/store';
import { rawKeys, rawPut, startEtcd, type EtcdServer } from '../../harness/etcd';
import { job, noWrites, nodeInfo, rejection, uniquePrefix } from './fixtures';

let etcd: EtcdServer;
const stores: ClusterStore[] = [];

function open(prefix: string, onCorrupt?: (e: CorruptValueError) => void): ClusterStore {
  const s = ClusterStore.connect({ endpoints: [etcd.endpoint], prefix, ...(onCorrupt ? { onCorrupt } : {}) });
  stores.push(s);
  return s;
}

before(async () => {
  etcd = await startEtcd({ extraArgs: ['--max-txn-ops', '65'] });
});
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await etcd?.stop();
});

describe('snapshot', () => {
  test('returns nodes, jobs, rejections and the guard revision', async () => {
    const store = open(uniquePrefix());
    const empty = await store.snapshot();
    assert.equal(empty.scheduleRevision, 0);
    assert.equal(empty.schedule, undefined);
    assert.deepEqual([empty.nodes, empty.jobs.size, empty.rejections.size], [[], 0, 0]);

    const b = await store.registerNode(nodeInfo('b'), { ttlSeconds: 10, agentId: 'agent-b' });
    const a = await store.registerNode(nodeInfo('a'), { ttlSeconds: 10, agentId: 'agent-a' });
    const res = await store.commitSchedule(
      0,
      { ...noWrites, putJobs: [job('web', ['a', 'b', null])], putRejections: [rejection('db'), rejection('jobs/bad file.yaml')] },
      { commit: 'c1', by: 'a' },
    );
    assert.ok(res.ok);
    const snap = await store.snapshot();
    assert.deepEqual(snap.nodes.map((n) => n.name), ['a', 'b']);
    assert.deepEqual(snap.jobs.get('web'), job('web', ['a', 'b', null]));
    assert.deepEqual([...snap.rejections.keys()].sort(), ['db', 'jobs/bad file.yaml']);
    assert.equal(snap.scheduleRevision, res.revision);
    assert.ok(snap.revision >= snap.scheduleRevision);
    assert.deepEqual([snap.schedule?.commit, snap.schedule?.by], ['c1', 'a']);
    assert.deepEqual(snap.corrupt, []);
    await Promise.all([a.revoke(), b.revoke()]);
  });

  test('reads every prefix at one revision, even while commits land', async () => {
    const store = open(uniquePrefix());
    // Every commit writes generation g into a job, a rejection and the mark together.
    const commits = (async () => {
      for (let g = 1; g <= 25; g++) {
        const snap = await store.snapshot();
        const res = await store.commitSchedule(
          snap.scheduleRevision,
          { ...noWrites, putJobs: [job('web', ['x'], `g${g}`)], putRejections: [rejection('db', `g${g}`)] },
          { commit: `g${g}`, by: 'writer' },
        );
        assert.ok(res.ok);
      }
    })();
    const seen = new Set<string>();
    const reads = (async () => {
      for (let i = 0; i < 60; i++) {
        const snap = await store.snapshot();
        const g = snap.schedule?.commit;
        if (g === undefined) continue;
        seen.add(g);
        assert.equal(snap.jobs.get('web')?.commit, g, 'job and mark from the same revision');
        assert.equal(snap.rejections.get('db')?.commit, g, 'rejection and mark from the same revision');
      }
    })();
    await Promise.all([commits, reads]);
    assert.ok(seen.size > 0);
  });

  test('skips and reports corrupt values instead of failing', async () => {
    const prefix = uniquePrefix();
    const reported: CorruptValueError[] = [];
    const store = open(prefix, (e) => reported.push(e));
    assert.ok((await store.commitSchedule(0, { ...noWrites, putJobs: [job('good', ['a'])] }, { commit: 'c', by: 'a' })).ok);
    await rawPut(etcd.endpoint, `${prefix}/jobs/garbage`, '{not json');
    await rawPut(etcd.endpoint, `${prefix}/jobs/mismatch`, JSON.stringify(job('other', ['a'])));
    await rawPut(etcd.endpoint, `${prefix}/nodes/n9`, JSON.stringify({ name: 'n9' }));
    await rawPut(etcd.endpoint, `${prefix}/rejections/r`, '42');
    const snap = await store.snapshot();
    assert.deepEqual([...snap.jobs.keys()], ['good']);
    assert.deepEqual(snap.nodes, []);
    assert.equal(snap.rejections.size, 0);
    const keys = snap.corrupt.map((e) => e.key).sort();
    assert.deepEqual(keys, [`${prefix}/jobs/garbage`, `${prefix}/jobs/mismatch`, `${prefix}/nodes/n9`, `${prefix}/rejections/r`]);
    assert.deepEqual(reported.map((e) => e.key).sort(), keys);
    assert.ok(snap.corrupt.every((e) => e.code === 'CORRUPT_VALUE' && e.reason.length > 0));
  });
});

describe('commitSchedule', () => {
  test('two agents committing on the same snapshot: exactly one wins', async () => {
    const prefix = uniquePrefix();
    const [s1, s2] = [open(prefix), open(prefix)];
    const guard = (await s1.snapshot()).scheduleRevision;
    const results = await Promise.all([
      s1.commitSchedule(guard, { ...noWrites, putJobs: [job('web', ['n1'])] }, { commit: 'c1', by: 'agent-1' }),
      s2.commitSchedule(guard, { ...noWrites, putJobs: [job('web', ['n2']), job('db', ['n2'])] }, { commit: 'c1', by: 'agent-2' }),
    ]);
    assert.deepEqual(results.map((r) => r.ok).sort(), [false, true]);
    const winner = results[0]!.ok ? 'agent-1' : 'agent-2';
    const snap = await s1.snapshot();
    assert.equal(snap.schedule?.by, winner);
    assert.deepEqual([...snap.jobs.keys()].sort(), winner === 'agent-1' ? ['web'] : ['db', 'web']);
  });

  test('a commit guarded by a stale revision writes nothing', async () => {
    const store = open(uniquePrefix());
    const stale = (await store.snapshot()).scheduleRevision;
    assert.ok((await store.commitSchedule(stale, { ...noWrites, putJobs: [job('a', ['n'])] }, { commit: 'c1', by: 'x' })).ok);
    const res = await store.commitSchedule(stale, { ...noWrites, putJobs: [job('b', ['n'])], deleteJobs: ['a'] }, { commit: 'c2', by: 'y' });
    assert.deepEqual(res, { ok: false, appliedTransactions: 0 });
    const snap = await store.snapshot();
    assert.deepEqual([...snap.jobs.keys()], ['a']);
    assert.equal(snap.schedule?.commit, 'c1');
  });

  test('a 300-job round is split into guarded transactions that all apply', async () => {
    const prefix = uniquePrefix();
    const store = open(prefix);
    const names = Array.from({ length: 300 }, (_, i) => `job-${String(i).padStart(3, '0')}`);
    const first = await store.commitSchedule(
      0,
      { ...noWrites, putJobs: names.map((n) => job(n, ['n1', 'n2'])), putRejections: [rejection('r1')] },
      { commit: 'c1', by: 'a' },
    );
    assert.ok(first.ok);
    assert.equal(first.transactions, 5); // ⌈301 / 64⌉, each ≤ 65 ops (the server allows no more)
    let snap = await store.snapshot();
    assert.equal(snap.jobs.size, 300);
    assert.equal(snap.scheduleRevision, first.revision);

    // Replace half: 150 deletes + 150 puts + a rejection delete.
    const second = await store.commitSchedule(
      snap.scheduleRevision,
      {
        putJobs: names.slice(150).map((n) => job(n, ['n3'], 'c2')),
        deleteJobs: names.slice(0, 150),
        putRejections: [],
        deleteRejections: ['r1'],
        readJobs: snap.jobs,
      },
      { commit: 'c2', by: 'a' },
    );
    assert.ok(second.ok);
    assert.equal(second.transactions, 5);
    snap = await store.snapshot();
    assert.equal(snap.jobs.size, 150);
    assert.ok([...snap.jobs.values()].every((j) => j.commit === 'c2' && j.instances[0]!.node === 'n3'));
    assert.equal(snap.rejections.size, 0);
  });

  test('a job with 10,000 instances fits in one put', async () => {
    const store = open(uniquePrefix());
    const nodes = Array.from({ length: 10_000 }, (_, i) => `node-${String(i % 500).padStart(3, '0')}`);
    const big = job('big', nodes);
    const bytes = Buffer.byteLength(JSON.stringify(big));
    assert.ok(bytes < ETCD_MAX_REQUEST_BYTES, `${bytes} bytes`);
    const res = await store.commitSchedule(0, { ...noWrites, putJobs: [big] }, { commit: 'c1', by: 'a' });
    assert.ok(res.ok);
    assert.equal(res.transactions, 1);
    const stored = (await store.snapshot()).jobs.get('big');
    assert.equal(stored?.instances.length, 10_000);
    assert.equal(stored?.instances[9_999]?.node, nodes[9_999]);
  });

  test('large values are spread over transactions by size, and one too large is refused before sending', async () => {
    const prefix = uniquePrefix();
    const store = open(prefix);
    // Three ~1 MB jobs cannot share one 1.5 MiB request.
    const heavy = ['h1', 'h2', 'h3'].map((n) => job(n, Array.from({ length: 15_000 }, () => 'node-with-a-long-name-x')));
    const res = await store.commitSchedule(0, { ...noWrites, putJobs: heavy }, { commit: 'c1', by: 'a' });
    assert.ok(res.ok);
    assert.ok(res.transactions >= 2);
    assert.equal((await store.snapshot()).jobs.size, 3);

    const huge = job('huge', Array.from({ length: 40_000 }, () => 'node-with-a-long-name-x'));
    const guard = (await store.snapshot()).scheduleRevision;
    await assert.rejects(store.commitSchedule(guard, { ...noWrites, putJobs: [huge] }, { commit: 'c2', by: 'a' }), ValueTooLargeError);
    assert.equal((await store.snapshot()).scheduleRevision, guard, 'nothing was written');
  });

  test('refuses writing one key twice in a round', async () => {
    const store = open(uniquePrefix());
    await assert.rejects(
      store.commitSchedule(0, { ...noWrites, putJobs: [job('web', ['a'])], deleteJobs: ['web'] }, { commit: 'c', by: 'a' }),
      InvalidStoreArgumentError,
    );
    await assert.rejects(
      store.commitSchedule(0, { ...noWrites, putJobs: [job('web/../../x', ['a'])] }, { commit: 'c', by: 'a' }),
      InvalidStoreArgumentError,
    );
    assert.equal((await store.snapshot()).scheduleRevision, 0);
  });

  test('a round with no writes still records the judged commit', async () => {
    const prefix = uniquePrefix();
    const store = open(prefix);
    const res = await store.commitSchedule(0, noWrites, { commit: 'c9', by: 'a' });
    assert.ok(res.ok);
    assert.equal(res.transactions, 1);
    const snap = await store.snapshot();
    assert.equal(snap.schedule?.commit, 'c9');
    assert.equal(snap.scheduleRevision, res.revision);
    assert.deepEqual(await rawKeys(etcd.endpoint, `${prefix}/`), [`${prefix}/schedule`]);
  });
});
