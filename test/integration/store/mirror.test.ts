// Prefix mirrors (what `ozy ingress` and `ozy dns` serve from) against a
// real etcd: one notification per transaction, statuses keyed
// "<node>/<instance>", lease expiry removes a node's statuses, and
// compacted history is re-listed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterStore } from '../../../src/store';
import { compact, startEtcd, type EtcdServer } from '../../harness/etcd';
import { startTcpProxy, type TcpProxy } from '../../harness/tcp-proxy';
import { waitFor } from '../../harness/wait';
import { job, noWrites, nodeInfo, status, uniquePrefix } from './fixtures';

let etcd: EtcdServer;
const stores: ClusterStore[] = [];
const proxies: TcpProxy[] = [];

function open(prefix: string, endpoint = etcd.endpoint): ClusterStore {
  const s = ClusterStore.connect({ endpoints: [endpoint], prefix, requestTimeoutMs: 1_000 });
  stores.push(s);
  return s;
}

before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  for (const s of stores) await s.close();
  for (const p of proxies) await p.stop();
  await etcd.stop();
});

describe('store mirrors', () => {
  test('jobs: the listing, then each transaction as one notification', async () => {
    const prefix = uniquePrefix();
    const writer = open(prefix);
    let snap = await writer.snapshot();
    await writer.commitSchedule(snap.scheduleRevision, { ...noWrites, putJobs: [job('a', ['n1'])] }, { commit: 'c1', by: 't' });
    const notified: number[] = [];
    const jobs = await open(prefix).mirrorJobs({ onChange: (r) => notified.push(r) });
    assert.deepEqual([...jobs.values.keys()], ['a']);
    snap = await writer.snapshot();
    const res = await writer.commitSchedule(snap.scheduleRevision, { ...noWrites, putJobs: [job('b', ['n1']), job('c', ['n1'])], deleteJobs: ['a'] }, { commit: 'c2', by: 't' });
    assert.ok(res.ok);
    await waitFor('the transaction', () => jobs.revision >= res.revision);
    assert.deepEqual([...jobs.values.keys()].sort(), ['b', 'c']);
    assert.equal(notified.filter((r) => r === res.revision).length, 1, 'one notification for the whole transaction');
  });

  test('statuses are keyed node/instance and vanish with their node\'s lease', async () => {
    const prefix = uniquePrefix();
    const writer = open(prefix);
    const session = await writer.registerNode(nodeInfo('n1'), { ttlSeconds: 10, agentId: 'x' });
    await writer.putInstanceStatus(session, { ...status('n1', 'web-0'), endpoints: { '80': { host: '127.0.0.1', port: 31000 } } });
    const statuses = await open(prefix).mirrorInstanceStatus();
    assert.deepEqual(statuses.values.get('n1/web-0')?.endpoints, { '80': { host: '127.0.0.1', port: 31000 } });
    await session.revoke();
    await waitFor('the statuses gone with the lease', () => statuses.values.size === 0);
  });

  test('history compacted while cut off: the mirror re-lists once the link is back', async () => {
    const prefix = uniquePrefix();
    const proxy = await startTcpProxy('127.0.0.1', etcd.clientPort);
    proxies.push(proxy);
    const writer = open(prefix);
    const session = await writer.registerNode(nodeInfo('n1'), { ttlSeconds: 30, agentId: 'x' });
    await writer.putInstanceStatus(session, status('n1', 'a-0'));
    const statuses = await open(prefix, proxy.endpoint).mirrorInstanceStatus();
    assert.deepEqual([...statuses.values.keys()], ['n1/a-0']);

    proxy.cut();
    await writer.putInstanceStatus(session, status('n1', 'b-0'));
    await writer.deleteInstanceStatus('n1', 'a-0');
    const r = await writer.currentRevision();
    await compact(etcd.endpoint, r);
    proxy.restore();

    await waitFor('the re-listed mirror', () => statuses.revision >= r && !statuses.values.has('n1/a-0'), { timeoutMs: 20_000 });
    assert.deepEqual([...statuses.values.keys()], ['n1/b-0']);
    await writer.putInstanceStatus(session, status('n1', 'c-0'));
    await waitFor('live changes after the re-list', () => statuses.values.has('n1/c-0'));
    await session.revoke();
  });
});
