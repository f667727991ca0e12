// The store against a real etcd with users and roles (auth enabled): the
// `ozy` user, whose role covers only /ozy/ and /skydns/, registers, watches
// and publishes DNS; watches and the lease survive an etcd restart, which
// forgets every auth token; a wrong password, no user, or a prefix outside
// the role fail with a message that says which. The read-only CoreDNS user
// of docs/security.md reads the records and cannot write.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClusterStore, EtcdAccessError, type EtcdAuth } from '../../../src/store';
import { httpRequest } from '../../../src/up/etcd';
import { enableAuth, etcdctl, PASSWORDS, startSecureEtcd, type SecureEtcdServer } from '../../harness/etcd-secure';
import { waitFor } from '../../harness/wait';
import { commitRound, job, nodeInfo } from './fixtures';

let etcd: SecureEtcdServer;
const stores: ClusterStore[] = [];
const ozy: EtcdAuth = { username: 'ozy', password: PASSWORDS.ozy };

function open(auth: EtcdAuth | undefined, prefix = '/ozy'): ClusterStore {
  const s = ClusterStore.connect({ endpoints: [etcd.endpoint], prefix, ...(auth ? { auth } : {}), requestTimeoutMs: 3_000 });
  stores.push(s);
  return s;
}

async function accessError(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof EtcdAccessError, `expected EtcdAccessError, got ${String(err)}`);
    return err.message;
  }
  throw new Error('expected a failure');
}

/** One gauge of etcd's metrics. */
async function gauge(name: string): Promise<number> {
  const res = await httpRequest('GET', `${etcd.metricsUrl}/metrics`);
  const line = res.body.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `no ${name} in etcd's metrics`);
  return Number(line.split(' ')[1]);
}

before(async () => {
  etcd = await startSecureEtcd({});
  enableAuth(etcd);
});
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await etcd?.stop();
});

describe('etcd with users and roles', () => {
  test('the ozy user registers, watches and publishes; after an etcd restart (tokens forgotten) its watches resume without loss and its lease lives on', async () => {
    const store = open(ozy);
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 5, agentId: 'a' });
    const snap = await store.snapshot();
    const jobs: string[] = [];
    const stopJobs = await store.watchJobs(snap.revision + 1, { onChange: (c) => jobs.push(`${c.type} ${c.name}`), onReset: () => undefined });
    const dns = await store.mirrorDnsRecords();
    const key = store.keys.dnsKey('ozy.local', 'web', 'web-0');
    await store.putDnsRecord(session, key, { host: '10.0.0.1', port: 80, ttl: 10 });
    await commitRound(store, { putJobs: [job('web', ['n1'])] }, 'c1');
    await waitFor('the job watch and the DNS mirror', () => jobs.includes('put web') && dns.values.size === 1);

    // Twice: the second restart also ends what the first one left behind.
    for (const name of ['api', 'db']) {
      await etcd.restart();
      // Written by another client, so only the watches can tell this store.
      etcdctl(etcd, undefined, ['put', `/ozy/jobs/${name}`, JSON.stringify(job(name, ['n1']))], 'root');
      etcdctl(etcd, undefined, ['put', `/skydns/local/ozy/${name}/${name}-0`, '{"host":"10.0.0.2","port":80,"ttl":10}'], 'root');
      await waitFor(`the job watch to resume after a restart (${name})`, () => jobs.includes(`put ${name}`), { timeoutMs: 15_000 });
      await waitFor(`the DNS mirror to resume after a restart (${name})`, () => dns.values.has(`local/ozy/${name}/${name}-0`), { timeoutMs: 15_000 });
    }
    // No events lost or repeated, and watch streams do not pile up: the live client's, and
    // at most the one the last restart left (etcd3 cannot close it; the next disconnect does).
    assert.deepEqual(jobs, ['put web', 'put api', 'put db']);
    assert.equal(await gauge('etcd_debugging_mvcc_watcher_total'), 2);
    assert.ok((await gauge('etcd_debugging_mvcc_watch_stream_total')) <= 2);
    let renewed = 0;
    session.on('renewed', () => renewed++);
    await waitFor('keepalives after the restart', () => renewed >= 2);
    assert.equal(session.isLost(), false);
    assert.deepEqual((await store.snapshot()).nodes.map((n) => n.name), ['n1']);

    // CoreDNS's read-only user reads the records and may not write them.
    assert.match(etcdctl(etcd, undefined, ['get', '--prefix', '/skydns/'], 'coredns'), /10\.0\.0\.1/);
    assert.throws(() => etcdctl(etcd, undefined, ['put', '/skydns/x', '{}'], 'coredns'), /permission denied/);
    assert.throws(() => etcdctl(etcd, undefined, ['get', '/ozy/nodes/n1'], 'coredns'), /permission denied/);

    await stopJobs();
    await dns.close();
    await session.revoke();
  });

  test('a wrong password: "authentication failed: wrong OZY_ETCD_USERNAME or OZY_ETCD_PASSWORD"', async () => {
    const store = open({ username: 'ozy', password: 'not-it' });
    const msg = await accessError(() => store.snapshot());
    assert.equal(msg, `etcd at ${etcd.endpoint}: authentication failed: wrong OZY_ETCD_USERNAME or OZY_ETCD_PASSWORD (user "ozy")`);
    assert.ok(!msg.includes('not-it'));
  });

  test('no user at all: says to set OZY_ETCD_USERNAME and OZY_ETCD_PASSWORD', async () => {
    assert.match(await accessError(() => open(undefined).snapshot()), /etcd has authentication enabled: set OZY_ETCD_USERNAME and OZY_ETCD_PASSWORD/);
  });

  test('a prefix outside the role: permission denied for user "ozy", naming the key', async () => {
    const store = open(ozy, '/elsewhere');
    const msg = await accessError(() => store.registerNode(nodeInfo('n9'), { ttlSeconds: 2, agentId: 'z' }));
    assert.match(msg, /^etcd at http:\/\/127\.0\.0\.1:\d+: permission denied for user "ozy" on \/elsewhere\/nodes\/n9/);
  });
});
