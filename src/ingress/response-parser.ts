// Reading an instance's HTTP/1.1 responses off a raw, pooled socket (pure:
// bytes in, heads and body pieces out).
//
// Why not Node's http client: with it, Node's response parser, agent and
// IncomingMessage streams were half of the ingress's CPU per request. What a
// proxy needs from a response is less: the status, the header lines as sent,
// and where the message ends (Content-Length, chunked, or the connection's
// close), so that the connection can carry the next request.
//
// Being strict here is what keeps a pooled connection in step: anything
// ambiguous about where a response ends (two different Content-Lengths, a
// header folded over two lines, a malformed chunk) is an error, the
// connection is dropped, and the client gets a 502 rather than somebody
// else's bytes.

/** Where a response's body ends. */
export type BodyKind =
  /** No body: a HEAD request, 204, 304 (and interim 1xx answers). */
  | 'none'
  /** Exactly `contentLength` bytes. */
  | 'length'
  /** Chunked transfer coding, ended by a zero-size chunk and trailers. */
  | 'chunked'
  /** Until the instance closes the connection. */
  | 'close';

export interface ResponseHead {
  status: number;
  reason: string;
  /**
   * The header lines to pass on to the client: name, value, … as sent
   * (latin1, spelling and repeats kept), without the hop-by-hop ones
   * (RFC 9110 §7.6.1, and any the Connection header names) and without
   * Transfer-Encoding (the client's connection is framed by Node's server).
   */
  headers: string[];
  body: BodyKind;
  /** The body's length when `body` is 'length'. */
  contentLength: number;
  /** The instance lets this connection carry another request after this response. */
  keepAlive: boolean;
  /** Bytes of the buffer the head took, the blank line included. */
  headBytes: number;
}

/** An answer no proxy can relay safely; the connection is dropped and the client gets a 502. */
export class BadResponseError extends Error {
  readonly code = 'OZY_BAD_RESPONSE';
}

/** A head bigger than this is refused (Node's own limit for received heads is 16 KiB). */
export const MAX_HEAD_BYTES = 64 * 1024;

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
/** Hop-by-hop names besides Connection and Transfer-Encoding (handled on their own). */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade']);
// The reason phrase may hold what a header value may (Node's writeHead refuses the rest).
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What Node's ServerResponse refuses in a header value (it would throw on it). */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * The head at the start of `buf`, or undefined when more bytes are needed.
 * `method` is the request's: a HEAD request's response has no body whatever
 * its headers say.
 */
export function parseResponseHead(buf: Buffer, method: string): ResponseHead | undefined {
  const end = buf.indexOf(CRLFCRLF);
  if (end < 0) {
    if (buf.length > MAX_HEAD_BYTES) throw new BadResponseError(`response head over ${MAX_HEAD_BYTES} bytes`);
    return undefined;
  }
  // One string for the head, walked line by line with indexOf: slices of it
  // cost less than an array of line strings (this runs once per request).
  const text = buf.toString('latin1', 0, end);
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const m = STATUS_LINE.exec(eol === text.length ? text : text.slice(0, eol));
  if (!m) throw new BadResponseError(`not an HTTP/1.x status line: ${JSON.stringify(text.slice(0, Math.min(eol, 80)))}`);
  const http10 = m[1] === '0';
  const status = Number(m[2]);
  const headers: string[] = [];
  let contentLength = -1;
  let transferEncoding: string | undefined;
  let connection = '';
  for (let pos = eol + 2; pos < text.length; pos = eol + 2) {
    eol = text.indexOf('\r\n', pos);
    if (eol < 0) eol = text.length;
    const colon = text.indexOf(':', pos);
    // A folded continuation line (obs-fold) or a name with spaces is how two parsers come to disagree.
    if (colon <= pos || colon > eol) throw new BadResponseError(`malformed header line: ${JSON.stringify(text.slice(pos, Math.min(eol, pos + 80)))}`);
    const name = text.slice(pos, colon);
    if (!TOKEN.test(name)) throw new BadResponseError(`malformed header name: ${JSON.stringify(name.slice(0, 80))}`);
    const value = text.slice(colon + 1, eol).trim();
    if (INVALID_VALUE.test(value)) throw new BadResponseError(`invalid character in header ${name}`);
    // Framing and hop-by-hop names have these lengths: the others skip toLowerCase.
    const len = name.length;
    if (len === 2 || len === 7 || len === 10 || len === 14 || len === 16 || len === 17 || len === 19) {
      const lower = name.toLowerCase();
      if (lower === 'content-length') contentLength = mergeLength(contentLength, value);
      else if (lower === 'transfer-encoding') {
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
        continue; // this process frames the client's response itself
      } else if (lower === 'connection') {
        connection += `,${value.toLowerCase()}`;
        continue;
      }
      if (HOP_BY_HOP.has(lower)) continue;
    }
    headers.push(name, value);
  }
  let keepAlive = http10 ? hasToken(connection, 'keep-alive') : !hasToken(connection, 'close');
  let body: BodyKind;
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) body = 'none';
  else if (transferEncoding !== undefined) {
    // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3), and a
    // message that sent both is not trusted to frame the next one.
    if (contentLength >= 0) keepAlive = false;
    const codings = transferEncoding.toLowerCase().split(',');
    if (codings[codings.length - 1]!.trim() === 'chunked') body = 'chunked';
    else {
      body = 'close';
      keepAlive = false;
    }
  } else if (contentLength >= 0) body = 'length';
  else {
    body = 'close';
    keepAlive = false;
  }
  return {
    status,
    reason: m[3] ?? '',
    // ",keep-alive" and ",close" (what instances send) name no header.
    headers: connection === '' || connection === ',keep-alive' || connection === ',close' ? headers : dropListed(headers, connection),
    body,
    contentLength: body === 'length' ? contentLength : 0,
    keepAlive,
    headBytes: end + 4,
  };
}

/** Headers the Connection header names are hop-by-hop too (its own tokens close/keep-alive name none we kept). */
function dropListed(headers: string[], connection: string): string[] {
  const listed = new Set(connection.split(',').map((t) => t.trim()).filter((t) => t.length > 0 && t !== 'close' && t !== 'keep-alive'));
  if (listed.size === 0) return headers;
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (!listed.has(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  return out;
}

const DIGITS = /^\d{1,15}$/;

/** Content-Length, allowing repeats of one value ("5, 5" or two lines) and nothing else. */
function mergeLength(prior: number, value: string): number {
  if (prior < 0 && DIGITS.test(value)) return Number(value); // the usual case: one plain number
  let n = prior;
  for (const part of value.split(',')) {
    const v = part.trim();
    if (!DIGITS.test(v)) throw new BadResponseError(`invalid content-length ${JSON.stringify(value.slice(0, 40))}`);
    const len = Number(v);
    if (n >= 0 && n !== len) throw new BadResponseError('conflicting content-length values');
    n = len;
  }
  return n;
}

function hasToken(list: string, token: string): boolean {
  if (list.indexOf(token) < 0) return false;
  return list.split(',').some((t) => t.trim() === token);
}

/** Receives the body pieces a ChunkedDecoder finds. */
export interface ChunkSink {
  chunkData(piece: Buffer): void;
}

const enum Step {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  TrailerLine,
  TrailerLf,
  FinalLf,
  Done,
}

/** Longest chunk-size line accepted (hex digits and extensions). */
const MAX_SIZE_LINE = 4_096;

/**
 * Incremental decoder of a chunked body (RFC 9112 §7.1), fed as bytes
 * arrive. The chunk data is handed on as slices of the buffers fed in (no
 * copy); extensions and trailers are read and dropped.
 */
export class ChunkedDecoder {
  private step = Step.Size;
  private size = 0;
  private digits = 0;
  private lineBytes = 0;

  /**
   * Decodes `buf` from `start`. Returns the index just past the end of the
   * message once it is complete (bytes after it belong to nobody), or -1
   * when it needs more.
   */
  feed(buf: Buffer, start: number, sink: ChunkSink): number {
    let i = start;
    const n = buf.length;
    while (i < n) {
      switch (this.step) {
        case Step.Size: {
          const c = buf[i]!;
          const d = hexValue(c);
          if (d >= 0) {
            if (++this.digits > 12) throw new BadResponseError('chunk size too large');
            this.size = this.size * 16 + d;
            i++;
          } else if (this.digits === 0) throw new BadResponseError('chunk size expected');
          else if (c === 0x0d) {
            this.step = Step.SizeLf;
            i++;
          } else if (c === 0x3b || c === 0x20 || c === 0x09) {
            this.step = Step.Extension;
            this.lineBytes = this.digits;
          } else throw new BadResponseError('malformed chunk size');
          break;
        }
        case Step.Extension: {
          const c = buf[i]!;
          if (c === 0x0d) this.step = Step.SizeLf;
          else if (c === 0x0a || ++this.lineBytes > MAX_SIZE_LINE) throw new BadResponseError('malformed chunk extension');
          i++;
          break;
        }
        case Step.SizeLf:
          if (buf[i] !== 0x0a) throw new BadResponseError('chunk size line not ended by CRLF');
          i++;
          this.digits = 0;
          if (this.size === 0) {
            this.step = Step.TrailerStart;
            this.lineBytes = 0;
          } else this.step = Step.Data;
          break;
        case Step.Data: {
          const take = Math.min(this.size, n - i);
          sink.chunkData(buf.subarray(i, i + take));
          i += take;
          this.size -= take;
          if (this.size === 0) this.step = Step.DataCr;
          break;
        }
        case Step.DataCr:
          if (buf[i] !== 0x0d) throw new BadResponseError('chunk data not followed by CRLF');
          this.step = Step.DataLf;
          i++;
          break;
        case Step.DataLf:
          if (buf[i] !== 0x0a) throw new BadResponseError('chunk data not followed by CRLF');
          this.step = Step.Size;
          i++;
          break;
        case Step.TrailerStart:
          // An empty line ends the message; anything else is a trailer field.
          if (buf[i] === 0x0d) this.step = Step.FinalLf;
          else if (buf[i] === 0x0a) throw new BadResponseError('trailer line not ended by CRLF');
          else this.step = Step.TrailerLine;
          i++;
          break;
        case Step.TrailerLine: {
          const c = buf[i]!;
          if (c === 0x0d) this.step = Step.TrailerLf;
          else if (c === 0x0a) throw new BadResponseError('trailer line not ended by CRLF');
          if (++this.lineBytes > MAX_HEAD_BYTES) throw new BadResponseError('trailers too large');
          i++;
          break;
        }
        case Step.TrailerLf:
          if (buf[i] !== 0x0a) throw new BadResponseError('trailer line not ended by CRLF');
          this.step = Step.TrailerStart;
          i++;
          break;
        case Step.FinalLf:
          if (buf[i] !== 0x0a) throw new BadResponseError('chunked body not ended by CRLF');
          this.step = Step.Done;
          return i + 1;
        case Step.Done:
          return i;
      }
    }
    return this.step === Step.Done ? i : -1;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}
