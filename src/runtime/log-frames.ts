// The Engine API's multiplexed log stream, read incrementally (pure): each
// frame is an 8-byte header (stream type 1 stdout / 2 stderr, 3 zero bytes,
// big-endian payload length) and the payload. Chunks from the socket cut
// frames anywhere, so a partial frame waits for the next chunk.

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

const NEWLINE = 0x0a;

/** Every complete frame of a whole (non-follow) log response; a cut-off last frame is dropped. */
export function framesOf(buf: Buffer): LogFrame[] {
  return new LogFrameSplitter().push(buf);
}

/**
 * The frames holding the last `lines` lines of a log, counted over both
 * streams as the engine's `tail` would (a line ends at "\n"; an unended last
 * piece counts as one). Why not ask the engine: podman 4.3's `tail` drops the
 * pieces of a line written in several writes (busybox sh writes "sh: ",
 * the message and "\n" separately) and returns only the "\n" (see
 * src/runtime/README.md). A frame that holds more lines than are left is cut after
 * its newline.
 */
export function lastLines(frames: readonly LogFrame[], lines: number): LogFrame[] {
  if (lines <= 0) return [];
  // Lines are counted at the newline that ends them; an unended last piece is one already.
  const end = frames[frames.length - 1]?.data;
  let seen = end !== undefined && end.length > 0 && end[end.length - 1] !== NEWLINE ? 1 : 0;
  for (let i = frames.length - 1; i >= 0; i--) {
    const { stream, data } = frames[i]!;
    // (lastIndexOf with a negative offset counts from the end: stop at 0 instead.)
    for (let at = data.lastIndexOf(NEWLINE); at >= 0; at = at > 0 ? data.lastIndexOf(NEWLINE, at - 1) : -1) {
      if (seen === lines) return [{ stream, data: data.subarray(at + 1) }, ...frames.slice(i + 1)].filter((f) => f.data.length > 0);
      seen++;
    }
  }
  return frames.slice();
}

/** The frames holding at least the last `bytes` bytes of a log (whole frames). */
export function lastBytes(frames: readonly LogFrame[], bytes: number): LogFrame[] {
  let total = 0;
  let i = frames.length;
  while (i > 0 && total < bytes) total += frames[--i]!.data.length;
  return frames.slice(i);
}

/** stdout and stderr of some frames, each as text. */
export function splitStreams(frames: readonly LogFrame[]): { stdout: string; stderr: string } {
  const pick = (s: LogFrame['stream']): string => Buffer.concat(frames.filter((f) => f.stream === s).map((f) => f.data)).toString('utf8');
  return { stdout: pick('stdout'), stderr: pick('stderr') };
}
