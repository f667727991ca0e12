// A round → its transactions: one transaction keeps the writes as given
// (atomic: no leave writes, no needless stops); several follow the safe
// order and never name a key twice in one transaction.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AcceptedJob } from '../../../src/model/cluster';
import { InvalidStoreArgumentError, KeyLayout } from '../../../src/store';
import { roundTransactions, type RoundInput } from '../../../src/store/round-txns';
import { Gi, accepted, desired } from '../schedule/fixtures';

const keys = new KeyLayout();
const T1 = '2024-06-01T12:00:00.000Z';
const x = desired('x', 2, { memory: 2 * Gi });
const y = desired('y', 2, { memory: 2 * Gi });
// x and y swap two full nodes: the one round that needs a leave write.
const read = new Map<string, AcceptedJob>([
  ['x', accepted(x, ['a', 'a'])],
  ['y', accepted(y, ['b', 'b'])],
]);
const swap: RoundInput = { putJobs: [accepted(x, ['b', 'b']), accepted(y, ['a', 'a'])], deleteJobs: [], putRejections: [], deleteRejections: [], readJobs: read };

const keysOf = (chunks: Array<Array<{ key: string; value?: string }>>) => chunks.map((c) => c.map((w) => w.key.replace('/ozy/jobs/', '')));

describe('roundTransactions', () => {
  test('a round that fits one transaction is written as given, without leave writes', () => {
    const out = roundTransactions(keys, swap, T1);
    assert.deepEqual(keysOf(out.chunks), [['x', 'y']]);
    assert.equal(out.leaves, 0);
  });

  test('a round of several transactions is in the safe order, a key never twice in one', () => {
    // Three writes (leave x, put y, put x): x twice, so never all in one transaction.
    const out = roundTransactions(keys, swap, T1, { maxWrites: 1, maxBytes: 1 << 20 });
    assert.deepEqual(keysOf(out.chunks), [['x'], ['y'], ['x']]);
    assert.deepEqual(keysOf(roundTransactions(keys, { ...swap, deleteRejections: ['r'] }, T1, { maxWrites: 2, maxBytes: 1 << 20 }).chunks), [
      ['x', 'y'],
      ['x', '/ozy/rejections/r'],
    ]);
    assert.equal(out.leaves, 1);
    const leave = JSON.parse(out.chunks[0]![0]!.value!) as AcceptedJob;
    assert.deepEqual(leave.instances.map((p) => p.node), [null, null]);
    assert.equal(leave.specHash, x.specHash);
  });

  test('no writes: one empty transaction (the guard bump records the judged commit)', () => {
    assert.deepEqual(roundTransactions(keys, { ...swap, putJobs: [] }, T1).chunks, [[]]);
  });

  test('a round naming a key twice is refused', () => {
    assert.throws(() => roundTransactions(keys, { ...swap, deleteJobs: ['x'] }, T1), InvalidStoreArgumentError);
  });
});
