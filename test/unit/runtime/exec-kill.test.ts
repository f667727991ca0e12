// killExecProcess over a fake process table: what gets SIGKILL, and what is
// left alone (a reused pid, processes outside the container).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { descendantsOf, killExecProcess, parseProcStat, type ProcessInfo, type ProcessTable } from '../../../src/runtime/exec-kill';

const ID = 'c'.repeat(64);
const OTHER = 'd'.repeat(64);

interface FakeProcess extends ProcessInfo {
  container: string;
}

function table(processes: FakeProcess[]): ProcessTable & { killed: number[] } {
  const alive = new Map(processes.map((p) => [p.pid, p]));
  const killed: number[] = [];
  return {
    killed,
    async list() {
      return [...alive.values()].map(({ pid, ppid, pgrp }) => ({ pid, ppid, pgrp }));
    },
    async cgroupOf(pid) {
      const p = alive.get(pid);
      return p ? `12:pids:/libpod_parent/libpod-${p.container}\n0::/libpod_parent/libpod-${p.container}\n` : undefined;
    },
    kill(pid, signal) {
      assert.equal(signal, 'SIGKILL');
      if (pid < 0) {
        const group = [...alive.values()].filter((p) => p.pgrp === -pid);
        for (const p of group) alive.delete(p.pid);
        killed.push(pid);
        return group.length > 0;
      }
      if (!alive.delete(pid)) return false;
      killed.push(pid);
      return true;
    },
  };
}

describe('killExecProcess', () => {
  test('kills the exec’s process group, then descendants that left the group; the container’s other processes live', async () => {
    const t = table([
      { pid: 100, ppid: 90, pgrp: 100, container: ID }, // container init
      { pid: 200, ppid: 80, pgrp: 200, container: ID }, // the exec: sh -c '…'
      { pid: 201, ppid: 200, pgrp: 200, container: ID }, // sleep in its group
      { pid: 202, ppid: 200, pgrp: 202, container: ID }, // setsid: its own group
      { pid: 203, ppid: 202, pgrp: 202, container: ID }, // its child
    ]);
    assert.equal(await killExecProcess(200, ID, t), 'killed');
    assert.deepEqual(t.killed, [-200, 202, 203]);
    assert.deepEqual((await t.list()).map((p) => p.pid), [100]);
  });

  test('a pid that now belongs to another container (or the host) is left alone', async () => {
    const t = table([{ pid: 200, ppid: 1, pgrp: 200, container: OTHER }]);
    assert.equal(await killExecProcess(200, ID, t), 'not-in-container');
    assert.deepEqual(t.killed, []);
  });

  test('a process that already exited, pid 0 or 1, or a short container id: nothing is killed', async () => {
    const t = table([{ pid: 1, ppid: 0, pgrp: 1, container: ID }]);
    assert.equal(await killExecProcess(300, ID, t), 'gone');
    assert.equal(await killExecProcess(0, ID, t), 'gone');
    assert.equal(await killExecProcess(1, ID, t), 'gone');
    const u = table([{ pid: 200, ppid: 1, pgrp: 200, container: ID }]);
    assert.equal(await killExecProcess(200, ID.slice(0, 8), u), 'not-in-container', 'a prefix this short could match another id');
    assert.deepEqual([...t.killed, ...u.killed], []);
  });

  test('a process that is not a group leader is killed by pid, with its tree', async () => {
    const t = table([
      { pid: 200, ppid: 80, pgrp: 80, container: ID },
      { pid: 201, ppid: 200, pgrp: 80, container: ID },
      { pid: 80, ppid: 1, pgrp: 80, container: OTHER },
    ]);
    assert.equal(await killExecProcess(200, ID, t), 'killed');
    assert.deepEqual(t.killed, [200, 201]);
  });
});

describe('/proc parsing', () => {
  test('stat fields are read after the last parenthesis (a comm may hold spaces and parentheses)', () => {
    assert.deepEqual(parseProcStat('4242 (my (odd) proc) S 17 4242 4242 0 -1 4194560'), { pid: 4242, ppid: 17, pgrp: 4242 });
    assert.equal(parseProcStat('garbage'), undefined);
  });

  test('descendants follow the parent links, cycles and all', () => {
    const ps = [
      { pid: 2, ppid: 1, pgrp: 2 },
      { pid: 3, ppid: 2, pgrp: 2 },
      { pid: 4, ppid: 3, pgrp: 2 },
      { pid: 5, ppid: 1, pgrp: 5 },
    ];
    assert.deepEqual(descendantsOf(2, ps), [3, 4]);
    assert.deepEqual(descendantsOf(4, ps), []);
  });
});
