import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FreeIndex } from '../../../src/schedule';
import { prng } from './fixtures';

function assertSorted(index: FreeIndex, free: Float64Array): void {
  const seen = new Set<number>();
  for (let i = 0; i < index.order.length; i++) {
    const id = index.order[i];
    seen.add(id);
    if (i > 0) {
      const prev = index.order[i - 1];
      assert.ok(free[prev] < free[id] || (free[prev] === free[id] && prev < id), `out of order at ${i}`);
    }
  }
  assert.equal(seen.size, free.length, 'every node exactly once');
}

describe('FreeIndex', () => {
  test('orders nodes by free amount, then id', () => {
    const free = Float64Array.from([5, 1, 5, 3]);
    const index = new FreeIndex(free);
    assert.deepEqual([...index.order], [1, 3, 0, 2]);
  });

  test('firstWithAtLeast finds the best fit position', () => {
    const free = Float64Array.from([5, 1, 5, 3]);
    const index = new FreeIndex(free);
    assert.equal(index.order[index.firstWithAtLeast(2)], 3);
    assert.equal(index.order[index.firstWithAtLeast(4)], 0);
    assert.equal(index.firstWithAtLeast(6), 4, 'none has enough: past the end');
  });

  test('stays sorted under many random changes, duplicates and negatives included', () => {
    const rand = prng(42);
    const free = Float64Array.from({ length: 50 }, () => Math.floor(rand() * 10));
    const index = new FreeIndex(free);
    for (let step = 0; step < 2000; step++) {
      const id = Math.floor(rand() * free.length);
      const before = free[id];
      free[id] = Math.floor(rand() * 14) - 2;
      index.moved(id, before);
      assertSorted(index, free);
    }
  });
});
