import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearerOf, challenge, checkBearer, sameSecret } from '../../../src/observe/bearer';

test('the right token passes; a missing, wrong, longer or shorter one is 401', () => {
  assert.deepEqual(checkBearer('Bearer s3cret', 's3cret'), { ok: true });
  assert.deepEqual(checkBearer('bearer   s3cret ', 's3cret'), { ok: true });
  for (const h of [undefined, '', 'Bearer', 'Basic czNjcmV0', 'Bearer s3cre', 'Bearer s3cret1', 'Bearer S3CRET', 's3cret']) {
    const v = checkBearer(h, 's3cret');
    assert.equal(v.ok, false, String(h));
    if (!v.ok) assert.equal(v.status, 401);
  }
});

test('an agent without a token serves no logs at all (403), whatever is presented', () => {
  for (const token of [undefined, '']) {
    const v = checkBearer('Bearer anything', token);
    assert.equal(v.ok, false);
    if (!v.ok) assert.equal(v.status, 403);
    const none = checkBearer(undefined, token);
    assert.equal(none.ok, false);
  }
});

test('sameSecret compares secrets of different lengths without throwing', () => {
  assert.equal(sameSecret('a', 'a'), true);
  assert.equal(sameSecret('a', 'ab'), false);
  assert.equal(sameSecret('', 'x'.repeat(1000)), false);
});

test('bearerOf and the challenge header', () => {
  assert.equal(bearerOf('Bearer abc.def-ghi'), 'abc.def-ghi');
  assert.equal(bearerOf('Bearer a b'), undefined);
  assert.equal(challenge('missing bearer token'), 'Bearer realm="ozy"');
  assert.equal(challenge('invalid bearer token'), 'Bearer realm="ozy", error="invalid_token"');
});
