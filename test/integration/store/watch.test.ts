// Watches against a real etcd: ordered change feeds, node expiry as a
// failover trigger, surviving an etcd restart, and re-listing when the
// history a watch needs was compacted away.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterStore, type JobChange, type NodeChange, type StopWatch } from '../../../src/store';
import { compact, startEtcd, type EtcdServer } from '../../harness/etcd';
import { startTcpProxy, type TcpProxy } from '../../harness/tcp-proxy';
import { waitFor } from '../../harness/wait';
import { commitRound, job, nodeInfo, uniquePrefix } from './fixtures';

let etcd: EtcdServer;
const stores: ClusterStore[] = [];
const stops: StopWatch[] = [];
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
  await Promise.all(stops.map((s) => s()));
  await Promise.all(stores.map((s) => s.close()));
  await Promise.all(proxies.map((p) => p.stop()));
  await etcd?.stop();
});

describe('watchJobs', () => {
  test('delivers puts and deletes in order, with their revisions, from the given revision', async () => {
    const store = open(uniquePrefix());
    const r1 = await commitRound(store, { putJobs: [job('web', ['a'])] }, 'c1');
    const changes: JobChange[] = [];
    stops.push(await store.watchJobs(r1 + 1, { onChange: (c) => changes.push(c), onReset: () => assert.fail('no reset expected') }));
    const r2 = await commitRound(store, { putJobs: [job('web', ['b']), job('db', ['a'])] }, 'c2');
    const r3 = await commitRound(store, { deleteJobs: ['web'] }, 'c3');
    await waitFor('3 changes', () => changes.length >= 3);
    assert.deepEqual(
      changes.map((c) => [c.type, c.name, c.value?.instances[0]?.node, c.revision]),
      [
        ['put', 'web', 'b', r2],
        ['put', 'db', 'a', r2],
        ['delete', 'web', undefined, r3],
      ],
    );
  });

  test('keeps delivering after etcd restarts, without repeating changes', async () => {
    const store = open(uniquePrefix());
    const changes: JobChange[] = [];
    const errors: Error[] = [];
    const from = (await store.snapshot()).revision + 1;
    stops.push(await store.watchJobs(from, { onChange: (c) => changes.push(c), onReset: () => assert.fail('no reset expected'), onError: (e) => errors.push(e) }));
    await commitRound(store, { putJobs: [job('a', ['n'])] }, 'c1');
    await waitFor('the first change', () => changes.length === 1);

    await etcd.restart();
    await waitFor('the store to reach etcd again', () => store.snapshot().then(() => true));
    await commitRound(store, { putJobs: [job('b', ['n'])] }, 'c2');
    await waitFor('the change made after the restart', () => changes.length >= 2);
    assert.deepEqual(changes.map((c) => c.name), ['a', 'b']);
    assert.ok(errors.length > 0, 'the disconnect was reported');
  });

  test('a watch from a compacted revision re-lists through onReset and resumes after it', async () => {
    const store = open(uniquePrefix());
    const old = (await store.snapshot()).revision;
    await commitRound(store, { putJobs: [job('a', ['n'])] }, 'c1');
    const r2 = await commitRound(store, { putJobs: [job('b', ['n'])] }, 'c2');
    await compact(etcd.endpoint, r2);

    const view = new Map<string, string>();
    const changes: JobChange[] = [];
    let resets = 0;
    stops.push(
      await store.watchJobs(old + 1, {
        onChange: (c) => {
          changes.push(c);
          if (c.type === 'put') view.set(c.name, c.value!.commit);
          else view.delete(c.name);
        },
        onReset: async () => {
          const snap = await store.snapshot();
          view.clear();
          for (const [name, j] of snap.jobs) view.set(name, j.commit);
          // Counted once the listing is in: the test reads the view as soon as it sees the reset.
          resets++;
          return snap.revision;
        },
      }),
    );
    await waitFor('the reset', () => resets === 1);
    assert.deepEqual([...view.keys()].sort(), ['a', 'b']);
    await commitRound(store, { putJobs: [job('c', ['n'], 'c3')], deleteJobs: ['a'] }, 'c3');
    await waitFor('changes after the reset', () => view.has('c') && !view.has('a'));
    assert.deepEqual([...view.keys()].sort(), ['b', 'c']);
    assert.deepEqual(changes.map((c) => `${c.type} ${c.name}`).sort(), ['delete a', 'put c'], 'nothing before the listing was replayed');
  });

  test('history compacted while disconnected: the watch re-lists once the link is back', async () => {
    const prefix = uniquePrefix();
    const proxy = await startTcpProxy('127.0.0.1', etcd.clientPort);
    proxies.push(proxy);
    const watcher = open(prefix, proxy.endpoint);
    const writer = open(prefix);
    const seen = new Set<string>();
    let resets = 0;
    stops.push(
      await watcher.watchJobs((await writer.snapshot()).revision + 1, {
        onChange: (c) => (c.type === 'put' ? seen.add(c.name) : seen.delete(c.name)),
        onReset: async () => {
          resets++;
          const snap = await watcher.snapshot();
          seen.clear();
          for (const name of snap.jobs.keys()) seen.add(name);
          return snap.revision;
        },
      }),
    );
    await commitRound(writer, { putJobs: [job('a', ['n'])] }, 'c1');
    await waitFor('the first change', () => seen.has('a'));

    proxy.cut();
    await commitRound(writer, { putJobs: [job('b', ['n'])] }, 'c2');
    const r = await commitRound(writer, { deleteJobs: ['a'] }, 'c3');
    await compact(etcd.endpoint, r);
    proxy.restore();

    await waitFor('the watch to re-list after reconnecting', () => resets === 1 && seen.has('b') && !seen.has('a'));
    await commitRound(writer, { putJobs: [job('c', ['n'])] }, 'c4');
    await waitFor('live changes again', () => seen.has('c'));
  });
});

describe('watchNodes', () => {
  test('reports a node whose lease expired as deleted (the failover trigger)', async () => {
    const store = open(uniquePrefix());
    const changes: NodeChange[] = [];
    stops.push(await store.watchNodes((await store.snapshot()).revision + 1, { onChange: (c) => changes.push(c), onReset: () => undefined }));
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 2, agentId: 'a' });
    await waitFor('the join', () => changes.length === 1);
    assert.deepEqual([changes[0]!.type, changes[0]!.name, changes[0]!.value?.leaseId], ['put', 'n1', session.leaseId]);
    await session.release();
    await waitFor('the expiry', () => changes.length === 2, { timeoutMs: 10_000 });
    assert.deepEqual([changes[1]!.type, changes[1]!.name], ['delete', 'n1']);
  });
});
