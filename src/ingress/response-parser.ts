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
  readonly status: number;
  readonly reason: string;
  /**
   * The header lines to pass on to the client: name, value, … as sent
   * (latin1, spelling and repeats kept), without the hop-by-hop ones
   * (RFC 9110 §7.6.1, and any the Connection header names) and without
   * Transfer-Encoding (the client's connection is framed by Node's server).
   */
  readonly headers: string[];
  readonly body: BodyKind;
  /** The body's length when `body` is 'length'. */
  readonly contentLength: number;
  /** The instance lets this connection carry another request after this response. */
  readonly keepAlive: boolean;
  /** Bytes of the buffer the head took, the blank line included. */
  readonly headBytes: number;
}

/** An answer no proxy can relay safely; the connection is dropped and the client gets a 502. */
export class BadResponseError extends Error {
  readonly code = 'OZY_BAD_RESPONSE';
}

/** A head bigger than this is refused (Node's own limit for received heads is 16 KiB). */
export const MAX_HEAD_BYTES = 64 * 1024;

/** 1 for each byte value in `ranges` ([from, to] inclusive, or the characters of a string). */
function byteSet(...ranges: (string | [number, number])[]): Uint8Array {
  const set = new Uint8Array(256);
  for (const r of ranges) {
    if (typeof r === 'string') for (let i = 0; i < r.length; i++) set[r.charCodeAt(i)] = 1;
    else for (let c = r[0]; c <= r[1]; c++) set[c] = 1;
  }
  return set;
}

/** What a header name may hold (token, RFC 9110 §5.6.2). */
const TCHAR = byteSet("!#$%&'*+-.^_`|~", [0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]);
/** What a header value or the reason phrase may hold: HTAB, SP, VCHAR, obs-text (Node's ServerResponse refuses the rest). */
const FIELD_CHAR = byteSet('\t', [0x20, 0x7e], [0x80, 0xff]);

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/** Where the blank line that ends a head starts (the first CRLFCRLF), or -1. */
function headEnd(buf: Buffer): number {
  // Odd offsets only: a CRLFCRLF at an even k has its LFs at odd offsets, one
  // at an odd k its CRs; the first one found is the first in the buffer.
  const n = buf.length;
  for (let i = 1; i < n; i += 2) {
    const c = buf[i];
    if (c === LF) {
      if (buf[i - 1] === CR && i + 2 < n && buf[i + 1] === CR && buf[i + 2] === LF) return i - 1;
    } else if (c === CR) {
      if (i + 3 < n && buf[i + 1] === LF && buf[i + 2] === CR && buf[i + 3] === LF) return i;
    }
  }
  return -1;
}

/** The header name at `pos` (its `len` bytes) is `lower` (lower case letters and '-'), in any case. */
function nameIs(buf: Buffer, pos: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((buf[pos + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** What the head says about a header the proxy handles itself (by the name at `pos`, `len` bytes long). */
const enum Special {
  None,
  ContentLength,
  TransferEncoding,
  Connection,
  /** Any other hop-by-hop name: not passed on. */
  Hop,
}

function special(buf: Buffer, pos: number, len: number): Special {
  // `c | 0x20` lowers a letter and leaves '-' alone; no other token byte lowers to a letter or '-'.
  switch (len) {
    case 2:
      return nameIs(buf, pos, 'te') ? Special.Hop : Special.None;
    case 7:
      return nameIs(buf, pos, 'trailer') || nameIs(buf, pos, 'upgrade') ? Special.Hop : Special.None;
    case 10:
      if (nameIs(buf, pos, 'connection')) return Special.Connection;
      return nameIs(buf, pos, 'keep-alive') ? Special.Hop : Special.None;
    case 14:
      return nameIs(buf, pos, 'content-length') ? Special.ContentLength : Special.None;
    case 16:
      return nameIs(buf, pos, 'proxy-connection') ? Special.Hop : Special.None;
    case 17:
      return nameIs(buf, pos, 'transfer-encoding') ? Special.TransferEncoding : Special.None;
    case 19:
      return nameIs(buf, pos, 'proxy-authorization') ? Special.Hop : Special.None;
    default:
      return Special.None;
  }
}

/**
 * The head at the start of `buf`, or undefined when more bytes are needed.
 * `method` is the request's: a HEAD request's response has no body whatever
 * its headers say.
 *
 * This runs once per proxied response, so it reads bytes against lookup
 * tables rather than running regular expressions over strings, and makes
 * strings only of what it passes on: one latin1 string of the head, sliced.
 */
export function parseResponseHead(buf: Buffer, method: string): ResponseHead | undefined {
  const end = headEnd(buf);
  if (end < 0) {
    if (buf.length > MAX_HEAD_BYTES) throw new BadResponseError(`response head over ${MAX_HEAD_BYTES} bytes`);
    return undefined;
  }
  // buf[end] is the CR of the blank line: every line scan below stops at a CR by then.
  const text = buf.toString('latin1', 0, end);
  let eol = 0;
  while (buf[eol] !== CR) eol++;
  // HTTP/1.x SSS[ reason]
  if (
    eol < 12 ||
    buf[eol + 1] !== LF ||
    !text.startsWith('HTTP/1.') ||
    (buf[7] !== 0x30 && buf[7] !== 0x31) ||
    buf[8] !== SP ||
    buf[9]! < 0x31 ||
    buf[9]! > 0x39 ||
    !isDigit(buf[10]!) ||
    !isDigit(buf[11]!) ||
    (eol > 12 && buf[12] !== SP) ||
    !allFieldChars(buf, 13, eol)
  ) {
    throw new BadResponseError(`not an HTTP/1.x status line: ${JSON.stringify(text.slice(0, Math.min(eol, 80)))}`);
  }
  const http10 = buf[7] === 0x30;
  const status = (buf[9]! - 0x30) * 100 + (buf[10]! - 0x30) * 10 + (buf[11]! - 0x30);
  const reason = eol > 13 ? text.slice(13, eol) : '';
  const headers: string[] = [];
  let contentLength = -1;
  let transferEncoding: string | undefined;
  let connection = '';
  for (let pos = eol + 2; pos < end; pos = eol + 2) {
    let i = pos;
    while (TCHAR[buf[i]!] === 1) i++;
    // A folded continuation line (obs-fold), a name with spaces or no name is how two parsers come to disagree.
    if (i === pos || buf[i] !== COLON) {
      eol = text.indexOf('\r\n', pos);
      if (eol < 0) eol = end;
      throw new BadResponseError(`malformed header line: ${JSON.stringify(text.slice(pos, Math.min(eol, pos + 80)))}`);
    }
    const colon = i++;
    while (buf[i] === SP || buf[i] === HTAB) i++;
    const start = i;
    let stop = i;
    for (let c = buf[i]!; c !== CR; c = buf[++i]!) {
      if (FIELD_CHAR[c] !== 1) throw new BadResponseError(`invalid character in header ${text.slice(pos, colon)}`);
      if (c !== SP && c !== HTAB) stop = i + 1;
    }
    eol = i;
    if (buf[eol + 1] !== LF) throw new BadResponseError(`header line not ended by CRLF: ${text.slice(pos, colon)}`);
    const kind = special(buf, pos, colon - pos);
    if (kind === Special.None) {
      headers.push(text.slice(pos, colon), text.slice(start, stop));
      continue;
    }
    const value = text.slice(start, stop);
    if (kind === Special.ContentLength) {
      contentLength = mergeLength(contentLength, value);
      headers.push(text.slice(pos, colon), value);
    } else if (kind === Special.TransferEncoding) {
      // This process frames the client's response itself.
      transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
    } else if (kind === Special.Connection) connection += `,${value.toLowerCase()}`;
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
    reason,
    // ",keep-alive" and ",close" (what instances send) name no header.
    headers: connection === '' || connection === ',keep-alive' || connection === ',close' ? headers : dropListed(headers, connection),
    body,
    contentLength: body === 'length' ? contentLength : 0,
    keepAlive,
    headBytes: end + 4,
  };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function allFieldChars(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (FIELD_CHAR[buf[i]!] !== 1) return false;
  return true;
}

/**
 * Reads the response heads of one connection, remembering the last one: an
 * instance that sends the same head bytes again (same status and headers; a
 * Date header changes once a second) is not parsed again, which is most
 * responses of an instance that answers alike. The heads handed out may be
 * the same object for several responses: read them, never change them.
 */
export class ResponseHeadReader {
  private lastBytes: Buffer | undefined;
  private lastHead: ResponseHead | undefined;
  private lastForHead = false;

  /** parseResponseHead(buf, method), or the last head read when `buf` starts with the same head bytes. */
  read(buf: Buffer, method: string): ResponseHead | undefined {
    const forHead = method === 'HEAD';
    const last = this.lastBytes;
    // The same bytes up to and including the blank line: the same head, ending at the same place.
    if (last !== undefined && forHead === this.lastForHead && buf.length >= last.length && buf.compare(last, 0, last.length, 0, last.length) === 0) return this.lastHead;
    const head = parseResponseHead(buf, method);
    if (head !== undefined && head.status >= 200) {
      // A copy: `buf` is the socket's.
      this.lastBytes = Buffer.from(buf.subarray(0, head.headBytes));
      this.lastHead = head;
      this.lastForHead = forHead;
    }
    return head;
  }
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
