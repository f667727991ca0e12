import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { isOurProcess, isZombie, procProbe, StateFile, type ProcessProbe, type UpState } from '../../../src/up/state-file';
import { tempDir } from '../../harness/tmp';
import { waitFor } from '../../harness/wait';

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

describe('procProbe', () => {
  test('a running process is alive; one that exited is not, even while it waits to be reaped (a zombie)', async () => {
    // sh starts `sleep 600`, prints its pid, and becomes `sleep 30`, which never reaps it:
    // killed, the child stays a zombie for as long as its parent lives.
    const parent = spawn('/bin/sh', ['-c', 'sleep 600 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const line = await new Promise<string>((resolve) => parent.stdout.setEncoding('utf8').once('data', (d: string) => resolve(d)));
      const child = Number(line.trim());
      assert.ok(child > 0, line);
      assert.equal(procProbe.alive(child), true);
      assert.equal(isZombie(child), false);
      process.kill(child, 'SIGKILL');
      await waitFor('the child to be a zombie', () => isZombie(child), { timeoutMs: 5000, intervalMs: 10 });
      assert.doesNotThrow(() => process.kill(child, 0), 'the pid still exists');
      assert.equal(procProbe.alive(child), false);
    } finally {
      parent.kill('SIGKILL');
    }
    assert.equal(procProbe.alive(2 ** 22 + 1), false, 'no such pid (above pid_max)');
  });
});
