// Known zones against a real etcd: a node's zone is remembered when it
// registers, stays after its lease is gone, is in every snapshot and in the
// watch-fed schedule cache (it is part of a decision's input).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterStore } from '../../../src/store';
import { startEtcd, type EtcdServer } from '../../harness/etcd';
import { waitFor } from '../../harness/wait';
import { nodeInfo, uniquePrefix } from './fixtures';

let etcd: EtcdServer;
const stores: ClusterStore[] = [];

before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  for (const s of stores) await s.close();
  await etcd.stop();
});

describe('known zones', () => {
  test('registering remembers the zone, sorted, once; it outlives the node', async () => {
    const store = ClusterStore.connect({ endpoints: [etcd.endpoint], prefix: uniquePrefix(), requestTimeoutMs: 2_000 });
    stores.push(store);
    const cache = await store.openScheduleCache({ onChange: () => undefined });
    const c = await store.registerNode({ ...nodeInfo('n1'), zone: 'c' }, { ttlSeconds: 30, agentId: 'x' });
    await Promise.all([
      store.registerNode({ ...nodeInfo('n2'), zone: 'a' }, { ttlSeconds: 30, agentId: 'y' }),
      store.registerNode({ ...nodeInfo('n3'), zone: 'a' }, { ttlSeconds: 30, agentId: 'z' }),
    ]);
    assert.deepEqual((await store.snapshot()).zones, ['a', 'c']);
    await waitFor('the cache sees the zones', () => cache.snapshot().zones?.join(',') === 'a,c');
    await c.revoke();
    const snap = await store.snapshot();
    assert.equal(snap.nodes.some((n) => n.name === 'n1'), false, 'n1 is gone');
    assert.deepEqual(snap.zones, ['a', 'c'], 'its zone stays');
  });
});
