// Bounds on what a fetch may bring in, checked while the pack streams in.
//
// isomorphic-git's fetch collects the whole pack in memory, writes it to
// disk, then indexes it by inflating every object. A repository that grew
// past reason (a 200 MB file pushed under jobs/, a zip bomb of zeros, a
// delta that expands a small base into gigabytes) would fill the agent's
// memory and disk long before the renderer's limits could say no. So the
// HTTP client hands the upload-pack response through this guard, which
// reads what isomorphic-git will read — pkt-lines, side band 1, the pack —
// and aborts the response as soon as a limit is crossed:
// - the pack's bytes on the wire (memory and disk);
// - the number of objects;
// - any object's size, read from its header before its data arrives (for a
//   delta: the size of the object it makes, from the delta's own header);
// - the sum of the objects' sizes (the work of indexing).
// Object boundaries are found by inflating each object's data with pako
// (isomorphic-git's own inflater; one inflater reused for the whole pack,
// object-inflater.ts) and dropping the output as it comes.
import { GitRepoTooLargeError } from './errors';
import { ObjectInflater } from './object-inflater';

export interface FetchLimits {
  /** Bytes of one fetched pack. */
  maxPackBytes: number;
  /** Objects in one fetched pack. */
  maxObjects: number;
  /** Size of any one object (blob, tree, delta result). */
  maxObjectBytes: number;
  /** Sum of the objects' sizes in one pack. */
  maxInflatedBytes: number;
  /** The ref advertisement (every branch and tag, before any fetch): a pusher can create refs by the thousand. */
  maxRefAdvertisementBytes: number;
}

/** What the HTTP client shows each chunk of a guarded response. */
export interface ResponseGuard {
  /** Throws GitRepoTooLargeError when the response has crossed a limit. */
  push(chunk: Uint8Array): void;
}

const MiB = 1024 * 1024;

/**
 * Far above a job repository's needs (relevant files may total 64 MiB,
 * one file 1 MiB: render/limits.ts), far below what would hurt an agent
 * that shares its node with the workloads. A first clone brings the whole
 * history: a repository beyond these is refused until it is slimmed.
 */
export const DEFAULT_FETCH_LIMITS: FetchLimits = {
  maxPackBytes: 128 * MiB,
  maxObjects: 1_000_000,
  maxObjectBytes: 16 * MiB,
  maxInflatedBytes: 1024 * MiB,
  maxRefAdvertisementBytes: 16 * MiB,
};

/** The ref advertisement (GET info/refs): only its length is bounded. */
export class RefAdvertisementGuard implements ResponseGuard {
  private bytes = 0;
  constructor(private readonly limits: Pick<FetchLimits, 'maxRefAdvertisementBytes'> = DEFAULT_FETCH_LIMITS) {}
  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limits.maxRefAdvertisementBytes) {
      throw new GitRepoTooLargeError(`the list of branches and tags is larger than ${this.limits.maxRefAdvertisementBytes} bytes`);
    }
  }
}

const OBJ_OFS_DELTA = 6;
const OBJ_REF_DELTA = 7;
const VALID_TYPES = new Set([1, 2, 3, 4, OBJ_OFS_DELTA, OBJ_REF_DELTA]);

type PackState =
  | { kind: 'header'; bytes: number[] }
  | { kind: 'entry'; bytes: number[] }
  | { kind: 'base'; type: number; remaining: number }
  | { kind: 'data'; delta: boolean; head: number[] }
  | { kind: 'trailer' }
  /** Something isomorphic-git will refuse anyway (or a parse failure of ours): stop looking, pass the rest on. */
  | { kind: 'off' };

/**
 * Follows one upload-pack response. `push` each chunk as it arrives; it
 * throws GitRepoTooLargeError at the first limit crossed. Pure: no I/O.
 */
export class UploadPackGuard implements ResponseGuard {
  /** Pack bytes seen. */
  packBytes = 0;
  objects = 0;
  inflatedBytes = 0;
  private declaredObjects = 0;
  private pkt: { need: 'length'; buf: number[] } | { need: 'body'; remaining: number; band: number | undefined } = { need: 'length', buf: [] };
  private pack: PackState = { kind: 'header', bytes: [] };
  private readonly inflater = new ObjectInflater();

  constructor(private readonly limits: FetchLimits = DEFAULT_FETCH_LIMITS) {}

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.pkt.need === 'length') {
        this.pkt.buf.push(chunk[i++]!);
        if (this.pkt.buf.length < 4) continue;
        const hex = String.fromCharCode(...this.pkt.buf);
        this.pkt.buf = [];
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          // Not pkt-line framing (no side band): isomorphic-git cannot read it either.
          this.pack = { kind: 'off' };
          return;
        }
        const length = parseInt(hex, 16);
        if (length >= 4) this.pkt = { need: 'body', remaining: length - 4, band: undefined };
        continue;
      }
      // Inside a pkt-line: its first byte says the band; band 1 carries the pack.
      if (this.pkt.band === undefined) {
        this.pkt.band = chunk[i++]!;
        this.pkt.remaining--;
        if (this.pkt.remaining === 0) this.pkt = { need: 'length', buf: [] };
        continue;
      }
      const n = Math.min(this.pkt.remaining, chunk.length - i);
      if (this.pkt.band === 1) this.packData(chunk.subarray(i, i + n));
      i += n;
      this.pkt.remaining -= n;
      if (this.pkt.remaining === 0) this.pkt = { need: 'length', buf: [] };
    }
  }

  private packData(data: Uint8Array): void {
    this.packBytes += data.length;
    if (this.packBytes > this.limits.maxPackBytes) {
      this.refuse(`the pack is larger than ${this.limits.maxPackBytes} bytes`);
    }
    let i = 0;
    while (i < data.length) {
      const s = this.pack;
      switch (s.kind) {
        case 'off':
        case 'trailer':
          return;
        case 'header': {
          s.bytes.push(data[i++]!);
          if (s.bytes.length < 12) break;
          const b = Buffer.from(s.bytes);
          if (b.toString('latin1', 0, 4) !== 'PACK') {
            this.pack = { kind: 'off' };
            return;
          }
          this.declaredObjects = b.readUInt32BE(8);
          if (this.declaredObjects > this.limits.maxObjects) {
            this.refuse(`the pack has ${this.declaredObjects} objects, more than ${this.limits.maxObjects}`);
          }
          this.pack = this.declaredObjects === 0 ? { kind: 'trailer' } : { kind: 'entry', bytes: [] };
          break;
        }
        case 'entry': {
          const byte = data[i++]!;
          s.bytes.push(byte);
          if ((byte & 0x80) !== 0) {
            if (s.bytes.length > 10) this.pack = { kind: 'off' };
            break;
          }
          this.startObject(s.bytes);
          break;
        }
        case 'base': {
          // A ref delta names its base by a 20-byte oid; an offset delta by a varint.
          const byte = data[i++]!;
          if (s.type === OBJ_REF_DELTA) {
            if (--s.remaining === 0) this.startData(true);
          } else if ((byte & 0x80) === 0) {
            this.startData(true);
          }
          break;
        }
        case 'data': {
          const progress = this.inflater.push(data.subarray(i), (out) => {
            // Output is counted, never kept; a delta's first bytes are its header.
            if (s.delta && s.head.length < 20) for (let k = 0; k < out.length && s.head.length < 20; k++) s.head.push(out[k]!);
          });
          if (progress.kind === 'error') {
            this.pack = { kind: 'off' };
            return;
          }
          if (s.delta) this.checkDeltaTarget(s);
          if (progress.kind === 'more') return;
          // The bytes after this object's zlib stream belong to the next entry.
          i = data.length - progress.rest;
          this.objects++;
          this.pack = this.objects >= this.declaredObjects ? { kind: 'trailer' } : { kind: 'entry', bytes: [] };
          break;
        }
      }
    }
  }

  /** An entry's header: type in bits 4–6 of the first byte, size in base-128 after 4 bits. */
  private startObject(bytes: number[]): void {
    const type = (bytes[0]! >> 4) & 7;
    let size = bytes[0]! & 0x0f;
    for (let k = 1; k < bytes.length; k++) size += (bytes[k]! & 0x7f) * 2 ** (4 + 7 * (k - 1));
    if (!VALID_TYPES.has(type)) {
      this.pack = { kind: 'off' };
      return;
    }
    // For a delta this is the delta's own size; what it makes is checked once its header is inflated.
    this.checkObject(size);
    if (type === OBJ_REF_DELTA || type === OBJ_OFS_DELTA) {
      this.pack = { kind: 'base', type, remaining: 20 };
    } else {
      this.inflatedBytes += size;
      this.checkTotal();
      this.startData(false);
    }
  }

  private startData(delta: boolean): void {
    this.inflater.reset();
    this.pack = { kind: 'data', delta, head: [] };
  }

  /** A delta begins with two varints, the base's size and the result's: the result is checked like any object. */
  private checkDeltaTarget(s: Extract<PackState, { kind: 'data' }>): void {
    let seen = 0;
    let start = 0;
    for (let k = 0; k < s.head.length; k++) {
      if ((s.head[k]! & 0x80) !== 0) continue;
      seen++;
      if (seen === 1) start = k + 1;
      if (seen === 2) {
        let target = 0;
        for (let j = start; j <= k; j++) target += (s.head[j]! & 0x7f) * 2 ** (7 * (j - start));
        s.delta = false; // checked once
        this.checkObject(target);
        this.inflatedBytes += target;
        this.checkTotal();
        return;
      }
    }
  }

  private checkObject(size: number): void {
    if (size > this.limits.maxObjectBytes) this.refuse(`an object of ${size} bytes is larger than ${this.limits.maxObjectBytes} bytes`);
  }

  private checkTotal(): void {
    if (this.inflatedBytes > this.limits.maxInflatedBytes) {
      this.refuse(`the pack's objects come to more than ${this.limits.maxInflatedBytes} bytes`);
    }
  }

  private refuse(why: string): never {
    this.pack = { kind: 'off' };
    throw new GitRepoTooLargeError(why);
  }
}

