import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runningInstances } from '../../../src/agent/instance-view';
import { deadlineBeforeStartExit, runExit, startFailureExit, utf8Tail, type ExitedContainer } from '../../../src/agent/run-exit';
import { OUTPUT_TAIL_BYTES } from '../../../src/model/cron';
import { framesOf, lastBytes } from '../../../src/runtime/log-frames';
import { podLabels } from '../../../src/runtime/translate';

const AT = '2026-11-30T06:00:00.000Z';

function exited(name: string, extra: Partial<ExitedContainer> = {}): ExitedContainer {
  return { name, exitCode: 0, oomKilled: false, output: '', ...extra };
}

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

describe('utf8Tail', () => {
  test('output shorter than the limit is kept whole', () => {
    assert.equal(utf8Tail(Buffer.from('hello\n')), 'hello\n');
    assert.equal(utf8Tail(Buffer.alloc(0)), '');
  });

  test('keeps the last 4 KiB', () => {
    const text = 'a'.repeat(10_000) + 'THE END\n';
    const tail = utf8Tail(Buffer.from(text));
    assert.equal(Buffer.byteLength(tail), OUTPUT_TAIL_BYTES);
    assert.ok(tail.endsWith('THE END\n'));
    assert.equal(tail, text.slice(-OUTPUT_TAIL_BYTES));
  });

  test('a character cut by the limit is dropped, not shown as U+FFFD', () => {
    // '€' is 3 bytes: 4097 bytes of them and an 'x' put the cut inside a character whatever the phase.
    for (const pad of ['', 'a', 'ab']) {
      const buf = Buffer.from(pad + '€'.repeat(1500) + 'x');
      const tail = utf8Tail(buf);
      assert.ok(Buffer.byteLength(tail) <= OUTPUT_TAIL_BYTES, `pad ${JSON.stringify(pad)}`);
      assert.ok(Buffer.byteLength(tail) > OUTPUT_TAIL_BYTES - 3);
      assert.ok(!tail.includes('\uFFFD'));
      assert.match(tail, /^€+x$/);
    }
    // A 4-byte character across the cut.
    const emoji = utf8Tail(Buffer.from('😀'.repeat(1025)), 10);
    assert.equal(emoji, '😀😀');
  });

  test('an incomplete character at the very end (output cut mid-write) is dropped too', () => {
    const euro = Buffer.from('€');
    assert.equal(utf8Tail(Buffer.concat([Buffer.from('ok'), euro.subarray(0, 2)])), 'ok');
    assert.equal(utf8Tail(Buffer.concat([Buffer.from('ok'), euro])), 'ok€');
  });

  test('the output tail keeps stdout and stderr in the order written, whole frames back to at least the bytes asked', () => {
    const buf = Buffer.concat([frame(1, 'one\n'), frame(2, 'two\n'), frame(1, 'three\n'), frame(2, 'trunc').subarray(0, 10)]);
    const tail = (bytes: number): string => Buffer.concat(lastBytes(framesOf(buf), bytes).map((f) => f.data)).toString();
    assert.equal(tail(4096), 'one\ntwo\nthree\n');
    assert.equal(tail(7), 'two\nthree\n');
    assert.equal(tail(6), 'three\n');
  });
});

describe('runExit', () => {
  test('every container exited 0: no reason', () => {
    const exit = runExit([exited('main', { output: 'hi\n' }), exited('side')], { deadline: false, finishedAt: AT });
    assert.deepEqual(exit, { exitCodes: { main: 0, side: 0 }, output: { main: 'hi\n', side: '' }, finishedAt: AT });
  });

  test('a non-zero exit names the container; the first failing one in start order', () => {
    const exit = runExit([exited('init'), exited('main', { exitCode: 3 }), exited('side', { exitCode: 1 })], { deadline: false, finishedAt: AT });
    assert.equal(exit.reason, 'container "main": exit code 3');
    assert.deepEqual(exit.exitCodes, { init: 0, main: 3, side: 1 });
  });

  test('an OOM kill says so rather than 137', () => {
    const exit = runExit([exited('hog', { exitCode: 137, oomKilled: true })], { deadline: false, finishedAt: AT });
    assert.equal(exit.reason, 'container "hog": OOM killed');
    assert.equal(exit.exitCodes.hog, 137);
  });

  test('a pod stopped at its deadline fails for that reason, codes as they ended', () => {
    const exit = runExit([exited('main', { exitCode: 137 }), exited('side', { exitCode: 0 })], { deadline: true, finishedAt: AT });
    assert.equal(exit.reason, 'activeDeadline');
    assert.deepEqual(exit.exitCodes, { main: 137, side: 0 });
  });

  test('a container that vanished, or never started, fails the run with -1', () => {
    assert.equal(runExit([exited('a'), exited('b', { exitCode: -1, lost: 'missing' })], { deadline: false, finishedAt: AT }).reason, 'container "b": missing');
    assert.equal(runExit([exited('a', { exitCode: -1, lost: 'never started' })], { deadline: false, finishedAt: AT }).reason, 'container "a": never started');
  });
});

describe('pods that never ran', () => {
  test('a failed pull: image pull and the registry message, every code -1, no output', () => {
    const exit = startFailureExit(['main', 'side'], { container: 'main', step: 'pull', message: 'manifest unknown' }, AT);
    assert.deepEqual(exit, { exitCodes: { main: -1, side: -1 }, output: {}, finishedAt: AT, reason: 'image pull: manifest unknown' });
  });

  test('another start step names the container and the step', () => {
    const exit = startFailureExit(['main'], { container: 'main', step: 'create', message: 'no such network' }, AT);
    assert.equal(exit.reason, 'container "main": create failed: no such network');
  });

  test('a deadline past before the start', () => {
    assert.deepEqual(deadlineBeforeStartExit(['main'], AT), { exitCodes: { main: -1 }, output: {}, finishedAt: AT, reason: 'activeDeadline' });
  });
});

describe('run labels', () => {
  const ctx = { job: 'nightly', instance: 'nightly-1700000000-0', node: 'n1', specHash: 'h' };
  test('extra labels are added and can never override the standard ones', () => {
    const labels = podLabels({ ...ctx, extraLabels: { 'ozy.run': 'nightly-1700000000', 'ozy.attempt': '1', 'ozy.node': 'other' } }, 'main', true);
    assert.equal(labels['ozy.run'], 'nightly-1700000000');
    assert.equal(labels['ozy.attempt'], '1');
    assert.equal(labels['ozy.node'], 'n1');
  });

  test("the service node plan never sees a run's containers", () => {
    const service = { labels: { 'ozy.instance': 'web-0', 'ozy.job': 'web', 'ozy.spec': 'h' } };
    const run = { labels: { 'ozy.instance': 'nightly-1700000000-0', 'ozy.job': 'nightly', 'ozy.spec': 'h', 'ozy.run': 'nightly-1700000000' } };
    assert.deepEqual(runningInstances([service, run]).map((r) => r.instance), ['web-0']);
  });
});
