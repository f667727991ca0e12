import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExecOutput, firstLine } from '../../../src/runtime/exec-output';

function frame(type: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = type;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

describe('the output of an exec health check', () => {
  test('multiplexed frames, split anywhere, are joined in the order written', () => {
    const all = Buffer.concat([frame(1, 'hello '), frame(2, 'err\n'), frame(1, 'world')]);
    for (let cut = 1; cut < all.length; cut++) {
      const out = new ExecOutput();
      out.push(all.subarray(0, cut));
      out.push(all.subarray(cut));
      assert.equal(out.text(), 'hello err\nworld', `cut at ${cut}`);
    }
  });

  test('only the first bytes are kept', () => {
    const out = new ExecOutput(8);
    out.push(frame(1, 'abcdef'));
    out.push(frame(1, 'ghijkl'));
    assert.equal(out.text(), 'abcdefgh');
  });

  test('a TTY exec (no frames) is taken as it is', () => {
    const out = new ExecOutput();
    out.push(Buffer.from('plain text\n'));
    assert.equal(out.text(), 'plain text\n');
  });

  test('firstLine: the first non-empty line, control characters dropped, cut to a length', () => {
    assert.equal(firstLine('\n\n  pg: no response \x1b[0m\nnext'), 'pg: no response [0m');
    assert.equal(firstLine('x'.repeat(200), 10), `${'x'.repeat(9)}…`);
    assert.equal(firstLine(''), '');
  });
});
