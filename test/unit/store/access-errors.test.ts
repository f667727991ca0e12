// TLS and auth failures of a secured etcd, in words a user can act on. The
// messages below are what etcd3 1.1 / grpc-js 1.14 / etcd 3.4 really say
// (captured against a real etcd; the integration tests check them end to end).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { explainAccessFailure } from '../../../src/store/access-errors';
import type { AccessSummary } from '../../../src/store/etcd-access';

const E = 'https://127.0.0.1:2379';
const withCa: AccessSummary = { endpoints: [E], ca: true, cert: false };
const withCert: AccessSummary = { endpoints: [E], ca: true, cert: true };
const withUser: AccessSummary = { endpoints: [E], ca: true, cert: true, username: 'ozy' };
const req = { what: 'get /ozy/nodes/', keys: ['/ozy/nodes/'] };

const UNVERIFIED = '14 UNAVAILABLE: No connection established. Last error: Error: unable to verify the first certificate. Resolution note: ';
const ALERT =
  '14 UNAVAILABLE: No connection established. Last error: 80FC8EA9247F0000:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 42\n (2026-01-01T00:00:00.000Z). Resolution note: ';

describe('explainAccessFailure', () => {
  test('a server certificate from another CA: names --etcd-ca, or asks for it', () => {
    assert.equal(
      explainAccessFailure(UNVERIFIED, withCa, req),
      `etcd at ${E}: TLS handshake failed: the server's certificate is not signed by --etcd-ca (unable to verify the first certificate)`,
    );
    assert.match(explainAccessFailure(UNVERIFIED, { endpoints: [E], ca: false, cert: false }, req)!, /not signed by a CA this machine trusts; give etcd's CA with --etcd-ca/);
  });

  test('the server refuses the handshake: no client certificate given, or the one given', () => {
    assert.equal(
      explainAccessFailure(ALERT, withCa, req),
      `etcd at ${E}: TLS handshake failed: the server requires a client certificate (--etcd-cert/--etcd-key) (TLS alert "bad certificate")`,
    );
    assert.match(explainAccessFailure(ALERT, withCert, req)!, /the server refused the client certificate --etcd-cert/);
  });

  test('the breaker resting after such failures still says why', () => {
    assert.match(explainAccessFailure(`etcd endpoint is resting after repeated failures; the last: ${UNVERIFIED}`, withCa, req)!, /not signed by --etcd-ca/);
  });

  test('a certificate for another name, a plain server behind https://', () => {
    assert.match(explainAccessFailure("14 UNAVAILABLE: No connection established. Last error: Error: Hostname/IP does not match certificate's altnames: IP: 127.0.0.2 is not in the cert's list: 127.0.0.1. Resolution note: ", withCa, req)!, /not valid for this address/);
    assert.match(explainAccessFailure('14 UNAVAILABLE: No connection established. Last error: 0A00010B:SSL routines:ssl3_get_record:wrong version number', withCa, req)!, /does not speak TLS/);
  });

  test('auth: wrong password, no user, auth not enabled', () => {
    assert.equal(
      explainAccessFailure('3 INVALID_ARGUMENT: etcdserver: authentication failed, invalid user ID or password', withUser, req),
      `etcd at ${E}: authentication failed: wrong OZY_ETCD_USERNAME or OZY_ETCD_PASSWORD (user "ozy")`,
    );
    assert.match(explainAccessFailure('3 INVALID_ARGUMENT: etcdserver: user name is empty', withCa, req)!, /authentication enabled: set OZY_ETCD_USERNAME and OZY_ETCD_PASSWORD/);
    assert.match(explainAccessFailure('9 FAILED_PRECONDITION: etcdserver: authentication is not enabled', withUser, req)!, /OZY_ETCD_USERNAME is set \("ozy"\) but etcd does not have authentication enabled/);
  });

  test('permission denied names the user and the keys, never more than three', () => {
    assert.equal(
      explainAccessFailure('7 PERMISSION_DENIED: etcdserver: permission denied', withUser, { what: 'get /x/nodes/', keys: ['/x/nodes/'] }),
      `etcd at ${E}: permission denied for user "ozy" on /x/nodes/: its role needs readwrite on the Ozymandias prefix and /skydns/ (docs/security.md)`,
    );
    const txn = explainAccessFailure('7 PERMISSION_DENIED: etcdserver: permission denied', withCert, { what: 'txn', keys: ['/a', '/b', '/c', '/d', '/e'] })!;
    assert.match(txn, /for the client certificate's user \(its CN\) on \/a, \/b, \/c \(and 2 more\)/);
  });

  test('anything else is left to the generic translation', () => {
    assert.equal(explainAccessFailure('14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:2379', withUser, req), undefined);
    assert.equal(explainAccessFailure('etcdserver: requested lease not found', withUser, req), undefined);
  });
});
