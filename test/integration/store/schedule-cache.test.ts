// The poller's watch-fed schedule against a real etcd: every view it shows
// is a whole revision (a transaction's jobs arrive with its guard bump),
// per-node chatter does not reach it, and compacted history is re-listed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterStore, type ScheduleCache, type ScheduleCacheChange } from '../../../src/store';
import { compact, startEtcd, type EtcdServer } from '../../harness/etcd';
import { startTcpProxy, type TcpProxy } from '../../harness/tcp-proxy';
import { waitFor } from '../../harness/wait';
import { commitRound, job, nodeInfo, rejection, status, uniquePrefix } from './fixtures';

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

describe('ScheduleCache', () => {
  test('each notification shows a whole transaction: its jobs, rejections and guard revision together', async () => {
    const store = open(uniquePrefix());
    const seen: Array<{ what: ScheduleCacheChange[]; revision: number; schedule: number; jobs: string[] }> = [];
    let cache: ScheduleCache | undefined;
    cache = await store.openScheduleCache({
      onChange: (what, revision) => {
        const s = cache!.snapshot();
        seen.push({ what: [...what].sort(), revision, schedule: s.scheduleRevision, jobs: [...s.jobs.keys()].sort() });
      },
    });
    const r1 = await commitRound(store, { putJobs: [job('a', ['n1']), job('b', ['n1', 'n2'])], putRejections: [rejection('c')] }, 'c1');
    await waitFor('the commit in the view', () => cache!.revision >= r1);
    assert.deepEqual(seen, [{ what: ['jobs', 'rejections', 'schedule'], revision: r1, schedule: r1, jobs: ['a', 'b'] }]);
    const view = cache.snapshot();
    assert.equal(view.schedule?.commit, 'c1');
    assert.ok(view.rejections.has('c'));
    assert.deepEqual(view.jobs.get('b')?.instances.map((p) => p.node), ['n1', 'n2']);
  });

  test('nodes join and leave the view; status and agent records never reach it', async () => {
    const store = open(uniquePrefix());
    const changes: ScheduleCacheChange[][] = [];
    const cache = await store.openScheduleCache({ onChange: (what) => changes.push([...what]) });
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 30, agentId: 'x' });
    await waitFor('the node in the view', () => cache.snapshot().nodes.some((n) => n.name === 'n1'));
    // Registering also remembers the node's zone (a decision input, not lease-bound): wait for that too.
    const zone = nodeInfo('n1').zone;
    if (zone !== undefined) await waitFor('the zone in the view', () => cache.snapshot().zones?.includes(zone));
    const before = { revision: cache.revision, changes: changes.length };
    await store.putInstanceStatus(session, status('n1', 'a-0'));
    await store.putAgentStatus(session, { head: 'x' });
    await store.deleteInstanceStatus('n1', 'a-0');
    // A later schedule write shows the per-node writes were skipped, not merely slow.
    const r = await commitRound(store, { putJobs: [job('z', ['n1'])] }, 'c2');
    await waitFor('the commit in the view', () => cache.revision >= r);
    assert.deepEqual(changes.slice(before.changes), [['jobs', 'schedule']]);
    await session.revoke();
    await waitFor('the node gone from the view', () => !cache.snapshot().nodes.some((n) => n.name === 'n1'));
  });

  test('snapshots are copies: a decision holding one does not see later changes', async () => {
    const store = open(uniquePrefix());
    const cache = await store.openScheduleCache({ onChange: () => undefined });
    const held = cache.snapshot();
    const r = await commitRound(store, { putJobs: [job('late', ['n1'])] }, 'c3');
    await waitFor('the commit in the view', () => cache.revision >= r);
    assert.equal(held.jobs.has('late'), false);
    assert.equal(cache.snapshot().jobs.has('late'), true);
  });

  test('history compacted while cut off: the cache re-lists once the link is back', async () => {
    const prefix = uniquePrefix();
    const proxy = await startTcpProxy('127.0.0.1', etcd.clientPort);
    proxies.push(proxy);
    const store = open(prefix, proxy.endpoint);
    const writer = open(prefix);
    const cache = await store.openScheduleCache({ onChange: () => undefined });
    const r1 = await commitRound(writer, { putJobs: [job('a', ['n1'])] }, 'c1');
    await waitFor('the first commit in the view', () => cache.revision >= r1);

    proxy.cut();
    await commitRound(writer, { putJobs: [job('b', ['n1'])] }, 'c2');
    const r = await commitRound(writer, { deleteJobs: ['a'] }, 'c3');
    await compact(etcd.endpoint, r);
    proxy.restore();

    await waitFor('the re-listed view', () => cache.revision >= r && !cache.snapshot().jobs.has('a'), { timeoutMs: 20_000 });
    assert.deepEqual([...cache.snapshot().jobs.keys()], ['b']);
    assert.equal(cache.scheduleRevision, r);
    const r2 = await commitRound(writer, { putJobs: [job('c', ['n1'])] }, 'c4');
    await waitFor('live changes after the re-list', () => cache.revision >= r2);
    assert.deepEqual([...cache.snapshot().jobs.keys()].sort(), ['b', 'c']);
  });
});
