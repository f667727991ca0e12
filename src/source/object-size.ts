// The size of a git object without inflating it.
//
// A tree entry names a blob by oid only; isomorphic-git has no size query
// (readObject and readBlob inflate the whole object, and `format:
// 'deflated'` exists only for loose objects), so a 200 MB blob under jobs/
// would be inflated into memory just to learn that it is too large. The
// size is written in front of every object, though:
// - loose object: zlib("<type> <size>\0" + content): inflate a few bytes;
// - packed object: the pack entry's header holds type and size (varint);
//   for a delta that is the delta's size, and the object's own size is the
//   second varint at the start of the (inflated) delta.
// The pack's .idx (version 2, what isomorphic-git writes) gives the entry's
// offset. Reads here are a few hundred bytes per object; .idx files are
// kept parsed until they disappear (a re-clone, clone-compaction.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ObjectInflater } from './object-inflater';

const IDX_MAGIC = 0xff744f63; // "\377tOc"
const OBJ_OFS_DELTA = 6;
const OBJ_REF_DELTA = 7;
/** Compressed bytes read to find a header; doubled while the inflated output is too short. */
const FIRST_WINDOW = 64;
const MAX_WINDOW = 64 * 1024;

interface PackIndex {
  /** The .pack file beside the .idx. */
  pack: string;
  count: number;
  fanout: Uint32Array;
  buf: Buffer;
}

export class ObjectSizes {
  private readonly indexes = new Map<string, PackIndex>();
  private listed = false;
  /** Shared by concurrent lookups: each inflates with no await between reset and result. */
  private readonly inflater = new ObjectInflater();

  constructor(private readonly gitdir: string) {}

  /** Forget the list of packs (call after a fetch or a compaction adds or removes some). */
  refresh(): void {
    this.listed = false;
  }

  /** The object's size in bytes, or undefined when it is not found or its storage is not understood. */
  async sizeOf(oid: string): Promise<number | undefined> {
    if (!/^[0-9a-f]{40}$/.test(oid)) return undefined;
    // Packs first: after a clone nearly every object is packed, and the index
    // lookup costs no I/O (probing for a loose file first was a failed open
    // per blob). A pack a compaction removed meanwhile falls back to loose.
    await this.loadIndexes();
    for (const idx of this.indexes.values()) {
      const offset = findOffset(idx, oid);
      if (offset !== undefined) {
        const size = await packedSize(idx.pack, offset, this.inflater).catch(() => undefined);
        if (size !== undefined) return size;
      }
    }
    return this.looseSize(oid);
  }

  private async looseSize(oid: string): Promise<number | undefined> {
    const file = path.join(this.gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
    const head = await inflatedPrefix(file, 0, (out) => out.indexOf(0) >= 0, this.inflater).catch(() => undefined);
    if (head === undefined) return undefined;
    const m = /^(blob|tree|commit|tag) ([0-9]+)\0/.exec(head.subarray(0, head.indexOf(0) + 1).toString('latin1'));
    return m ? Number(m[2]) : undefined;
  }

  private async loadIndexes(): Promise<void> {
    if (this.listed) return;
    const dir = path.join(this.gitdir, 'objects', 'pack');
    const names = new Set((await fs.promises.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.idx')));
    for (const name of this.indexes.keys()) if (!names.has(name)) this.indexes.delete(name);
    for (const name of names) {
      if (this.indexes.has(name)) continue;
      const idx = parseIndex(await fs.promises.readFile(path.join(dir, name)), path.join(dir, name.replace(/\.idx$/, '.pack')));
      if (idx) this.indexes.set(name, idx);
    }
    this.listed = true;
  }
}

/** A version 2 .idx; undefined for anything else (the caller then falls back to reading the object). */
export function parseIndex(buf: Buffer, pack: string): PackIndex | undefined {
  if (buf.length < 8 + 256 * 4 || buf.readUInt32BE(0) !== IDX_MAGIC || buf.readUInt32BE(4) !== 2) return undefined;
  const fanout = new Uint32Array(256);
  for (let i = 0; i < 256; i++) fanout[i] = buf.readUInt32BE(8 + i * 4);
  const count = fanout[255]!;
  if (buf.length < 8 + 1024 + count * 28) return undefined;
  return { pack, count, fanout, buf };
}

/** Binary search of the sorted oid table within the first byte's fan-out range. */
export function findOffset(idx: PackIndex, oid: string): number | undefined {
  const target = Buffer.from(oid, 'hex');
  const first = target[0]!;
  let lo = first === 0 ? 0 : idx.fanout[first - 1]!;
  let hi = idx.fanout[first]!;
  const oids = 8 + 1024;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    // The entry at `mid` compared with the target.
    const cmp = idx.buf.compare(target, 0, 20, oids + mid * 20, oids + mid * 20 + 20);
    if (cmp === 0) return offsetAt(idx, mid);
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return undefined;
}

function offsetAt(idx: PackIndex, i: number): number {
  const offsets = 8 + 1024 + idx.count * 24;
  const small = idx.buf.readUInt32BE(offsets + i * 4);
  if ((small & 0x80000000) === 0) return small;
  // Packs over 2 GiB: the entry indexes a table of 8-byte offsets.
  const large = offsets + idx.count * 4 + (small & 0x7fffffff) * 8;
  return Number(idx.buf.readBigUInt64BE(large));
}

/** The size of the object whose pack entry starts at `offset`. */
async function packedSize(pack: string, offset: number, inflater: ObjectInflater): Promise<number | undefined> {
  const header = await readAt(pack, offset, 32);
  const { type, size, used } = readEntryHeader(header);
  if (type !== OBJ_OFS_DELTA && type !== OBJ_REF_DELTA) return size;
  let skip = used;
  if (type === OBJ_REF_DELTA) skip += 20;
  else {
    while (skip < header.length && (header[skip]! & 0x80) !== 0) skip++;
    skip++;
  }
  // A delta starts with two varints: the base's size, then the result's.
  const delta = await inflatedPrefix(pack, offset + skip, (out) => varintsComplete(out, 2), inflater);
  const [, target] = readVarints(delta, 2);
  return target;
}

/** Type (bits 4–6) and size (little-endian base-128, 4 bits in the first byte) of a pack entry. */
export function readEntryHeader(buf: Buffer): { type: number; size: number; used: number } {
  let byte = buf[0]!;
  const type = (byte >> 4) & 7;
  let size = byte & 0x0f;
  let shift = 4;
  let i = 1;
  while ((byte & 0x80) !== 0) {
    byte = buf[i++]!;
    size += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  }
  return { type, size, used: i };
}

function varintsComplete(buf: Buffer, n: number): boolean {
  let seen = 0;
  for (const b of buf) if ((b & 0x80) === 0 && ++seen === n) return true;
  return false;
}

/** `n` little-endian base-128 varints (the delta header's encoding). */
export function readVarints(buf: Buffer, n: number): number[] {
  const out: number[] = [];
  let i = 0;
  for (let k = 0; k < n; k++) {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = buf[i++]!;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while ((byte & 0x80) !== 0);
    out.push(value);
  }
  return out;
}

async function readAt(file: string, position: number, length: number): Promise<Buffer> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Inflates the zlib stream at `position` only as far as `enough` needs:
 * a small window of compressed bytes first, doubled while the output falls
 * short. Output is bounded by what the window can hold (zlib expands at
 * most ~1032x), never the object's full size.
 */
async function inflatedPrefix(file: string, position: number, enough: (out: Buffer) => boolean, inflater: ObjectInflater): Promise<Buffer> {
  for (let window = FIRST_WINDOW; ; window *= 2) {
    const input = await readAt(file, position, window);
    // What this much of the stream decodes to (a truncated stream is not an error here).
    const pieces: Buffer[] = [];
    inflater.reset();
    const progress = input.length === 0 ? ({ kind: 'more' } as const) : inflater.push(input, (chunk) => pieces.push(Buffer.from(chunk)));
    if (progress.kind === 'error') throw new Error(`${progress.message} at ${position} of ${file}`);
    const out = Buffer.concat(pieces);
    if (enough(out)) return out;
    if (input.length < window || window >= MAX_WINDOW) throw new Error(`no object header within ${window} bytes at ${position} of ${file}`);
  }
}
