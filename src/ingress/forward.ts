// One request on its way to an instance and back: the client side is Node's
// http server (its parser, keep-alive and limits), the instance side is a
// pooled raw connection (upstream-conn.ts).
//
//   1. send the request head on a pooled connection to the first instance in
//      the request's order (a new connection if none is idle)
//   2. read the client's body only once that connection is up, so that a
//      connection that could not be made leaves the body unread for the next
//      instance
//   3. relay the response head and body, with back-pressure both ways
//   4. on a failure, retry.ts decides: again (same instance on a new
//      connection, or the next one), or answer 502/504 — or, once the
//      response has started, cut the client's connection
import type * as http from 'node:http';
import type { Logger } from 'pino';
import { failureAnswer, type IngressAnswer } from './answers';
import type { Balancer } from './balancer';
import { hasRequestBody } from './headers';
import { upstreamRequestHead } from './request-head';
import type { ResponseHead } from './response-parser';
import { CONNECT_ERRORS, decideRetry } from './retry';
import { requestPath, type Backend, type HttpRoute } from './route-table';
import { BACKEND_TIMEOUT, type Exchange, type UpstreamConn, type UpstreamFailure } from './upstream-conn';
import type { UpstreamPool } from './upstream-pool';

export interface ForwardContext {
  pool: UpstreamPool;
  balancer: Balancer;
  backendTimeoutMs: number;
  log: Logger;
}

// The request and response point back to their Forward, so that their event
// listeners can be shared functions rather than closures made per request.
const FORWARD = Symbol('ozy.forward');
interface TrackedRequest extends http.IncomingMessage {
  [FORWARD]?: Forward;
}
interface TrackedResponse extends http.ServerResponse {
  [FORWARD]?: Forward;
}

export class Forward implements Exchange {
  /** Index in `order` of the instance being tried. */
  private i = 0;
  private conn: UpstreamConn | undefined;
  private readonly head: string;
  private readonly hasBody: boolean;
  private readonly chunked: boolean;
  /** Our listeners are reading the client's body. */
  private bodyFlowing = false;
  private bodyStarted = false;
  private staleRetries = 0;
  private dropRetries = 0;

  constructor(
    private readonly ctx: ForwardContext,
    private readonly req: TrackedRequest,
    private readonly res: TrackedResponse,
    private readonly route: HttpRoute,
    private readonly order: readonly Backend[],
  ) {
    const h = req.headers;
    this.chunked = h['transfer-encoding'] !== undefined;
    this.hasBody = hasRequestBody(h);
    this.head = upstreamRequestHead(req.method ?? 'GET', req.url ?? '/', req.rawHeaders, req.socket.remoteAddress, 'http');
    req[FORWARD] = this;
    res[FORWARD] = this;
    res.on('close', onResponseClose);
  }

  start(): void {
    this.attempt(false);
  }

  private attempt(fresh: boolean): void {
    const conn = this.ctx.pool.acquire(this.order[this.i]!, fresh);
    this.conn = conn;
    conn.start(this, this.req.method ?? 'GET', this.head, this.hasBody);
  }

  // ── the request body, client → instance ──────────────────────────────

  upstreamReady(): void {
    if (!this.hasBody || this.bodyFlowing) return;
    this.bodyFlowing = true;
    this.req.on('data', onRequestData);
    this.req.on('end', onRequestEnd);
    // Explicitly: a stream paused by an earlier attempt stays paused when a listener is added.
    this.req.resume();
  }

  requestData(piece: Buffer): void {
    const c = this.conn;
    if (c === undefined) return;
    this.bodyStarted = true;
    if (!c.writeBody(piece, this.chunked)) this.req.pause();
  }

  requestEnd(): void {
    this.conn?.endBody(this.chunked);
  }

  upstreamDrained(): void {
    if (this.bodyFlowing) this.req.resume();
  }

  /**
   * Stops relaying the client's body. `discard`: the request is answered, so
   * the rest is read and dropped (what Node does with a body nobody read),
   * keeping the client's connection usable; otherwise it waits, unread, for
   * the next attempt.
   */
  private stopBody(discard: boolean): void {
    if (!this.bodyFlowing) return;
    this.bodyFlowing = false;
    this.req.off('data', onRequestData);
    this.req.off('end', onRequestEnd);
    if (discard) this.req.resume();
    else this.req.pause();
  }

  // ── the response, instance → client ──────────────────────────────────

  upstreamContinue(): void {
    if (this.req.headers.expect !== undefined) this.res.writeContinue();
  }

  upstreamHead(head: ResponseHead): void {
    this.ctx.balancer.connected(this.order[this.i]!.address);
    try {
      this.res.writeHead(head.status, head.reason || undefined, head.headers);
    } catch (err) {
      // A head Node will not send (the parser lets through what RFC 9110 allows, Node is stricter).
      const b = this.order[this.i]!;
      this.conn?.abort();
      this.conn = undefined;
      this.stopBody(true);
      this.ctx.log.warn({ instance: b.instance, address: b.address, route: this.route.id, err: (err as Error).message }, 'bad gateway');
      answer(this.res, failureAnswer({ kind: 'bad-gateway', instance: b.instance, address: b.address, reason: (err as Error).message, host: this.route.host, path: requestPath(this.req.url) }));
    }
  }

  upstreamBody(piece: Buffer, last: boolean): boolean {
    if (last) {
      this.conn = undefined;
      this.stopBody(true);
      // One write for the head and a body that came whole (end() corks the socket).
      if (piece.length > 0) this.res.end(piece);
      else this.res.end();
      return true;
    }
    if (this.res.write(piece)) return true;
    this.res.once('drain', onResponseDrain);
    return false;
  }

  keepsPieces(): boolean {
    return this.res.writableLength > 0;
  }

  responseDrained(): void {
    this.conn?.resume();
  }

  /** The client's connection closed: an unfinished exchange is dropped with it. */
  clientClosed(): void {
    if (this.res.writableFinished || this.conn === undefined) return;
    this.conn.abort();
    this.conn = undefined;
    this.stopBody(false);
  }

  // ── failures ─────────────────────────────────────────────────────────

  upstreamFailed(f: UpstreamFailure): void {
    this.conn = undefined;
    if (this.res.destroyed) return this.stopBody(false); // nobody left to answer
    const b = this.order[this.i]!;
    // An instance that refuses or drops new connections is probably going away: try it last for a while.
    if (!f.connected ? CONNECT_ERRORS.has(f.code) : !f.reused && !f.responseStarted && f.code !== BACKEND_TIMEOUT) this.ctx.balancer.connectFailed(b.address);
    const decision = decideRetry(f, {
      method: this.req.method ?? 'GET',
      hasBody: this.hasBody,
      bodyStarted: this.bodyStarted,
      instancesLeft: this.order.length - this.i - 1,
      staleRetries: this.staleRetries,
      dropRetries: this.dropRetries,
    });
    if (decision === 'same-instance') {
      this.staleRetries++;
      this.stopBody(false);
      return this.attempt(true);
    }
    if (decision === 'next-instance') {
      if (f.connected) this.dropRetries++;
      this.staleRetries = 0;
      this.i++;
      this.stopBody(false);
      return this.attempt(false);
    }
    this.stopBody(true);
    // Once the status line is gone, a failure can only cut the connection: the client sees a truncated response.
    if (this.res.headersSent) return void this.res.destroy();
    const route = this.route;
    const host = route.host;
    const path = requestPath(this.req.url);
    if (f.code === BACKEND_TIMEOUT) {
      this.ctx.log.warn({ instance: b.instance, address: b.address, route: route.id }, 'backend timeout');
      return answer(this.res, failureAnswer({ kind: 'timeout', instance: b.instance, address: b.address, timeoutMs: this.ctx.backendTimeoutMs, host, path }));
    }
    if (!f.connected && CONNECT_ERRORS.has(f.code)) {
      return answer(this.res, failureAnswer({ kind: 'all-refused', route, tried: this.i + 1, reason: f.code, host, path }));
    }
    this.ctx.log.warn({ instance: b.instance, address: b.address, route: route.id, err: f.message, code: f.code }, 'bad gateway');
    answer(this.res, failureAnswer({ kind: 'bad-gateway', instance: b.instance, address: b.address, reason: f.code.startsWith('OZY_') ? f.message : f.code, host, path }));
  }
}

function onRequestData(this: TrackedRequest, piece: Buffer): void {
  this[FORWARD]?.requestData(piece);
}

function onRequestEnd(this: TrackedRequest): void {
  this[FORWARD]?.requestEnd();
}

function onResponseDrain(this: TrackedResponse): void {
  this[FORWARD]?.responseDrained();
}

function onResponseClose(this: TrackedResponse): void {
  this[FORWARD]?.clientClosed();
}

/** One of the ingress's own answers (problem+json), or a cut when a response has already started. */
export function answer(res: http.ServerResponse, a: IngressAnswer): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(a.status, a.headers);
  res.end(a.body);
}
