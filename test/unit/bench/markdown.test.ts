// docs/benchmarks.md's generated region: a run rewrites only its own blocks
// and must keep the hand-written remarks that sit between blocks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BEGIN, END, parseBlocks, updateDoc } from '../../../bench/lib/markdown';

const block = (id: string, body: string): string => `<!-- bench:section:${id}:begin -->\n${body}\n<!-- bench:section:${id}:end -->`;
const ORDER = ['a', 'b', 'c', 'd'];
const doc = ['# T', '', 'intro', '', BEGIN, block('a', 'A1'), '', 'remarks on a', '', block('c', 'C1'), '', END, '', 'outro', ''].join('\n');

describe('updateDoc', () => {
  test('replaces a block in place and keeps the text around it', () => {
    const out = updateDoc(doc, new Map([['a', 'A2']]), ORDER);
    assert.equal(out, doc.replace('A1', 'A2'));
  });

  test('a new block goes right before the next one, so the remarks under the block before stay there', () => {
    const out = updateDoc(doc, new Map([['b', 'B1']]), ORDER);
    assert.deepEqual([...parseBlocks(out).keys()], ['a', 'b', 'c']);
    assert.ok(out.indexOf('remarks on a') < out.indexOf(block('b', 'B1')));
    assert.ok(out.indexOf(block('b', 'B1')) < out.indexOf(block('c', 'C1')));
    assert.ok(out.endsWith(`${END}\n\noutro\n`));
  });

  test('a new first block goes before the nearest later one; a new last one after the last', () => {
    const first = updateDoc(doc.replace(block('a', 'A1'), ''), new Map([['a', 'A3']]), ORDER);
    assert.deepEqual([...parseBlocks(first).keys()], ['a', 'c']);
    const last = updateDoc(doc, new Map([['d', 'D1']]), ORDER);
    assert.deepEqual([...parseBlocks(last).keys()], ['a', 'c', 'd']);
    assert.ok(last.includes('remarks on a'));
  });

  test('a doc without the region gets one appended', () => {
    const out = updateDoc('# T\n', new Map([['b', 'B1'], ['a', 'A1']]), ORDER);
    assert.deepEqual([...parseBlocks(out).keys()], ['a', 'b']);
    assert.ok(out.startsWith('# T\n\n'));
  });
});
