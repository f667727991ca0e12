import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Balancer, COOL_DOWN_MS } from '../../../src/ingress/balancer';
import type { Backend } from '../../../src/ingress/route-table';

const b = (n: number): Backend => ({ instance: `w-${n}`, node: 'n', host: 'h', port: n, address: `h:${n}` });

test('round robin per route; the rest of the order is the retry order', () => {
  const bal = new Balancer(() => 0);
  const list = [b(1), b(2), b(3)];
  const firsts = [0, 1, 2, 3].map(() => bal.order('r', list).map((x) => x.port));
  assert.deepEqual(firsts, [[1, 2, 3], [2, 3, 1], [3, 1, 2], [1, 2, 3]]);
  assert.deepEqual(bal.order('other', list)[0]?.port, 1, 'each route has its own turn');
  assert.deepEqual(bal.order('r', []), []);
});

test('a backend that refused goes last until the cool-down passes', () => {
  let now = 0;
  const bal = new Balancer(() => now);
  const list = [b(1), b(2)];
  bal.connectFailed('h:1');
  assert.deepEqual(bal.order('r', list).map((x) => x.port), [2, 1]);
  assert.deepEqual(bal.order('r', list).map((x) => x.port), [2, 1]);
  now = COOL_DOWN_MS;
  assert.deepEqual(bal.order('r', list).map((x) => x.port), [1, 2]);
});

test('a route table rebuilt mid-way: the turn carries over, the new list is used', () => {
  const bal = new Balancer(() => 0);
  assert.equal(bal.order('r', [b(1), b(2), b(3)])[0]?.port, 1);
  assert.deepEqual(bal.order('r', [b(1), b(4), b(3)]).map((x) => x.port), [4, 3, 1]);
});

test('routes with many backends rotate the same way', () => {
  const bal = new Balancer(() => 0);
  const list = Array.from({ length: 40 }, (_, i) => b(i));
  for (let i = 0; i < 41; i++) {
    const o = bal.order('r', list);
    assert.equal(o.length, 40);
    assert.equal(o[0]?.port, i % 40);
    assert.equal(o[39]?.port, (i + 39) % 40);
  }
});
