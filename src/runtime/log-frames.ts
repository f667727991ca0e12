// The Engine API's multiplexed log stream, read incrementally (pure): each
// frame is an 8-byte header (stream type 1 stdout / 2 stderr, 3 zero bytes,
// big-endian payload length) and the payload. Chunks from the socket cut
// frames anywhere, so a partial frame waits for the next chunk. (facts.ts
// demuxStream splits a whole buffer; this one follows a live stream.)

export interface LogFrame {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

export class LogFrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** The complete frames `chunk` finishes; the rest is kept for the next chunk. */
  push(chunk: Buffer): LogFrame[] {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: LogFrame[] = [];
    let at = 0;
    while (at + 8 <= buf.length) {
      const len = buf.readUInt32BE(at + 4);
      if (at + 8 + len > buf.length) break;
      out.push({ stream: buf[at] === 2 ? 'stderr' : 'stdout', data: buf.subarray(at + 8, at + 8 + len) });
      at += 8 + len;
    }
    // Copied: the kept tail must not pin the whole chunk.
    this.pending = Buffer.from(buf.subarray(at));
    return out;
  }

  /** Bytes of an unfinished frame (a stream that ended here was cut short). */
  get buffered(): number {
    return this.pending.length;
  }
}
