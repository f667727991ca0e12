// Per-node CPU records (autoscaling) against a real etcd: written on the
// node's lease and gone with it, deleted when empty, read in one range and
// mirrored from a watch; a malformed record is skipped, never fatal.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeCpu } from '../../../src/model/autoscale';
import { ClusterStore, type CorruptValueError } from '../../../src/store';
import { rawLease, rawPut, startEtcd, type EtcdServer } from '../../harness/etcd';
import { waitFor } from '../../harness/wait';
import { nodeInfo, uniquePrefix } from './fixtures';

let etcd: EtcdServer;
const stores: ClusterStore[] = [];

function open(prefix: string, onCorrupt?: (err: CorruptValueError) => void): ClusterStore {
  const s = ClusterStore.connect({ endpoints: [etcd.endpoint], prefix, requestTimeoutMs: 1_000, ...(onCorrupt ? { onCorrupt } : {}) });
  stores.push(s);
  return s;
}

function record(used: number): NodeCpu {
  return { sampleMs: 2000, instances: { 'web-0': { job: 'web', spec: 'h1', healthy: true, used, limit: 500 } } };
}

before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  for (const s of stores) await s.close();
  await etcd.stop();
});

describe('node CPU records', () => {
  test('hang on the node\'s lease: mirrored, read, and gone when the lease is revoked', async () => {
    const prefix = uniquePrefix();
    const writer = open(prefix);
    const session = await writer.registerNode(nodeInfo('n1'), { ttlSeconds: 10, agentId: 'x' });
    const reader = open(prefix);
    const mirror = await reader.openCpuMirror();
    assert.equal(mirror.records().size, 0);

    await writer.publishNodeCpu(session, record(120));
    assert.equal(await rawLease(etcd.endpoint, writer.keys.cpu('n1')), session.leaseId);
    await waitFor('the record in the mirror', () => mirror.records().get('n1')?.instances['web-0']?.used === 120);
    assert.deepEqual(await reader.readNodeCpu(), new Map([['n1', record(120)]]));

    await writer.publishNodeCpu(session, record(300));
    await waitFor('the rewrite in the mirror', () => mirror.records().get('n1')?.instances['web-0']?.used === 300);

    await session.revoke();
    await waitFor('the record gone with the lease', () => mirror.records().size === 0);
    assert.equal((await reader.readNodeCpu()).size, 0);
    await mirror.close();
  });

  test('null or no instances deletes the key', async () => {
    const prefix = uniquePrefix();
    const store = open(prefix);
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 10, agentId: 'x' });
    await store.publishNodeCpu(session, record(1));
    await store.publishNodeCpu(session, { sampleMs: 2000, instances: {} });
    assert.equal(await rawLease(etcd.endpoint, store.keys.cpu('n1')), undefined);
    await store.publishNodeCpu(session, record(1));
    await store.publishNodeCpu(session, null);
    assert.equal(await rawLease(etcd.endpoint, store.keys.cpu('n1')), undefined);
    await assert.rejects(store.publishNodeCpu(session, { sampleMs: 0, instances: record(1).instances }), /sampleMs/);
  });

  test('a malformed record is skipped and reported; the others are kept', async () => {
    const prefix = uniquePrefix();
    const corrupt: string[] = [];
    const reader = open(prefix, (err) => corrupt.push(err.key));
    const writer = open(prefix);
    const session = await writer.registerNode(nodeInfo('n1'), { ttlSeconds: 10, agentId: 'x' });
    await writer.publishNodeCpu(session, record(5));
    await rawPut(etcd.endpoint, writer.keys.cpu('bad'), '{"sampleMs":2000,"instances":{"x-0":{"job":"x"}}}');
    const mirror = await reader.openCpuMirror();
    assert.deepEqual([...mirror.records().keys()], ['n1']);
    assert.deepEqual([...(await reader.readNodeCpu()).keys()], ['n1']);
    const n = corrupt.length;
    await rawPut(etcd.endpoint, writer.keys.cpu('worse'), 'not json');
    await waitFor('the watched corrupt value reported', () => corrupt.length > n);
    assert.deepEqual([...mirror.records().keys()], ['n1']);
    assert.ok(corrupt.every((k) => k === writer.keys.cpu('bad') || k === writer.keys.cpu('worse')));
    await mirror.close();
  });
});
