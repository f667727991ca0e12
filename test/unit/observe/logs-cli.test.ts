import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { apiToken, logsPath, parseLogsArgs } from '../../../src/cli/commands/logs';
import type { AcceptedJob, InstanceStatus } from '../../../src/model/cluster';
import type { CronState } from '../../../src/model/cron';
import { locateInstance } from '../../../src/observe/locate-instance';
import { LogFrameSplitter } from '../../../src/runtime/log-frames';
import { ensureApiToken, readApiToken } from '../../../src/up/api-token';
import { tempDir } from '../../harness/tmp';

test('ozy logs arguments: INSTANCE, -c, --tail, -f, etcd flags; usage problems as strings', () => {
  assert.deepEqual(parseLogsArgs(['web-0']), { instance: 'web-0', follow: false, etcd: {} });
  assert.deepEqual(parseLogsArgs(['web-0', '-c', 'app', '--tail', '20', '-f', '--etcd', 'http://e:2379']), {
    instance: 'web-0',
    container: 'app',
    tail: 20,
    follow: true,
    etcd: { etcd: 'http://e:2379' },
  });
  assert.deepEqual(parseLogsArgs(['--container=side', 'web-1', '--follow']), { instance: 'web-1', container: 'side', follow: true, etcd: {} });
  for (const bad of [[], ['a', 'b'], ['web-0', '--tail', 'x'], ['web-0', '--tail', '-3'], ['web-0', '--nope']]) assert.equal(typeof parseLogsArgs(bad), 'string', bad.join(' '));
});

test('the agent request path', () => {
  assert.equal(logsPath({ instance: 'web-0', follow: false }), '/v1/logs/web-0');
  assert.equal(logsPath({ instance: 'web-0', container: 'app', tail: 5, follow: true }), '/v1/logs/web-0?container=app&tail=5&follow=1');
});

test('the token: OZY_API_TOKEN first, else the running ozy up (none here)', () => {
  const empty = tempDir('ozy-no-up-');
  try {
    assert.equal(apiToken({ OZY_API_TOKEN: 't1', OZY_UP_STATE_DIR: empty.dir }), 't1');
    assert.equal(apiToken({ OZY_UP_STATE_DIR: empty.dir }), undefined);
  } finally {
    empty.cleanup();
  }
});

test("ozy up's token file: mode 0600, random unless OZY_API_TOKEN is set", () => {
  const d = tempDir('ozy-up-token-');
  try {
    const t1 = ensureApiToken(d.dir, {});
    assert.ok(t1.length >= 40);
    assert.equal(fs.statSync(path.join(d.dir, 'api-token')).mode & 0o777, 0o600);
    assert.equal(readApiToken(d.dir), t1);
    const t2 = ensureApiToken(d.dir, {});
    assert.notEqual(t2, t1);
    assert.equal(ensureApiToken(d.dir, { OZY_API_TOKEN: 'mine' }), 'mine');
    assert.equal(readApiToken(d.dir), 'mine');
    assert.equal(fs.statSync(path.join(d.dir, 'api-token')).mode & 0o777, 0o600);
  } finally {
    d.cleanup();
  }
});

test('locateInstance: status first, then placement, then a cron run pod', () => {
  const job = { spec: { name: 'web' }, instances: [{ node: 'n1', since: '' }, { node: null, since: '' }] } as unknown as AcceptedJob;
  const jobs = new Map([['web', job]]);
  const statuses = [{ instance: 'web-0', node: 'n2' } as InstanceStatus];
  assert.deepEqual(locateInstance('web-0', { statuses, jobs }), { node: 'n2' });
  assert.deepEqual(locateInstance('web-0', { statuses: [], jobs }), { node: 'n1' });
  assert.deepEqual(locateInstance('web-1', { statuses: [], jobs }), { pending: true });
  assert.equal(locateInstance('web-2', { statuses: [], jobs }), undefined);
  const runs = new Map<string, CronState>([['nightly', { job: 'nightly', cursor: 0, runs: [{ run: 'nightly-1700000000', scheduledAt: '', claimedAt: '', attempt: 0, specHash: 'h', instances: [{ node: 'n3' }] }] }]]);
  assert.deepEqual(locateInstance('nightly-1700000000-0', { statuses: [], jobs, runs }), { node: 'n3' });
});

test('LogFrameSplitter: frames cut anywhere by the socket come out whole, in order', () => {
  const frame = (type: number, text: string): Buffer => {
    const payload = Buffer.from(text);
    const h = Buffer.alloc(8);
    h[0] = type;
    h.writeUInt32BE(payload.length, 4);
    return Buffer.concat([h, payload]);
  };
  const all = Buffer.concat([frame(1, 'hello\n'), frame(2, 'oops\n'), frame(1, ''), frame(1, 'bye\n')]);
  for (let cut = 1; cut < all.length; cut++) {
    const s = new LogFrameSplitter();
    const out = [...s.push(all.subarray(0, cut)), ...s.push(all.subarray(cut))];
    assert.deepEqual(out.map((f) => `${f.stream}:${f.data.toString()}`), ['stdout:hello\n', 'stderr:oops\n', 'stdout:', 'stdout:bye\n'], `cut at ${cut}`);
    assert.equal(s.buffered, 0);
  }
  const s = new LogFrameSplitter();
  assert.deepEqual(s.push(all.subarray(0, 5)), []);
  assert.equal(s.buffered, 5);
});
