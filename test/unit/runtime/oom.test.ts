// The OOM verdict and its source (src/runtime/oom.ts): the engine first,
// the cgroup next, the exit-code guess only when neither knows.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { judgeOom, kernelLogNamesOom, type CgroupOomReading } from '../../../src/runtime/oom';

const ID = '6bb59f884563bcdfa69b9297ab597a27bcdec1977c314bde72cb791c15b5fcca';
const exited = { state: 'exited', exitCode: 137, oomKilledReported: false, memoryLimit: 16 << 20, stoppedByUs: false, killedThroughEngine: false };

function cgroup(reading: CgroupOomReading): { probe: () => CgroupOomReading; asked: () => number } {
  let n = 0;
  return { probe: () => (n++, reading), asked: () => n };
}

describe('judgeOom', () => {
  test("the engine's word wins (dockerd: OOMKilled or an oom event), without reading the cgroup", () => {
    const c = cgroup('no-oom');
    assert.deepEqual(judgeOom({ ...exited, exitCode: 0, oomKilledReported: true }, c.probe), { oomKilled: true, source: 'engine' });
    assert.equal(c.asked(), 0);
  });

  test('the cgroup decides a SIGKILL under a limit, either way', () => {
    assert.deepEqual(judgeOom(exited, cgroup('oom').probe), { oomKilled: true, source: 'cgroup' });
    assert.deepEqual(judgeOom(exited, cgroup('no-oom').probe), { oomKilled: false, source: 'cgroup' });
    // Even one we killed: the cgroup saw the kernel kill it first.
    assert.deepEqual(judgeOom({ ...exited, stoppedByUs: true }, cgroup('oom').probe), { oomKilled: true, source: 'cgroup' });
  });

  test('only when neither knows: the exit-code guess, which a kill through the engine or our own stop rules out', () => {
    assert.deepEqual(judgeOom(exited, cgroup('unknown').probe), { oomKilled: true, source: 'exit-code' });
    assert.deepEqual(judgeOom({ ...exited, stoppedByUs: true }, cgroup('unknown').probe), { oomKilled: false, source: 'exit-code' });
    assert.deepEqual(judgeOom({ ...exited, killedThroughEngine: true }, cgroup('unknown').probe), { oomKilled: false, source: 'exit-code' });
  });

  test('no kill, no limit or still running: not an OOM kill, and no file is read', () => {
    const c = cgroup('oom');
    assert.deepEqual(judgeOom({ ...exited, exitCode: 1 }, c.probe), { oomKilled: false });
    assert.deepEqual(judgeOom({ ...exited, memoryLimit: 0 }, c.probe), { oomKilled: false });
    assert.deepEqual(judgeOom({ ...exited, state: 'running' }, c.probe), { oomKilled: false });
    assert.equal(c.asked(), 0);
  });
});

describe('kernelLogNamesOom', () => {
  // Verbatim shape of the record on this kernel (6.x, cgroup v1, podman cgroupfs).
  const record = `6,1234,283609970,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=libpod-${ID},mems_allowed=0,oom_memcg=/libpod_parent/libpod-${ID},task_memcg=/libpod_parent/libpod-${ID},task=dd,pid=5572,uid=0`;

  test("finds the record of the container's memory cgroup", () => {
    assert.equal(kernelLogNamesOom(ID, ['6,1,1,-;something else', record]), true);
  });

  test("another container's record, or an id that is not one, is not a match", () => {
    assert.equal(kernelLogNamesOom(ID.replace('6bb5', '7cc6'), [record]), false);
    assert.equal(kernelLogNamesOom('', [record]), false);
    assert.equal(kernelLogNamesOom(ID, [`6,2,2,-;Memory cgroup out of memory: Killed process 5572 (dd)`]), false);
  });
});
