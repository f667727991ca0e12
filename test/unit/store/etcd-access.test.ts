// The TLS and user options of the store: combinations that cannot work are
// refused before any connection, and the etcd3 credentials they become.
import assert from 'node:assert/strict';
import { rootCertificates } from 'node:tls';
import { describe, test } from 'node:test';
import { checkAccess, tlsCredentials } from '../../../src/store/etcd-access';
import { InvalidStoreArgumentError } from '../../../src/store';

const pem = (s: string) => Buffer.from(`-----BEGIN ${s}-----\n`);

describe('checkAccess', () => {
  test('TLS files need https:// endpoints (etcd3 would speak TLS to an http:// one anyway)', () => {
    assert.throws(() => checkAccess(['http://127.0.0.1:2379'], { tls: { ca: pem('CA') } }), (e: Error) => e instanceof InvalidStoreArgumentError && /need https:\/\/ etcd endpoints/.test(e.message));
    assert.throws(() => checkAccess(['https://a:2379', 'http://b:2379'], {}), /mix http:\/\/ and https:\/\//);
  });
  test('a certificate without its key, a user without a password', () => {
    assert.throws(() => checkAccess(['https://a:2379'], { tls: { cert: pem('CERT') } }), /--etcd-cert and --etcd-key go together/);
    assert.throws(() => checkAccess(['https://a:2379'], { tls: { key: pem('KEY') } }), /--etcd-cert and --etcd-key go together/);
    assert.throws(() => checkAccess(['http://a:2379'], { auth: { username: 'ozy', password: '' } }), /OZY_ETCD_PASSWORD is needed/);
  });
  test('the summary says what was given, never the password', () => {
    const s = checkAccess(['https://a:2379'], { tls: { ca: pem('CA'), cert: pem('C'), key: pem('K') }, auth: { username: 'ozy', password: 'hunter2' } });
    assert.deepEqual(s, { endpoints: ['https://a:2379'], ca: true, cert: true, username: 'ozy' });
    assert.ok(!JSON.stringify(s).includes('hunter2'));
  });
});

describe('tlsCredentials', () => {
  test('none without a CA or certificate: https:// then uses the system CAs', () => {
    assert.equal(tlsCredentials(undefined), undefined);
    assert.equal(tlsCredentials({}), undefined);
  });
  test('a client certificate without --etcd-ca trusts the system CAs', () => {
    const c = tlsCredentials({ cert: pem('C'), key: pem('K') })!;
    assert.equal(c.rootCertificate.toString(), rootCertificates.join('\n'));
    assert.equal(c.certChain?.toString(), pem('C').toString());
    assert.equal(c.privateKey?.toString(), pem('K').toString());
  });
  test('a CA alone: no client certificate', () => {
    assert.deepEqual(tlsCredentials({ ca: pem('CA') }), { rootCertificate: pem('CA') });
  });
});
