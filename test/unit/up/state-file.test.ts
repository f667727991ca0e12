import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { isOurProcess, StateFile, type ProcessProbe, type UpState } from '../../../src/up/state-file';
import { tempDir } from '../../harness/tmp';

const tmp = tempDir('ozy-up-state-');
after(() => tmp.cleanup());

function probe(processes: Record<number, string>): ProcessProbe {
  return { alive: (pid) => pid in processes, cmdline: (pid) => processes[pid] };
}

function upState(pid: number, dir: string): UpState {
  return { pid, startedAt: '2026-01-01T00:00:00Z', phase: 'running', stateDir: dir, nodes: ['node-1'], processes: { etcd: { pid: 200, marker: `${dir}/etcd` } } };
}

let n = 0;
const freshDir = () => path.join(tmp.dir, `s${n++}`);

describe('the ozy up lock', () => {
  test('the first ozy up takes it; a second one sees the first while it runs', () => {
    const dir = freshDir();
    const lock = new StateFile(dir);
    const p = probe({ 100: 'node /x/dist/src/cli/ozy.js up' });
    assert.deepEqual(lock.acquire(upState(100, dir), p), { ok: true });
    const second = lock.acquire(upState(101, dir), p);
    assert.equal(second.ok, false);
    assert.equal(!second.ok && second.running.pid, 100);
  });

  test("a dead holder's record is handed over as stale, and the lock is taken", () => {
    const dir = freshDir();
    const lock = new StateFile(dir);
    lock.acquire(upState(100, dir), probe({}));
    const r = lock.acquire(upState(101, dir), probe({}));
    assert.ok(r.ok && 'stale' in r);
    assert.equal(r.ok && 'stale' in r && r.stale.pid, 100);
    assert.equal(lock.read()?.pid, 101);
  });

  test('a reused pid running something else is not an ozy up', () => {
    const dir = freshDir();
    const lock = new StateFile(dir);
    lock.acquire(upState(100, dir), probe({}));
    const r = lock.acquire(upState(101, dir), probe({ 100: '/usr/sbin/sshd -D' }));
    assert.ok(r.ok && 'stale' in r);
  });

  test('updates are whole files; release removes only our own lock', () => {
    const dir = freshDir();
    const lock = new StateFile(dir);
    lock.acquire(upState(100, dir), probe({}));
    lock.write({ ...upState(100, dir), phase: 'stopping' });
    assert.equal(lock.read()?.phase, 'stopping');
    assert.deepEqual(fs.readdirSync(dir), ['up.json']);
    lock.release(999);
    assert.ok(fs.existsSync(lock.path));
    lock.release(100);
    assert.ok(!fs.existsSync(lock.path));
  });

  test('a recorded child is ours only if alive and its command line has its marker', () => {
    const p = probe({ 200: 'etcd --data-dir /s/etcd', 201: 'vim' });
    assert.equal(isOurProcess({ pid: 200, marker: '/s/etcd' }, p), true);
    assert.equal(isOurProcess({ pid: 201, marker: '/s/etcd' }, p), false);
    assert.equal(isOurProcess({ pid: 202, marker: '/s/etcd' }, p), false);
  });
});
