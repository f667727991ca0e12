// Tails of a container log cut on our side (podman 4.3's `tail` loses the
// pieces of lines written in several writes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastBytes, lastLines, splitStreams, type LogFrame } from '../../../src/runtime/log-frames';

const f = (stream: LogFrame['stream'], text: string): LogFrame => ({ stream, data: Buffer.from(text) });
const text = (frames: LogFrame[]): string => frames.map((x) => `${x.stream[3]}:${x.data.toString()}`).join('|');

test('a line written in three pieces stays whole in the tail (podman returned only its "\\n")', () => {
  const log = [f('stdout', 'start\n'), f('stderr', 'sh: '), f('stderr', "can't fork: Resource temporarily unavailable"), f('stderr', '\n'), f('stdout', 'fork-failed\n')];
  assert.deepEqual(splitStreams(lastLines(log, 2)), { stdout: 'fork-failed\n', stderr: "sh: can't fork: Resource temporarily unavailable\n" });
  assert.deepEqual(splitStreams(lastLines(log, 20)), { stdout: 'start\nfork-failed\n', stderr: "sh: can't fork: Resource temporarily unavailable\n" });
});

test('lines are counted over both streams, and a frame holding several lines is cut after a newline', () => {
  const log = [f('stdout', 'a\nb\nc\n'), f('stderr', 'e1\n'), f('stdout', 'd\n')];
  assert.equal(text(lastLines(log, 1)), 'o:d\n');
  assert.equal(text(lastLines(log, 2)), 'e:e1\n|o:d\n');
  assert.equal(text(lastLines(log, 4)), 'o:b\nc\n|e:e1\n|o:d\n');
  assert.equal(text(lastLines(log, 5)), 'o:a\nb\nc\n|e:e1\n|o:d\n');
  assert.equal(text(lastLines(log, 0)), '');
});

test('an unended last piece counts as a line', () => {
  const log = [f('stdout', 'a\nb\npartial')];
  assert.equal(text(lastLines(log, 1)), 'o:partial');
  assert.equal(text(lastLines(log, 2)), 'o:b\npartial');
  assert.equal(text(lastLines([f('stdout', 'x\n'), f('stdout', 'no newline')], 1)), 'o:no newline');
});

test('lastBytes keeps whole frames back to at least the bytes asked', () => {
  const log = [f('stdout', 'aaaa\n'), f('stderr', 'bb\n'), f('stdout', 'c\n')];
  assert.equal(text(lastBytes(log, 2)), 'o:c\n');
  assert.equal(text(lastBytes(log, 3)), 'e:bb\n|o:c\n');
  assert.equal(text(lastBytes(log, 100)), 'o:aaaa\n|e:bb\n|o:c\n');
});
