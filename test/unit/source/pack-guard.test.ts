// UploadPackGuard over upload-pack responses built here byte by byte: side
// band 1 pkt-lines carrying a pack of zlib'd objects and deltas, fed in
// chunks of every size. Limits are small so the hostile packs stay cheap.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { GitRepoTooLargeError } from '../../../src/source/errors';
import { DEFAULT_FETCH_LIMITS, RefAdvertisementGuard, UploadPackGuard, type FetchLimits } from '../../../src/source/pack-guard';

type Entry = { type: 1 | 2 | 3; data: Buffer } | { type: 6; baseDistance: number; delta: Buffer } | { type: 7; base: string; delta: Buffer };

function varint128(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** Type and size: 3 bits of type, 4 bits of size, then base-128 continuation. */
function entryHeader(type: number, size: number): Buffer {
  const bytes = [(type << 4) | (size & 0x0f)];
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes[bytes.length - 1]! |= 0x80;
    bytes.push(rest % 128);
    rest = Math.floor(rest / 128);
  }
  return Buffer.from(bytes);
}

/** A delta: base size, result size, then one "insert" instruction per 127 bytes of `insert`. */
function delta(baseSize: number, resultSize: number, insert = Buffer.from('x')): Buffer {
  const parts = [Buffer.from(varint128(baseSize)), Buffer.from(varint128(resultSize))];
  for (let i = 0; i < insert.length; i += 127) {
    const piece = insert.subarray(i, i + 127);
    parts.push(Buffer.from([piece.length]), piece);
  }
  return Buffer.concat(parts);
}

function pack(entries: Entry[]): Buffer {
  const head = Buffer.alloc(12);
  head.write('PACK', 0, 'latin1');
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(entries.length, 8);
  const parts: Buffer[] = [head];
  for (const e of entries) {
    if (e.type === 6) parts.push(entryHeader(6, e.delta.length), Buffer.from([e.baseDistance & 0x7f]), zlib.deflateSync(e.delta));
    else if (e.type === 7) parts.push(entryHeader(7, e.delta.length), Buffer.from(e.base, 'hex'), zlib.deflateSync(e.delta));
    else parts.push(entryHeader(e.type, e.data.length), zlib.deflateSync(e.data));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

function pktLine(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0'), 'latin1'), payload]);
}

/** What git upload-pack answers with side-band-64k: NAK, progress, the pack on band 1, a flush. */
function response(packBytes: Buffer): Buffer {
  const parts = [pktLine(Buffer.from('NAK\n')), pktLine(Buffer.from('\x02Counting objects: 3, done.\n', 'latin1'))];
  for (let i = 0; i < packBytes.length; i += 65515) parts.push(pktLine(Buffer.concat([Buffer.from([1]), packBytes.subarray(i, i + 65515)])));
  parts.push(Buffer.from('0000'));
  return Buffer.concat(parts);
}

function feed(bytes: Buffer, limits: FetchLimits, chunk: (i: number) => number = () => 4096): UploadPackGuard {
  const guard = new UploadPackGuard(limits);
  for (let i = 0, n = 0; i < bytes.length; n++) {
    const size = Math.max(1, chunk(n));
    guard.push(bytes.subarray(i, i + size));
    i += size;
  }
  return guard;
}

const small: FetchLimits = { maxPackBytes: 1 << 20, maxObjects: 100, maxObjectBytes: 256 << 10, maxInflatedBytes: 1 << 20, maxRefAdvertisementBytes: 1 << 20 };

function refusal(run: () => unknown, why: RegExp): void {
  assert.throws(run, (err: unknown) => err instanceof GitRepoTooLargeError && err.code === 'GIT_REPO_TOO_LARGE' && why.test(err.reason));
}

describe('UploadPackGuard', () => {
  const normal = pack([
    { type: 3, data: Buffer.from('name: web\n') },
    { type: 3, data: Buffer.alloc(100_000, 'y') },
    { type: 6, baseDistance: 20, delta: delta(100_000, 100_010, Buffer.alloc(300, 'z')) },
    { type: 7, base: 'ab'.repeat(20), delta: delta(10, 12) },
    { type: 2, data: Buffer.from('100644 web.yaml\0' + 'x'.repeat(20)) },
    { type: 1, data: Buffer.from('tree abc\n\ncommit\n') },
  ]);

  test('a normal pack passes whatever the chunking; objects and their sizes are counted (a delta by what it makes)', () => {
    for (const chunking of [() => 1, () => 7, (n: number) => (n * 37) % 301, () => 65_536]) {
      const g = feed(response(normal), small, chunking);
      assert.equal(g.objects, 6);
      assert.equal(g.inflatedBytes, 10 + 100_000 + 100_010 + 12 + 36 + 17);
      assert.equal(g.packBytes, normal.length);
    }
  });

  test('one inflater serves the whole pack: back-references further than its output chunk, in every object', () => {
    // Each blob repeats a random 20 KiB block: the repeat refers 20 KiB back,
    // beyond the inflater's 16 KiB output chunk, so it must come from the
    // window, which must work again after the reset between objects.
    const blobs = Array.from({ length: 5 }, () => {
      const block = randomBytes(20 << 10);
      return { type: 3 as const, data: Buffer.concat([block, block]) };
    });
    const bytes = response(pack(blobs));
    for (const chunking of [() => 1, (n: number) => (n * 37) % 301, () => 65_536]) {
      const g = feed(bytes, { ...small, maxInflatedBytes: 4 << 20 }, chunking);
      assert.equal(g.objects, 5);
      assert.equal(g.inflatedBytes, 5 * (40 << 10));
    }
  });

  test('an object over the limit is refused from its header, before any of its data arrives', () => {
    const bytes = response(pack([{ type: 3, data: Buffer.from('ok') }, { type: 3, data: Buffer.alloc(300 << 10) }]));
    const guard = new UploadPackGuard(small);
    // Everything up to the big object's header (NAK, progress, the band byte, the pack header, the first object) passes.
    const headerAt = bytes.indexOf(entryHeader(3, 300 << 10));
    guard.push(bytes.subarray(0, headerAt));
    refusal(() => guard.push(bytes.subarray(headerAt, headerAt + 4)), /object of 307200 bytes is larger than 262144/);
  });

  test('a 200 MB object header under the default limits', () => {
    const head = Buffer.concat([Buffer.from('PACK'), Buffer.from([0, 0, 0, 2, 0, 0, 0, 1]), entryHeader(3, 200 * 1024 * 1024)]);
    refusal(() => feed(response(head), DEFAULT_FETCH_LIMITS), /209715200 bytes/);
  });

  test('zeros that compress to little but add up: refused by the total of object sizes', () => {
    const bomb = pack(Array.from({ length: 8 }, () => ({ type: 3 as const, data: Buffer.alloc(200 << 10) })));
    assert.ok(bomb.length < 10_000, `the bomb is small on the wire (${bomb.length} bytes)`);
    refusal(() => feed(response(bomb), small), /objects come to more than 1048576 bytes/);
  });

  test('a small delta that would make a huge object is refused by the size it declares for its result', () => {
    const bomb = pack([{ type: 3, data: Buffer.from('base') }, { type: 6, baseDistance: 10, delta: delta(4, 2 ** 40) }]);
    refusal(() => feed(response(bomb), small), /object of 1099511627776 bytes/);
    const refBomb = pack([{ type: 7, base: 'cd'.repeat(20), delta: delta(4, 2 ** 33) }]);
    refusal(() => feed(response(refBomb), small, () => 3), /object of 8589934592 bytes/);
  });

  test('a pack longer than maxPackBytes, or declaring more objects than maxObjects', () => {
    const incompressible = pack([{ type: 3, data: randomBytes(5000) }]);
    refusal(() => feed(response(incompressible), { ...small, maxPackBytes: 4000 }), /larger than 4000 bytes/);
    assert.equal(feed(response(incompressible), { ...small, maxPackBytes: 6000 }).objects, 1);
    refusal(() => feed(response(normal), { ...small, maxObjects: 5 }), /6 objects, more than 5/);
  });

  test('what isomorphic-git cannot read either (no side band, not a pack) passes untouched', () => {
    const raw = Buffer.concat([pktLine(Buffer.from('NAK\n')), Buffer.from('PACK'), Buffer.alloc(100)]);
    assert.equal(feed(raw, small).objects, 0);
    assert.equal(feed(response(Buffer.from('NOT A PACK AT ALL')), small).objects, 0);
  });

  test('a ref advertisement (every branch and tag) longer than its limit', () => {
    const guard = new RefAdvertisementGuard({ maxRefAdvertisementBytes: 1000 });
    const line = pktLine(Buffer.from(`${'a'.repeat(40)} refs/tags/t\n`));
    for (let sent = 0; sent + line.length <= 1000; sent += line.length) guard.push(line);
    refusal(() => guard.push(line), /branches and tags is larger than 1000 bytes/);
  });
});
