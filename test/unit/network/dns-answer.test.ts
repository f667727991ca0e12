import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { answerQuestion, buildDnsIndex, recordName } from '../../../src/network/dns-answer';

const records = new Map([
  ['local/ozy/web/web-0', { host: '10.0.0.1', port: 31000, ttl: 5 }],
  ['local/ozy/web/web-1', { host: '10.0.0.2', port: 31001, ttl: 7 }],
  ['local/ozy/web/web-2', { host: '10.0.0.1', port: 31002, ttl: 3 }],
  ['local/ozy/db/db-0', { host: 'node3.example.com', port: 5432, ttl: 5 }],
  ['local/ozy/v6/v6-0', { host: 'fd00::1', port: 80, ttl: 5 }],
  ['com/example/other/other-0', { host: '10.9.9.9', port: 1, ttl: 5 }],
]);
const index = buildDnsIndex(records, 'ozy.local', 42);

describe('dns answers (the CoreDNS etcd plugin reading of /skydns)', () => {
  test('a record path reversed is its name', () => {
    assert.equal(recordName('local/ozy/web/web-1'), 'web-1.web.ozy.local');
  });

  test('A for a job: one per distinct IPv4 host, the smallest TTL of its records', () => {
    const r = answerQuestion(index, 'web.ozy.local.', 'A');
    assert.equal(r.rcode, 'NOERROR');
    assert.deepEqual(
      r.answers.map((a) => [a.name, a.type, a.ttl, a.data]),
      [
        ['web.ozy.local', 'A', 3, '10.0.0.1'],
        ['web.ozy.local', 'A', 7, '10.0.0.2'],
      ],
    );
  });

  test('A for one instance answers that one; names are case-insensitive', () => {
    const r = answerQuestion(index, 'WEB-1.web.OZY.local', 'A');
    assert.deepEqual(r.answers.map((a) => a.data), ['10.0.0.2']);
  });

  test('SRV: one per record with its port, target its name, the A in additionals', () => {
    const r = answerQuestion(index, 'web.ozy.local', 'SRV');
    assert.deepEqual(
      r.answers.map((a) => a.data),
      [
        { priority: 10, weight: 33, port: 31000, target: 'web-0.web.ozy.local' },
        { priority: 10, weight: 33, port: 31001, target: 'web-1.web.ozy.local' },
        { priority: 10, weight: 33, port: 31002, target: 'web-2.web.ozy.local' },
      ],
    );
    assert.deepEqual(r.additionals.map((a) => [a.name, a.data]), [
      ['web-0.web.ozy.local', '10.0.0.1'],
      ['web-1.web.ozy.local', '10.0.0.2'],
      ['web-2.web.ozy.local', '10.0.0.1'],
    ]);
    assert.deepEqual(r.answers.map((a) => a.ttl), [5, 7, 3]);
  });

  test('a host that is a name is the SRV target itself, with no A; such records give no A answer', () => {
    const srv = answerQuestion(index, 'db.ozy.local', 'SRV');
    assert.deepEqual(srv.answers.map((a) => a.data), [{ priority: 10, weight: 100, port: 5432, target: 'node3.example.com' }]);
    assert.deepEqual(srv.additionals, []);
    const a = answerQuestion(index, 'db.ozy.local', 'A');
    assert.equal(a.rcode, 'NOERROR');
    assert.deepEqual(a.answers, []);
    assert.equal(a.authorities[0]?.type, 'SOA');
    const v6 = answerQuestion(index, 'v6.ozy.local', 'SRV');
    assert.deepEqual(v6.answers.map((x) => x.type === 'SRV' && x.data.target), ['v6-0.v6.ozy.local']);
    assert.deepEqual(v6.additionals, []);
  });

  test('the zone apex answers every record in the zone (and its SOA)', () => {
    assert.equal(answerQuestion(index, 'ozy.local', 'SRV').answers.length, 5);
    const soa = answerQuestion(index, 'ozy.local', 'SOA');
    assert.deepEqual(soa.answers.map((a) => a.type === 'SOA' && a.data.serial), [42]);
  });

  test('NXDOMAIN in the zone, NODATA for other types, REFUSED outside the zone', () => {
    const nx = answerQuestion(index, 'nope.ozy.local', 'A');
    assert.equal(nx.rcode, 'NXDOMAIN');
    assert.equal(nx.authorities[0]?.type, 'SOA');
    const nodata = answerQuestion(index, 'web.ozy.local', 'TXT');
    assert.equal(nodata.rcode, 'NOERROR');
    assert.deepEqual(nodata.answers, []);
    assert.equal(answerQuestion(index, 'other.example.com', 'A').rcode, 'REFUSED');
    assert.equal(answerQuestion(index, 'evilozy.local', 'A').rcode, 'REFUSED');
    const empty = buildDnsIndex(new Map(), 'ozy.local');
    assert.equal(answerQuestion(empty, 'ozy.local', 'A').rcode, 'NOERROR', 'the apex exists even when empty');
    assert.equal(answerQuestion(empty, 'web.ozy.local', 'A').rcode, 'NXDOMAIN');
  });
});
