// The first bytes an exec printed, for a failing exec health check's "why"
// (`exit 1: pg_isready: no response`). An attached exec without a TTY comes
// as the Docker multiplexed stream: frames of an 8-byte header (stream type
// 0/1/2, three zero bytes, a big-endian payload length) and the payload.
// Only the first `cap` payload bytes are kept: a chatty check costs nothing.

export class ExecOutput {
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private pending = Buffer.alloc(0);
  /** Payload bytes still to read of the current frame. */
  private frameLeft = 0;
  private raw = false;

  constructor(private readonly cap = 512) {}

  push(chunk: Buffer): void {
    if (this.keptBytes >= this.cap) return;
    if (this.raw) return this.keep(chunk);
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (buf.length > 0 && this.keptBytes < this.cap) {
      if (this.frameLeft > 0) {
        const take = buf.subarray(0, this.frameLeft);
        this.keep(take);
        this.frameLeft -= take.length;
        buf = buf.subarray(take.length);
        continue;
      }
      if (buf.length < 8) {
        this.pending = Buffer.from(buf);
        return;
      }
      if (buf[0]! > 2 || buf[1] !== 0 || buf[2] !== 0 || buf[3] !== 0) {
        // Not multiplexed (a TTY exec): the bytes are the output.
        this.raw = true;
        return this.keep(buf);
      }
      this.frameLeft = buf.readUInt32BE(4);
      buf = buf.subarray(8);
    }
  }

  private keep(b: Buffer): void {
    const room = this.cap - this.keptBytes;
    if (room <= 0) return;
    const part = b.length > room ? b.subarray(0, room) : b;
    this.kept.push(Buffer.from(part));
    this.keptBytes += part.length;
  }

  /** The output so far, as text. */
  text(): string {
    return Buffer.concat(this.kept).toString('utf8');
  }
}

/** The first non-empty line, trimmed and cut to `max` characters (control characters dropped). */
export function firstLine(text: string, max = 120): string {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = line.replace(/[\u0000-\u001f\u007f]/g, '');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}
