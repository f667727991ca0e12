// The store against a real etcd serving https:// with --client-cert-auth:
// with etcd's CA and a client certificate, leases are renewed and watches
// deliver; a wrong CA, a missing client certificate or one from another CA
// fail at once with a message that names the flag to fix.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ClusterStore, EtcdAccessError, type EtcdTls } from '../../../src/store';
import type { EtcdServer } from '../../harness/etcd';
import { makeCerts, startSecureEtcd, type TestCerts } from '../../harness/etcd-secure';
import { waitFor } from '../../harness/wait';
import { commitRound, job, nodeInfo, uniquePrefix } from './fixtures';

let certs: TestCerts;
let etcd: EtcdServer;
const stores: ClusterStore[] = [];

function open(tls: EtcdTls, prefix = uniquePrefix()): ClusterStore {
  const s = ClusterStore.connect({ endpoints: [etcd.endpoint], prefix, tls, requestTimeoutMs: 3_000 });
  stores.push(s);
  return s;
}

const read = (f: string) => fs.readFileSync(f);
const good = (): EtcdTls => ({ ca: read(certs.ca), cert: read(certs.clientCert), key: read(certs.clientKey) });

/** The EtcdAccessError `fn` rejects with. */
async function accessError(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof EtcdAccessError, `expected EtcdAccessError, got ${String(err)}`);
    return err.message;
  }
  throw new Error('expected a failure');
}

before(async () => {
  certs = makeCerts();
  etcd = await startSecureEtcd({ certs });
});
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await etcd?.stop();
  certs?.cleanup();
});

describe('etcd over TLS with client certificates', () => {
  test('with the CA and a client certificate: a node lease is renewed past its TTL and a job watch sees a commit', async () => {
    assert.match(etcd.endpoint, /^https:\/\//);
    const store = open(good());
    const session = await store.registerNode(nodeInfo('n1'), { ttlSeconds: 2, agentId: 'a' });
    let renewals = 0;
    session.on('renewed', () => renewals++);
    const seen: string[] = [];
    const snap = await store.snapshot();
    const stop = await store.watchJobs(snap.revision + 1, { onChange: (c) => seen.push(`${c.type} ${c.name}`), onReset: () => undefined });
    await commitRound(store, { putJobs: [job('web', ['n1'])] }, 'c1');
    await waitFor('the watch to see the job', () => seen.includes('put web'));
    // 4 renewals at TTL/3 span more than the 2 s TTL.
    await waitFor('4 keepalives over TLS', () => renewals >= 4);
    assert.equal(session.isLost(), false);
    assert.deepEqual((await store.snapshot()).nodes.map((n) => n.name), ['n1']);
    await stop();
    await session.revoke();
  });

  test('a server certificate from another CA: "not signed by --etcd-ca"', async () => {
    const store = open({ ca: read(certs.otherCa), cert: read(certs.clientCert), key: read(certs.clientKey) });
    const msg = await accessError(() => store.snapshot());
    assert.ok(msg.startsWith(`etcd at ${etcd.endpoint}: TLS handshake failed: the server's certificate is not signed by --etcd-ca (`), msg);
    // The agent's first call: registration fails the same way instead of hanging.
    assert.match(await accessError(() => store.registerNode(nodeInfo('n2'), { ttlSeconds: 2, agentId: 'b' })), /not signed by --etcd-ca/);
  });

  test('no client certificate: "the server requires a client certificate (--etcd-cert/--etcd-key)"', async () => {
    const store = open({ ca: read(certs.ca) });
    const msg = await accessError(() => store.snapshot());
    assert.ok(msg.startsWith(`etcd at ${etcd.endpoint}: TLS handshake failed: the server requires a client certificate (--etcd-cert/--etcd-key)`), msg);
  });

  test('a client certificate etcd does not trust: "refused the client certificate --etcd-cert"', async () => {
    const store = open({ ca: read(certs.ca), cert: read(certs.otherClientCert), key: read(certs.otherClientKey) });
    assert.match(await accessError(() => store.snapshot()), /TLS handshake failed: the server refused the client certificate --etcd-cert/);
  });

  test('no --etcd-ca: the system CAs do not know a private CA, and the message says to give one', async () => {
    const store = open({ cert: read(certs.clientCert), key: read(certs.clientKey) });
    assert.match(await accessError(() => store.snapshot()), /not signed by a CA this machine trusts; give etcd's CA with --etcd-ca/);
  });
});
