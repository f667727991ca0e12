// The store under faults: a partitioned client (TCP proxy cut), etcd down
// for longer than the lease TTL, and a 3-member cluster losing its leader.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterStore, EtcdUnavailableError, isRetryable, type NodeSession, type StopWatch, type StoreError } from '../../../src/store';
import { rawGet, startEtcd, startEtcdCluster, type EtcdCluster, type EtcdServer } from '../../harness/etcd';
import { startTcpProxy, type TcpProxy } from '../../harness/tcp-proxy';
import { waitFor } from '../../harness/wait';
import { job, noWrites, nodeInfo, uniquePrefix } from './fixtures';

const stores: ClusterStore[] = [];
const stops: StopWatch[] = [];

function open(endpoints: string[], prefix = uniquePrefix()): ClusterStore {
  const s = ClusterStore.connect({ endpoints, prefix, requestTimeoutMs: 1_000 });
  stores.push(s);
  return s;
}

function track(session: NodeSession): { lost: () => number; renewed: () => number; failed: () => StoreError[] } {
  let lost = 0;
  let renewed = 0;
  const failed: StoreError[] = [];
  session.on('lost', () => lost++);
  session.on('renewed', () => renewed++);
  session.on('renewFailed', (e) => failed.push(e));
  return { lost: () => lost, renewed: () => renewed, failed: () => failed };
}

after(async () => {
  await Promise.all(stops.map((s) => s()));
  await Promise.all(stores.map((s) => s.close()));
});

describe('a client cut off from etcd', () => {
  let etcd: EtcdServer;
  let proxy: TcpProxy;
  before(async () => {
    etcd = await startEtcd();
    proxy = await startTcpProxy('127.0.0.1', etcd.clientPort);
  });
  after(async () => {
    await proxy?.stop();
    await etcd?.stop();
  });

  for (const mode of ['refuse', 'blackhole'] as const) {
    test(`(${mode}) gets retryable errors, then recovers when the link is restored`, async () => {
      const store = open([proxy.endpoint]);
      await store.snapshot();
      proxy.cut(mode);
      const err = await store.snapshot().then(() => assert.fail('read through a cut link'), (e: unknown) => e);
      assert.ok(err instanceof EtcdUnavailableError, String(err));
      assert.equal(err.code, 'ETCD_UNAVAILABLE');
      assert.ok(isRetryable(err));
      await assert.rejects(store.commitSchedule(0, noWrites, { commit: 'c', by: 'a' }), EtcdUnavailableError);
      proxy.restore();
      await waitFor('the store to recover', () => store.snapshot().then(() => true));
      assert.ok((await store.commitSchedule((await store.snapshot()).scheduleRevision, noWrites, { commit: 'c', by: 'a' })).ok);
    });
  }

  test('a partition shorter than the TTL: keepalives fail, then resume; the lease is never lost', async () => {
    const store = open([proxy.endpoint]);
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 6, agentId: 'a' });
    const t = track(session);
    proxy.cut();
    await session.renewNow().catch(() => undefined);
    await waitFor('a failed keepalive', () => t.failed().length > 0);
    assert.ok(t.failed().every((e) => e.retryable));
    const before = session.lastRenewedAt();
    proxy.restore();
    await waitFor('a renewal after the partition', () => session.lastRenewedAt() > before);
    assert.equal(t.lost(), 0);
    assert.equal(session.isLost(), false);
    assert.ok((await store.snapshot()).nodes.some((n) => n.name === 'n1'));
    await session.revoke();
  });

  test('a partition longer than the TTL: the agent can tell it may have lost the lease, and learns it did once back', async () => {
    const store = open([proxy.endpoint]);
    const prefix = store.keys.prefix;
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 2, agentId: 'a' });
    const t = track(session);
    proxy.cut('blackhole');
    // Unreachable etcd is not a lost lease...
    await waitFor('the TTL to pass without a renewal', () => session.mayHaveExpired());
    assert.equal(t.lost(), 0);
    // ...but etcd, still running, expired it.
    await waitFor('etcd to drop the node key', async () => (await rawGet(etcd.endpoint, `${prefix}/nodes/n1`)) === undefined);
    proxy.restore();
    await waitFor("the 'lost' event once etcd answers", () => t.lost() === 1);
    assert.equal(session.isLost(), true);
  });
});

describe('etcd down for longer than the lease TTL', () => {
  let etcd: EtcdServer;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });

  test('the session is not declared lost; etcd resets the lease on restart and renewals resume', async () => {
    const store = open([etcd.endpoint]);
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 2, agentId: 'a' });
    const t = track(session);
    await etcd.kill();
    await waitFor('the TTL to pass while etcd is down', () => session.mayHaveExpired());
    assert.equal(t.lost(), 0);
    const renewalsBefore = t.renewed();
    await etcd.restart();
    await waitFor('a renewal after the restart', () => t.renewed() > renewalsBefore);
    assert.equal(t.lost(), 0);
    assert.equal(session.mayHaveExpired(), false);
    assert.deepEqual((await store.snapshot()).nodes.map((n) => n.leaseId), [session.leaseId]);
    await session.revoke();
  });
});

describe('a 3-member cluster', () => {
  let cluster: EtcdCluster;
  before(async () => {
    cluster = await startEtcdCluster(3);
  });
  after(async () => {
    await cluster?.stop();
  });

  test('the store keeps working after the leader is killed', async () => {
    const store = open(cluster.endpoints);
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 3, agentId: 'a' });
    const t = track(session);
    const seen: string[] = [];
    stops.push(await store.watchJobs((await store.snapshot()).revision + 1, { onChange: (c) => seen.push(c.name), onReset: () => undefined }));
    assert.ok((await store.commitSchedule(0, { ...noWrites, putJobs: [job('before', ['n1'])] }, { commit: 'c1', by: 'a' })).ok);
    await waitFor('the first change', () => seen.includes('before'));

    const leader = await cluster.leaderIndex();
    await cluster.kill(leader);
    const renewedAtKill = session.lastRenewedAt();

    // Commits may fail while a new leader is elected (retryably); then they succeed.
    await waitFor('a commit after the leader died', async () => {
      const snap = await store.snapshot();
      return (await store.commitSchedule(snap.scheduleRevision, { ...noWrites, putJobs: [job('after', ['n1'])] }, { commit: 'c2', by: 'a' })).ok;
    }, { timeoutMs: 20_000 });
    await waitFor('the watch to see the change', () => seen.includes('after'), { timeoutMs: 20_000 });
    await waitFor('a lease renewal after the leader died', () => session.lastRenewedAt() > renewedAtKill);
    assert.notEqual(await cluster.leaderIndex(), leader);
    assert.equal(t.lost(), 0);
    const snap = await store.snapshot();
    assert.deepEqual([...snap.jobs.keys()].sort(), ['after', 'before']);
    assert.deepEqual(snap.nodes.map((n) => n.name), ['n1']);

    await cluster.restart(leader);
    await session.revoke();
  });
});
