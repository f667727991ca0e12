// The part of pako 1.x (isomorphic-git's inflater, a direct dependency for
// source/pack-guard.ts) that is used here. pako ships no types.
declare module 'pako' {
  export class Inflate {
    constructor(options?: { chunkSize?: number });
    /** Feeds input; false once the stream ended or failed. */
    push(data: Uint8Array, mode?: boolean | number): boolean;
    /** Called with each chunk of output; the default keeps them (overridden to count and drop). */
    onData(chunk: Uint8Array): void;
    onEnd(status: number): void;
    ended: boolean;
    /** Non-zero after a failure, with `msg`. */
    err: number;
    msg: string;
    /** Input not consumed by the last push (after the stream's end: the bytes that follow it). */
    strm: { avail_in: number };
  }
}
