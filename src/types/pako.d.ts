// The part of pako 1.x (isomorphic-git's inflater, a direct dependency for
// source/object-inflater.ts) that is used here: zlib's low-level inflate
// API, ported line by line. pako ships no types.
declare module 'pako/lib/zlib/inflate' {
  export interface InflateStream {
    input: Uint8Array | null;
    next_in: number;
    avail_in: number;
    output: Uint8Array | null;
    next_out: number;
    avail_out: number;
    msg: string;
    /** zlib's internal state (only what object-inflater.ts touches). */
    state: { wsize: number; wbits: number };
  }
  export function inflateInit2(strm: InflateStream, windowBits: number): number;
  export function inflateReset(strm: InflateStream): number;
  export function inflate(strm: InflateStream, flush: number): number;
}

declare module 'pako/lib/zlib/zstream' {
  import type { InflateStream } from 'pako/lib/zlib/inflate';
  const ZStream: { new (): InflateStream };
  export default ZStream;
}

declare module 'pako/lib/zlib/constants' {
  export const Z_OK: number;
  export const Z_STREAM_END: number;
  export const Z_BUF_ERROR: number;
}
