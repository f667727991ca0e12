// One zlib inflater for all the objects of a pack, reset between them.
//
// The fetch guard (pack-guard.ts) must inflate every object to find where
// its zlib stream ends. pako's `new Inflate()` per object allocated a fresh
// state, its tables, a 32 KiB window and a 64 KiB output chunk each time:
// ~100 KiB of typed arrays per object, so a first clone of a 5,000-job
// repository churned ~1 GB through malloc, and the agent's RSS stayed near
// the peak after the garbage was collected (glibc keeps the freed brk heap).
// Here one stream state, window and output buffer serve the whole pack.
import { Z_BUF_ERROR, Z_OK, Z_STREAM_END } from 'pako/lib/zlib/constants';
import { inflate, inflateInit2, inflateReset, type InflateStream } from 'pako/lib/zlib/inflate';
import ZStream from 'pako/lib/zlib/zstream';

/** zlib-wrapped deflate with a 32 KiB window: what git writes. */
const WINDOW_BITS = 15;
const OUTPUT_BYTES = 16 * 1024;
const Z_NO_FLUSH = 0;

export type InflateProgress =
  /** All of `input` was taken; the stream goes on in the next chunk. */
  | { kind: 'more' }
  /** The stream ended; `rest` bytes at the end of `input` follow it. */
  | { kind: 'end'; rest: number }
  | { kind: 'error'; message: string };

export class ObjectInflater {
  private readonly strm: InflateStream = new ZStream();
  private readonly out = new Uint8Array(OUTPUT_BYTES);

  constructor() {
    if (inflateInit2(this.strm, WINDOW_BITS) !== Z_OK) throw new Error('cannot initialise the inflater');
  }

  /** Ready for the next object's stream; keeps the window and tables allocated. */
  reset(): void {
    inflateReset(this.strm);
    // pako 1.0.11's inflateReset zeroes wsize, and its updatewindow only sets
    // it again when the window is not allocated yet (zlib's C code also checks
    // wsize == 0): without this the reused window would never be filled and
    // a back-reference past the output chunk would fail.
    this.strm.state.wsize = 1 << this.strm.state.wbits;
  }

  /**
   * Inflates `input` (part of one zlib stream); `onData` sees each piece of
   * output, a view into a buffer reused by the next call (copy what you keep).
   */
  push(input: Uint8Array, onData: (chunk: Uint8Array) => void): InflateProgress {
    const s = this.strm;
    s.input = input;
    s.next_in = 0;
    s.avail_in = input.length;
    for (;;) {
      s.output = this.out;
      s.next_out = 0;
      s.avail_out = this.out.length;
      const status = inflate(s, Z_NO_FLUSH);
      const produced = this.out.length - s.avail_out;
      if (produced > 0) onData(this.out.subarray(0, produced));
      if (status === Z_STREAM_END) return { kind: 'end', rest: s.avail_in };
      if (status !== Z_OK && status !== Z_BUF_ERROR) return { kind: 'error', message: s.msg || `inflate failed (${status})` };
      // All input taken and no output pending: the stream goes on in the next chunk.
      if (s.avail_in === 0 && s.avail_out > 0) return { kind: 'more' };
      // Input and room left, yet no progress: a stream zlib cannot go on with.
      if (status === Z_BUF_ERROR) return { kind: 'error', message: 'inflate made no progress' };
      // Otherwise the output buffer filled up: drain it and go on.
    }
  }
}
