// `ozy dns` as a child process against a real etcd, queried with real `dig`
// (Debian dnsutils) over UDP and TCP. Records are written through the
// ClusterStore exactly as the agents publish healthy instances.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startEtcd, type EtcdServer } from '../../harness/etcd';
import { freePort } from '../../harness/net';
import { waitFor } from '../../harness/wait';
import { uniquePrefix } from '../store/fixtures';
import { registerNodes, startOzy, type OzyProcess, type TestNodes } from './fixtures';

const run = promisify(execFile);
const ZONE = 'ozy.local';

let etcd: EtcdServer;
let nodes: TestNodes;
let ozy: OzyProcess;
let port: number;

interface DigResult {
  status: string;
  flags: string[];
  answer: string[][];
  additional: string[][];
}

/** Runs dig against `ozy dns` and splits its output into header status, flags and sections. */
async function dig(name: string, type: string, ...extra: string[]): Promise<DigResult> {
  const { stdout } = await run('dig', [`@127.0.0.1`, '-p', String(port), '+norecurse', '+time=2', '+tries=1', ...extra, name, type]);
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? '';
  const flags = (/;; flags: ([^;]*);/.exec(stdout)?.[1] ?? '').trim().split(/\s+/);
  const section = (title: string): string[][] => {
    const start = stdout.indexOf(`;; ${title} SECTION:`);
    if (start < 0) return [];
    const body = stdout.slice(start).split('\n').slice(1);
    const end = body.findIndex((l) => l.trim() === '');
    return body.slice(0, end < 0 ? undefined : end).map((l) => l.trim().split(/\s+/));
  };
  return { status, flags, answer: section('ANSWER'), additional: section('ADDITIONAL').filter((r) => r[3] !== 'OPT' && !r[0]!.startsWith(';')) };
}

before(async () => {
  etcd = await startEtcd();
  nodes = await registerNodes(etcd.endpoint, uniquePrefix(), ['n1', 'n2']);
  const session = (n: string) => nodes.sessions.get(n)!;
  const key = (job: string, inst: string) => nodes.store.keys.dnsKey(ZONE, job, inst);
  await nodes.store.putDnsRecord(session('n1'), key('web', 'web-0'), { host: '10.0.0.1', port: 31000, ttl: 5 });
  await nodes.store.putDnsRecord(session('n2'), key('web', 'web-1'), { host: '10.0.0.2', port: 31001, ttl: 7 });
  await nodes.store.putDnsRecord(session('n2'), key('db', 'db-0'), { host: 'db-host.example.com', port: 5432, ttl: 5 });
  port = await freePort();
  ozy = startOzy(['dns', '--etcd', etcd.endpoint, '--listen', `127.0.0.1:${port}`, '--zone', ZONE]);
  await ozy.address('dns listening');
});

after(async () => {
  const code = await ozy?.stop();
  assert.equal(code, 0, 'ozy dns exits 0 on SIGTERM');
  await nodes?.close();
  await etcd?.stop();
});

describe('ozy dns (child process, queried with dig)', () => {
  test('A for a job: every healthy instance, with the records\' TTLs, authoritative', async () => {
    const r = await dig('web.ozy.local', 'A');
    assert.equal(r.status, 'NOERROR');
    assert.ok(r.flags.includes('aa'), `flags: ${r.flags.join(' ')}`);
    assert.deepEqual(r.answer.map((x) => [x[0], x[1], x[3], x[4]]).sort(), [
      ['web.ozy.local.', '5', 'A', '10.0.0.1'],
      ['web.ozy.local.', '7', 'A', '10.0.0.2'],
    ]);
  });

  test('A for one instance, over TCP too', async () => {
    for (const extra of [[], ['+tcp']]) {
      const r = await dig('web-1.web.ozy.local', 'A', ...extra);
      assert.deepEqual(r.answer.map((x) => x[4]), ['10.0.0.2']);
    }
  });

  test('SRV: one per instance with its port and its A in the additional section', async () => {
    const r = await dig('web.ozy.local', 'SRV');
    assert.equal(r.status, 'NOERROR');
    assert.deepEqual(r.answer.map((x) => [x[3], x[4], x[6], x[7]]).sort(), [
      ['SRV', '10', '31000', 'web-0.web.ozy.local.'],
      ['SRV', '10', '31001', 'web-1.web.ozy.local.'],
    ]);
    assert.deepEqual(r.additional.map((x) => [x[0], x[3], x[4]]).sort(), [
      ['web-0.web.ozy.local.', 'A', '10.0.0.1'],
      ['web-1.web.ozy.local.', 'A', '10.0.0.2'],
    ]);
    const db = await dig('db.ozy.local', 'SRV');
    assert.deepEqual(db.answer.map((x) => [x[6], x[7]]), [['5432', 'db-host.example.com.']], 'a host name is the target itself');
  });

  test('NXDOMAIN for an unknown name in the zone, NODATA for another type, REFUSED outside', async () => {
    assert.equal((await dig('nope.ozy.local', 'A')).status, 'NXDOMAIN');
    const txt = await dig('web.ozy.local', 'TXT');
    assert.equal(txt.status, 'NOERROR');
    assert.deepEqual(txt.answer, []);
    assert.equal((await dig('example.com', 'A')).status, 'REFUSED');
  });

  test('a deleted record (the instance is no longer healthy) disappears from the answers', async () => {
    await nodes.store.deleteDnsRecord(nodes.store.keys.dnsKey(ZONE, 'web', 'web-0'));
    await waitFor('web-0 gone from web.ozy.local', async () => {
      const r = await dig('web.ozy.local', 'A');
      return r.answer.length === 1 && r.answer[0]![4] === '10.0.0.2';
    });
    assert.equal((await dig('web-0.web.ozy.local', 'A')).status, 'NXDOMAIN');
  });
});
