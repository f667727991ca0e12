import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidStoreArgumentError, MAX_WRITES_PER_TXN, ValueTooLargeError } from '../../../src/store';
import { assertDistinctKeys, chunkWrites, writeBytes, type KeyWrite } from '../../../src/store/chunks';

const put = (key: string, size = 10): KeyWrite => ({ key, value: 'x'.repeat(size) });

describe('chunkWrites', () => {
  test('cuts 300 writes into chunks of at most 64, keeping their order', () => {
    const writes = Array.from({ length: 300 }, (_, i) => put(`/ozy/jobs/j${i}`));
    const chunks = chunkWrites(writes);
    assert.deepEqual(chunks.map((c) => c.length), [64, 64, 64, 64, 44]);
    assert.equal(MAX_WRITES_PER_TXN, 64);
    assert.deepEqual(chunks.flat(), writes);
  });

  test('also cuts by bytes, so no request exceeds the budget', () => {
    const writes = [put('a', 600), put('b', 600), put('c', 600), { key: 'd' }];
    const chunks = chunkWrites(writes, { maxWrites: 64, maxBytes: 1300 });
    assert.deepEqual(chunks.map((c) => c.map((w) => w.key)), [['a', 'b'], ['c', 'd']]);
    for (const c of chunks) assert.ok(c.reduce((n, w) => n + writeBytes(w), 0) <= 1300);
  });

  test('a key written again starts a new chunk (etcd refuses a key twice in one txn)', () => {
    const chunks = chunkWrites([put('a'), put('b'), put('a'), put('c'), { key: 'b' }]);
    assert.deepEqual(chunks.map((c) => c.map((w) => w.key)), [['a', 'b'], ['a', 'c', 'b']]);
  });

  test('refuses a write larger than the budget; assertDistinctKeys refuses a round naming a key twice', () => {
    assert.throws(() => chunkWrites([put('a', 2000)], { maxWrites: 64, maxBytes: 1000 }), ValueTooLargeError);
    assert.throws(() => assertDistinctKeys([put('a'), { key: 'a' }]), InvalidStoreArgumentError);
    assert.doesNotThrow(() => assertDistinctKeys([put('a'), { key: 'b' }]));
  });

  test('no writes, no chunks', () => {
    assert.deepEqual(chunkWrites([]), []);
  });
});
