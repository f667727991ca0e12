import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidStoreArgumentError, KeyLayout, dnsKey } from '../../../src/store';
import { keyName, prefixRangeEnd } from '../../../src/store/keys';

describe('KeyLayout', () => {
  test('builds the documented layout under the default prefixes', () => {
    const k = new KeyLayout();
    assert.equal(k.node('n1'), '/ozy/nodes/n1');
    assert.equal(k.job('web'), '/ozy/jobs/web');
    assert.equal(k.rejection('web'), '/ozy/rejections/web');
    assert.equal(k.rejection('jobs/a/b.yaml'), '/ozy/rejections/jobs/a/b.yaml');
    assert.equal(k.schedule, '/ozy/schedule');
    assert.equal(k.status('n1', 'web-0'), '/ozy/status/n1/web-0');
    assert.equal(k.statusPrefix(), '/ozy/status/');
    assert.equal(k.agent('n1'), '/ozy/agents/n1');
    assert.equal(k.cpu('n1'), '/ozy/cpu/n1');
    assert.equal(k.dnsKey('ozy.local', 'web', 'web-1'), '/skydns/local/ozy/web/web-1');
  });

  test('keeps per-node CPU records outside the range the schedule cache watches', () => {
    const k = new KeyLayout();
    const { start, end } = k.scheduleRange;
    const key = k.cpu('n1');
    assert.ok(!(key >= start && key < end), `${key} must sort outside [${start}, ${end})`);
    assert.ok(k.cpuPrefix < start);
  });

  test('honours configured prefixes, with or without a trailing slash', () => {
    const k = new KeyLayout('/team/ozy/', '/dns');
    assert.equal(k.job('web'), '/team/ozy/jobs/web');
    assert.equal(k.dnsKey('a.b.c', 'web', 'web-0'), '/dns/c/b/a/web/web-0');
  });

  test('refuses names and prefixes that would escape their place', () => {
    const k = new KeyLayout();
    for (const bad of ['', 'a/b', '..', '.']) {
      assert.throws(() => k.job(bad), InvalidStoreArgumentError, bad);
      assert.throws(() => k.node(bad), InvalidStoreArgumentError, bad);
    }
    assert.throws(() => k.rejection('jobs/../../x'), InvalidStoreArgumentError);
    assert.throws(() => k.rejection('/abs'), InvalidStoreArgumentError);
    assert.throws(() => new KeyLayout('ozy'), InvalidStoreArgumentError);
    assert.throws(() => new KeyLayout('/'), InvalidStoreArgumentError);
    assert.throws(() => new KeyLayout('/x', '/x/dns'), InvalidStoreArgumentError);
    assert.throws(() => k.checkDnsKey('/ozy/jobs/web'), InvalidStoreArgumentError);
    assert.throws(() => k.checkDnsKey('/skydns/local/../x'), InvalidStoreArgumentError);
    assert.equal(k.checkDnsKey('/skydns/local/ozy/web/web-0'), '/skydns/local/ozy/web/web-0');
  });
});

describe('dnsKey', () => {
  test('reverses the zone labels (CoreDNS etcd plugin format)', () => {
    assert.equal(dnsKey('ozy.local', 'web', 'web-1'), '/skydns/local/ozy/web/web-1');
    assert.equal(dnsKey('ozy.local.', 'web', 'web-1'), '/skydns/local/ozy/web/web-1');
    assert.throws(() => dnsKey('', 'web', 'web-1'), InvalidStoreArgumentError);
  });
});

describe('key helpers', () => {
  test('keyName strips a prefix', () => {
    assert.equal(keyName('/ozy/jobs/', '/ozy/jobs/web'), 'web');
    assert.equal(keyName('/ozy/jobs/', '/ozy/jobs/'), undefined);
    assert.equal(keyName('/ozy/jobs/', '/ozy/nodes/x'), undefined);
  });

  test('prefixRangeEnd is the first key after every key with the prefix', () => {
    assert.equal(prefixRangeEnd(Buffer.from('/ozy/jobs/')).toString(), '/ozy/jobs0');
    assert.deepEqual([...prefixRangeEnd(Buffer.from([0x61, 0xff]))], [0x62]);
    assert.deepEqual([...prefixRangeEnd(Buffer.from([0xff]))], [0]);
  });
});
