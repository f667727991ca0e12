// One keep-alive TCP connection to an instance, carrying one request at a
// time: the request head goes out as one write, the response is read with
// response-parser.ts and handed to the request's Exchange piece by piece.
//
// The socket's listeners are set once per connection, not per request, and
// the connection tells the request what happened through plain method calls:
// the per-request cost is a few property writes, not the events, streams and
// objects of Node's http client. The socket reads into a buffer of the
// connection's own (net's `onread`), not through a Readable stream that
// allocates a buffer per read and emits it: the buffer is used again for the
// next read unless a piece of it may still be referenced (queued for a slow
// client, or a head split over reads), in which case the next read gets a
// new one.
import * as net from 'node:net';
import { BadResponseError, ChunkedDecoder, ResponseHeadReader, type BodyKind, type ChunkSink, type ResponseHead } from './response-parser';

/** What a request being proxied is told by its connection. */
export interface Exchange {
  /** The connection is up: the request body may be read from the client now. */
  upstreamReady(): void;
  /** The instance answered 100 Continue. */
  upstreamContinue(): void;
  upstreamHead(head: ResponseHead): void;
  /**
   * A piece of the response body; `last` once the response is complete (the
   * piece may then be empty). Returning false pauses reading until resume().
   */
  upstreamBody(piece: Buffer, last: boolean): boolean;
  /**
   * Pieces handed to upstreamBody may still be referenced (queued for the
   * client rather than written): the connection then reads into a new
   * buffer instead of overwriting them.
   */
  keepsPieces(): boolean;
  /** The socket took what was queued: more of the request body may be written. */
  upstreamDrained(): void;
  upstreamFailed(f: UpstreamFailure): void;
}

/** Why an exchange failed, and how far it got: what the retry decision reads. */
export interface UpstreamFailure {
  /** ECONNREFUSED, ECONNRESET, EPIPE…, or one of UPSTREAM_CLOSED, BACKEND_TIMEOUT, BAD_RESPONSE. */
  code: string;
  message: string;
  /** The TCP connection had been made: the request may have reached the instance. */
  connected: boolean;
  /** The connection had carried earlier responses (it came from the pool). */
  reused: boolean;
  /** A byte of the response (even a 100 Continue) had arrived. */
  responseStarted: boolean;
}

/** The instance closed the connection (EOF) before the response was complete. */
export const UPSTREAM_CLOSED = 'OZY_UPSTREAM_CLOSED';
/** Nothing from the instance for --backend-timeout. */
export const BACKEND_TIMEOUT = 'OZY_BACKEND_TIMEOUT';
export const BAD_RESPONSE = 'OZY_BAD_RESPONSE';

/** What the pool is told about a connection's life. */
export interface ConnOwner {
  /** The response is complete and the connection can carry another request. */
  release(conn: UpstreamConn): void;
  /** The connection is closed: forget it. */
  closed(conn: UpstreamConn): void;
}

const EMPTY = Buffer.alloc(0);
/** A connection reads into a buffer this big (a small response comes whole in one read)… */
const READ_BYTES = 16 * 1024;
/** …and, after a read that filled it, into one this big (as Node's own reads) until a read does not. */
const BIG_READ_BYTES = 64 * 1024;
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

export class UpstreamConn implements ChunkSink {
  readonly socket: net.Socket;
  private connected = false;
  /** Responses completed on this connection: above 0, it is a pooled one. */
  private served = 0;
  /** Pool bookkeeping: the sweep tick at which it went idle. */
  idleSince = 0;

  private exchange: Exchange | undefined;
  private method = 'GET';
  private requestDone = true;
  private gotBytes = false;
  /** Head bytes received so far (a head split over reads). */
  private partial: Buffer | undefined;
  private head: ResponseHead | undefined;
  private readonly heads = new ResponseHeadReader();
  private body: BodyKind = 'none';
  private remaining = 0;
  private decoder: ChunkedDecoder | undefined;
  /** The latest chunk piece, held back so that the last one goes out with `last` set. */
  private held: Buffer | undefined;
  private wantPause = false;
  /** What the socket reads into, and whether a piece of it may still be referenced elsewhere. */
  private readBuf: Buffer | undefined;
  private readBufKept = false;
  private bigReads = false;
  /** The instance closed its side. */
  private eof = false;

  constructor(
    readonly address: string,
    host: string,
    port: number,
    timeoutMs: number,
    private readonly owner: ConnOwner,
  ) {
    this.socket = net.connect({
      host,
      port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: 1_000,
      onread: { buffer: () => this.readBuffer(), callback: (n: number, buf: Uint8Array) => this.onRead(n, buf as Buffer) },
    });
    // Nothing from the instance for this long: 504 before the response, a cut during it.
    // While idle in the pool the sweep closes it first (unless the timeout is shorter).
    this.socket.setTimeout(timeoutMs);
    this.socket.on('connect', () => {
      this.connected = true;
      if (!this.requestDone) this.exchange?.upstreamReady();
    });
    this.socket.on('end', () => this.onEnd());
    this.socket.on('drain', () => this.exchange?.upstreamDrained());
    this.socket.on('timeout', () => (this.exchange ? this.fail(BACKEND_TIMEOUT, 'no answer within the backend timeout') : this.socket.destroy()));
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err.code ?? 'ECONNRESET', err.message));
    this.socket.on('close', () => {
      this.fail('ECONNRESET', 'connection closed');
      this.owner.closed(this);
    });
  }

  get reused(): boolean {
    return this.served > 0;
  }

  /** Usable for a new request: open and not half-closed by the instance (a write error destroys the socket). */
  get usable(): boolean {
    return this.exchange === undefined && !this.eof && !this.socket.destroyed;
  }

  /**
   * Sends a request head (one write). `withBody`: the caller streams a body
   * with writeBody/endBody once told upstreamReady.
   */
  start(ex: Exchange, method: string, head: string, withBody: boolean): void {
    this.exchange = ex;
    this.method = method;
    this.requestDone = !withBody;
    this.gotBytes = false;
    this.socket.write(head, 'latin1');
    if (this.connected && withBody) ex.upstreamReady();
  }

  /** A piece of the request body, chunk-framed when the client's was chunked. False: wait for upstreamDrained. */
  writeBody(piece: Buffer, chunked: boolean): boolean {
    if (!chunked) return this.socket.write(piece);
    this.socket.cork();
    this.socket.write(`${piece.length.toString(16)}\r\n`, 'latin1');
    this.socket.write(piece);
    const ok = this.socket.write('\r\n', 'latin1');
    this.socket.uncork();
    return ok;
  }

  endBody(chunked: boolean): void {
    if (chunked) this.socket.write(LAST_CHUNK);
    this.requestDone = true;
  }

  /** Continue reading after upstreamBody returned false. */
  resume(): void {
    this.wantPause = false;
    this.socket.resume();
  }

  /** The client went away: drop the connection (its response would go nowhere). */
  abort(): void {
    this.exchange = undefined;
    this.socket.destroy();
  }

  /** net asks for the buffer of the next read after every read (and once at the start). */
  private readBuffer(): Buffer {
    const size = this.bigReads ? BIG_READ_BYTES : READ_BYTES;
    let b = this.readBuf;
    if (b === undefined || this.readBufKept || b.length !== size) {
      b = this.readBuf = Buffer.allocUnsafeSlow(size);
      this.readBufKept = false;
    }
    return b;
  }

  /** True: go on reading (back-pressure pauses the socket itself, see pass). */
  private onRead(n: number, buf: Buffer): boolean {
    this.bigReads = n === buf.length;
    this.onData(n === buf.length ? buf : buf.subarray(0, n));
    return true;
  }

  private onData(buf: Buffer): void {
    const ex = this.exchange;
    // Bytes nobody asked for: the instance is out of step; never reuse this connection.
    if (ex === undefined) return void this.socket.destroy();
    this.gotBytes = true;
    try {
      let start = 0;
      if (this.head === undefined) {
        let b = this.partial === undefined ? buf : Buffer.concat([this.partial, buf]);
        for (;;) {
          const head = this.heads.read(b, this.method);
          if (head === undefined) {
            this.partial = b;
            this.readBufKept = true;
            return;
          }
          this.partial = undefined;
          if (head.status >= 200) {
            this.beginBody(head);
            ex.upstreamHead(head);
            if (this.exchange !== ex) return; // the client went away meanwhile
            buf = b;
            start = head.headBytes;
            break;
          }
          // Interim answers: 100 Continue is passed on, the others (103…) dropped, as Node's client does.
          if (head.status === 101) throw new BadResponseError('101 Switching Protocols to a request that asked for no upgrade');
          if (head.status === 100) ex.upstreamContinue();
          if (this.exchange !== ex) return;
          b = b.subarray(head.headBytes);
          if (b.length === 0) return;
        }
      }
      this.bodyBytes(ex, buf, start);
    } catch (err) {
      if (!(err instanceof BadResponseError)) throw err;
      this.fail(BAD_RESPONSE, err.message);
    }
  }

  private beginBody(head: ResponseHead): void {
    this.head = head;
    this.body = head.body;
    this.remaining = head.contentLength;
    this.decoder = head.body === 'chunked' ? new ChunkedDecoder() : undefined;
  }

  private bodyBytes(ex: Exchange, buf: Buffer, start: number): void {
    switch (this.body) {
      case 'none':
        return this.finish(ex, EMPTY, start < buf.length);
      case 'length': {
        const take = Math.min(this.remaining, buf.length - start);
        const piece = start === 0 && take === buf.length ? buf : buf.subarray(start, start + take);
        this.remaining -= take;
        if (this.remaining === 0) return this.finish(ex, piece, start + take < buf.length);
        return this.pass(ex, piece);
      }
      case 'close':
        if (start < buf.length) this.pass(ex, start === 0 ? buf : buf.subarray(start));
        return;
      case 'chunked': {
        const end = this.decoder!.feed(buf, start, this);
        const held = this.held;
        this.held = undefined;
        if (this.exchange !== ex) return;
        if (end >= 0) return this.finish(ex, held ?? EMPTY, end < buf.length);
        if (held !== undefined) this.pass(ex, held);
        return;
      }
    }
  }

  /** ChunkSink: pieces of chunk data, each passed on when the next one is found. */
  chunkData(piece: Buffer): void {
    const ex = this.exchange;
    if (this.held !== undefined && ex !== undefined) this.pass(ex, this.held);
    this.held = piece;
  }

  private pass(ex: Exchange, piece: Buffer): void {
    if (piece.length === 0) return;
    const more = ex.upstreamBody(piece, false);
    if (ex.keepsPieces()) this.readBufKept = true;
    if (!more && !this.wantPause) {
      this.wantPause = true;
      this.socket.pause();
    }
  }

  /** The response is complete: the connection goes back to the pool, or is closed when it cannot carry another. */
  private finish(ex: Exchange, piece: Buffer, extraBytes: boolean): void {
    const reusable = this.head!.keepAlive && !extraBytes && this.requestDone;
    this.exchange = undefined;
    this.head = undefined;
    this.decoder = undefined;
    this.served++;
    if (reusable) {
      if (this.wantPause) this.resume();
      this.owner.release(this);
    } else this.socket.destroy();
    ex.upstreamBody(piece, true);
    if (piece.length > 0 && ex.keepsPieces()) this.readBufKept = true;
  }

  private onEnd(): void {
    this.eof = true;
    const ex = this.exchange;
    if (ex === undefined) return void this.socket.destroy();
    // A body that ends with the connection (its head says keepAlive false): complete.
    if (this.head !== undefined && this.body === 'close') return this.finish(ex, EMPTY, false);
    this.fail(UPSTREAM_CLOSED, this.head === undefined ? 'closed before a complete response head' : 'closed before the end of the response body');
  }

  private fail(code: string, message: string): void {
    const ex = this.exchange;
    if (ex === undefined) return;
    this.exchange = undefined;
    this.socket.destroy();
    ex.upstreamFailed({ code, message, connected: this.connected, reused: this.served > 0, responseStarted: this.gotBytes });
  }
}
