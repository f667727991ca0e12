// Node registration and leases against a real etcd: keepalive, expiry taking
// every per-node key with it, name conflicts, resuming after an agent restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterStore, InvalidStoreArgumentError, LeaseLostError, NodeAlreadyRegisteredError, type NodeSession } from '../../../src/store';
import { etcdGateway, rawKeys, startEtcd, type EtcdServer } from '../../harness/etcd';
import { waitFor } from '../../harness/wait';
import { nodeInfo, status, uniquePrefix } from './fixtures';

let etcd: EtcdServer;
const stores: ClusterStore[] = [];

function open(prefix: string, dnsPrefix = `${prefix}-dns`): ClusterStore {
  const s = ClusterStore.connect({ endpoints: [etcd.endpoint], prefix, dnsPrefix });
  stores.push(s);
  return s;
}

async function leaseIds(): Promise<string[]> {
  const res = await etcdGateway<{ leases?: { ID: string }[] }>(etcd.endpoint, '/v3/lease/leases', {});
  return (res.leases ?? []).map((l) => l.ID);
}

function countRenewals(session: NodeSession): () => number {
  let n = 0;
  session.on('renewed', () => n++);
  return () => n;
}

before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await etcd?.stop();
});

describe('registerNode', () => {
  test('keeps the node registered past its TTL by renewing the lease', async () => {
    const prefix = uniquePrefix();
    const store = open(prefix);
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 2, agentId: 'agent-a' });
    assert.equal(session.resumed, false);
    assert.equal(session.ttlSeconds, 2);
    const renewals = countRenewals(session);
    const firstRenewal = session.lastRenewedAt();
    // 4 renewals at TTL/3 span more than the 2 s TTL.
    await waitFor('4 keepalives', () => renewals() >= 4);
    assert.ok(session.lastRenewedAt() > firstRenewal);
    const snap = await store.snapshot();
    assert.deepEqual(snap.nodes.map((n) => [n.name, n.leaseId, n.agentId]), [['n1', session.leaseId, 'agent-a']]);
    assert.equal(session.isLost(), false);
    await session.revoke();
  });

  test('when the lease expires, the node, its statuses, agent status and DNS records go with it', async () => {
    const prefix = uniquePrefix();
    const store = open(prefix);
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 2, agentId: 'a' });
    let lost = false;
    session.on('lost', () => (lost = true));
    await store.putInstanceStatus(session, status('n1', 'web-0'));
    const dns = store.keys.dnsKey('ozy.local', 'web', 'web-0');
    await store.putDnsRecord(session, dns, { host: '10.0.0.1', port: 8080, ttl: 30 });
    await store.putAgentStatus(session, { head: 'abc' });
    assert.equal((await store.listInstanceStatus('n1')).length, 1);
    assert.deepEqual([...(await store.listDnsRecords()).keys()], [dns]);
    assert.deepEqual([...(await store.listAgentStatus()).keys()], ['n1']);

    await session.release(); // like a crash: no more keepalives, no revoke
    await waitFor('the node key to expire', async () => (await store.snapshot()).nodes.length === 0, { timeoutMs: 10_000 });
    assert.deepEqual(await store.listInstanceStatus(), []);
    assert.equal((await store.listDnsRecords()).size, 0);
    assert.equal((await store.listAgentStatus()).size, 0);
    // Only the known zones stay: a zone that loses its nodes keeps its place (spread: zones).
    assert.deepEqual((await rawKeys(etcd.endpoint, `${prefix}/`)).filter((k) => k !== store.keys.knownZones), []);
    assert.equal(lost, false, 'a released session reports nothing');
  });

  test('a second agent cannot take a node name held by a live lease', async () => {
    const prefix = uniquePrefix();
    const first = await open(prefix).registerNode(nodeInfo('n1'), { ttlSeconds: 5, agentId: 'first' });
    const leasesBefore = await leaseIds();
    const err = await open(prefix)
      .registerNode(nodeInfo('n1'), { ttlSeconds: 5, agentId: 'second' })
      .then(() => assert.fail('registered twice'), (e: unknown) => e);
    assert.ok(err instanceof NodeAlreadyRegisteredError);
    assert.equal(err.code, 'NODE_TAKEN');
    assert.equal(err.retryable, false);
    assert.equal(err.holder.leaseId, first.leaseId);
    assert.equal(err.holder.agentId, 'first');
    assert.deepEqual((await leaseIds()).sort(), leasesBefore.sort(), 'the loser revoked the lease it was granted');
    await first.revoke();
  });

  test('revoke frees the name at once', async () => {
    const prefix = uniquePrefix();
    const store = open(prefix);
    const first = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 30, agentId: 'first' });
    await store.putInstanceStatus(first, status('n1', 'web-0'));
    await first.revoke();
    // Only the known zones stay: a zone that loses its nodes keeps its place (spread: zones).
    assert.deepEqual((await rawKeys(etcd.endpoint, `${prefix}/`)).filter((k) => k !== store.keys.knownZones), []);
    const second = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 30, agentId: 'second' });
    assert.notEqual(second.leaseId, first.leaseId);
    await second.revoke();
  });

  test('an agent restarted within its lease resumes the same lease and keeps its keys', async () => {
    const prefix = uniquePrefix();
    const before = open(prefix);
    const old = await before.registerNode(nodeInfo('n1'), { ttlSeconds: 3, agentId: 'old' });
    await before.putInstanceStatus(old, status('n1', 'web-0'));
    const dns = before.keys.dnsKey('ozy.local', 'web', 'web-0');
    await before.putDnsRecord(old, dns, { host: '10.0.0.1', port: 80, ttl: 30 });
    await old.release();
    await before.close();

    const store = open(prefix);
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 3, agentId: 'new', resumeLeaseId: old.leaseId });
    assert.equal(session.resumed, true);
    assert.equal(session.leaseId, old.leaseId);
    const renewals = countRenewals(session);
    // Past the old process' TTL, the keys are still there: the new process keeps the lease alive.
    await waitFor('renewals past the TTL', () => renewals() >= 5, { timeoutMs: 10_000 });
    const snap = await store.snapshot();
    assert.deepEqual(snap.nodes.map((n) => [n.agentId, n.leaseId]), [['new', old.leaseId]]);
    assert.deepEqual((await store.listInstanceStatus('n1')).map((s) => s.instance), ['web-0']);
    assert.deepEqual([...(await store.listDnsRecords()).keys()], [dns]);
    await session.revoke();
  });

  test('after the lease expired, a restarted agent registers anew and its old keys are gone', async () => {
    const prefix = uniquePrefix();
    const store = open(prefix);
    const old = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 2, agentId: 'old' });
    await store.putInstanceStatus(old, status('n1', 'web-0'));
    await old.release();
    await waitFor('the old lease to expire', async () => (await store.snapshot()).nodes.length === 0, { timeoutMs: 10_000 });

    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 2, agentId: 'new', resumeLeaseId: old.leaseId });
    assert.equal(session.resumed, false);
    assert.notEqual(session.leaseId, old.leaseId);
    assert.deepEqual(await store.listInstanceStatus(), []);
    await session.revoke();
    // A damaged lease id (e.g. a corrupt state file) is not an error: register anew.
    const fresh = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 2, agentId: 'new', resumeLeaseId: 'not-a-lease' });
    assert.equal(fresh.resumed, false);
    await fresh.revoke();
  });

  test("'lost' fires when etcd no longer has the lease, and lease-bound writes then fail", async () => {
    const prefix = uniquePrefix();
    const store = open(prefix);
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 2, agentId: 'a' });
    const lost: LeaseLostError[] = [];
    session.on('lost', (e) => lost.push(e));
    // Someone (an operator, etcd itself) revokes the lease behind the agent's back.
    await etcdGateway(etcd.endpoint, '/v3/lease/revoke', { ID: session.leaseId });
    await waitFor("the 'lost' event", () => lost.length > 0);
    assert.equal(lost.length, 1);
    assert.equal(lost[0]!.code, 'LEASE_LOST');
    assert.equal(session.isLost(), true);
    await assert.rejects(store.putInstanceStatus(session, status('n1', 'web-0')), LeaseLostError);
    await assert.rejects(session.renewNow(), LeaseLostError);
  });

  test('a write naming a vanished lease marks the session lost at once', async () => {
    const prefix = uniquePrefix();
    const store = open(prefix);
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 30, agentId: 'a' });
    let lost = 0;
    session.on('lost', () => lost++);
    await etcdGateway(etcd.endpoint, '/v3/lease/revoke', { ID: session.leaseId });
    await assert.rejects(store.putInstanceStatus(session, status('n1', 'web-0')), (e: unknown) => e instanceof LeaseLostError && e.leaseId === session.leaseId);
    assert.equal(lost, 1);
    assert.equal(session.isLost(), true);
  });

  test('refuses a TTL below etcd minimum and writes for another node', async () => {
    const store = open(uniquePrefix());
    await assert.rejects(store.registerNode(nodeInfo('n1'), { ttlSeconds: 1, agentId: 'a' }), InvalidStoreArgumentError);
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 5, agentId: 'a' });
    await assert.rejects(store.putInstanceStatus(session, status('n2', 'web-0')), InvalidStoreArgumentError);
    await assert.rejects(store.putDnsRecord(session, '/elsewhere/web/web-0', { host: 'h', port: 1, ttl: 1 }), InvalidStoreArgumentError);
    await session.revoke();
  });
});
