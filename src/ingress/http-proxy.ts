// The HTTP half of `ozy ingress`: requests and upgrades (websockets) to the
// route's instances.
//
// Why Node's http with a keep-alive Agent and not a proxy library: the one
// well-known library, http-proxy, has had no release since 2020 and gives no
// hook to retry a request whose connection was refused (its 'error' event
// comes after it has consumed the request body); its maintained rewrites are
// young. What the ingress needs beyond piping — retry on another instance
// only while nothing was sent, 100-continue passthrough, problem bodies for
// 404/502/503/504, a pooled agent shared by all routes — is a few dozen
// lines on top of node:http, which every Node release keeps working.
//
// One request:
//   1. match host + path in the current table (404 / 503 answered here)
//   2. pick instances in round-robin order (balancer.ts)
//   3. send to the first; a body is piped only once the connection is up,
//      so a refused connection leaves it unread and the request can go to
//      the next instance (a bodyless request is sent at once)
//   4. stream the response back; after that, failures can only cut the
//      connection
import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { failureAnswer, type IngressAnswer } from './answers';
import type { Balancer } from './balancer';
import { filterResponseHeaders, forwardRequestHeaders, hasRequestBody } from './headers';
import { matchRoute, requestPath, type Backend, type HttpRoute, type RouteTable } from './route-table';

export interface HttpProxyOptions {
  table: () => RouteTable;
  balancer: Balancer;
  /** A backend that sends nothing for this long gets a 504 (before its response) or is cut (during it). */
  backendTimeoutMs: number;
  log: Logger;
}

/** Errors meaning "never connected": nothing reached the instance, so another may take the request. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT']);
/** A pooled connection the instance had already closed: the request never got there. */
const STALE_ERRORS = new Set(['ECONNRESET', 'EPIPE']);

class BackendTimeout extends Error {
  readonly code = 'OZY_BACKEND_TIMEOUT';
}

export class HttpProxy {
  /**
   * One pool for every instance: connections are kept per host:port, so a
   * route change keeps the pooled connections of instances still in use, and
   * those of removed instances idle out. Idle ones close after 4 s: before
   * Node servers' default keep-alive timeout (5 s) closes them under us, the
   * race that makes a reused connection fail (a bodyless request is retried
   * then; one with a body would get a 502).
   */
  readonly agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 1_000, maxFreeSockets: 1_024, timeout: 4_000, scheduling: 'lifo' });

  constructor(private readonly opts: HttpProxyOptions) {}

  close(): void {
    this.agent.destroy();
  }

  handleRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const m = matchRoute(this.opts.table(), req.headers.host, req.url);
    const path = requestPath(req.url);
    if (m.kind !== 'route') return answer(res, failureAnswer({ kind: m.kind, host: m.host, path }));
    const route = m.route;
    const order = this.opts.balancer.order(route.id, route.backends);
    if (order.length === 0) return answer(res, failureAnswer({ kind: 'no-instance', route, host: m.route.host, path }));
    const state: RequestState = { current: undefined };
    res.once('close', () => {
      // The client went away before the response was complete: stop the instance's work too.
      if (!res.writableFinished) state.current?.destroy();
    });
    this.attempt(req, res, route, order, 0, path, state, 0);
  }

  private attempt(req: http.IncomingMessage, res: http.ServerResponse, route: HttpRoute, order: Backend[], i: number, path: string, state: RequestState, staleRetries: number): void {
    const b = order[i]!;
    const headers = forwardRequestHeaders(req.headers, req.socket.remoteAddress, 'http');
    const preq = http.request({ host: b.host, port: b.port, method: req.method, path: req.url, headers, agent: this.agent, setHost: false });
    state.current = preq;
    let connected = false;
    let responded = false;
    const withBody = hasRequestBody(req.headers);
    if (withBody) {
      // Read the client's body only once an instance took the connection, so
      // that a refused connection leaves it unread for the next instance.
      const start = (): void => {
        if (connected) return;
        connected = true;
        req.pipe(preq);
      };
      preq.once('socket', (s: Socket) => {
        if (s.connecting) s.once('connect', start);
        else start();
      });
    } else {
      // Nothing to hold back (the common case, and the fast path).
      preq.end();
    }
    preq.setTimeout(this.opts.backendTimeoutMs, () => preq.destroy(new BackendTimeout('timeout')));
    // Expect: 100-continue: the instance decides whether the client may send its body.
    if (req.headers.expect !== undefined) preq.on('continue', () => res.writeContinue());
    preq.once('response', (pres) => {
      responded = true;
      this.opts.balancer.connected(b.address);
      res.writeHead(pres.statusCode ?? 502, pres.statusMessage, filterResponseHeaders(pres.rawHeaders));
      relay(pres, res);
    });
    let failed = false;
    preq.on('error', (err: NodeJS.ErrnoException) => {
      if (failed) return;
      failed = true;
      if (responded) return void res.destroy();
      if (res.destroyed) return; // the client is gone: nobody to answer
      const code = err.code ?? '';
      // Without a body nothing was held back, and these errors come from connecting.
      if (!connected && CONNECT_ERRORS.has(code)) {
        this.opts.balancer.connectFailed(b.address);
        if (i + 1 < order.length) return this.attempt(req, res, route, order, i + 1, path, state, staleRetries);
        return answer(res, failureAnswer({ kind: 'all-refused', route, tried: order.length, reason: code, host: route.host, path }));
      }
      // A keep-alive connection the instance closed just as we reused it: the request
      // never reached it. Replayable only if there is no body (it would be consumed).
      if (preq.reusedSocket && STALE_ERRORS.has(code) && !withBody && staleRetries < 3) {
        return this.attempt(req, res, route, order, i, path, state, staleRetries + 1);
      }
      if (err instanceof BackendTimeout) {
        this.opts.log.warn({ instance: b.instance, address: b.address, route: route.id }, 'backend timeout');
        return answer(res, failureAnswer({ kind: 'timeout', instance: b.instance, address: b.address, timeoutMs: this.opts.backendTimeoutMs, host: route.host, path }));
      }
      this.opts.log.warn({ instance: b.instance, address: b.address, route: route.id, err: err.message, code }, 'bad gateway');
      answer(res, failureAnswer({ kind: 'bad-gateway', instance: b.instance, address: b.address, reason: code || err.message, host: route.host, path }));
    });
  }

  /** A websocket (or any Upgrade): once the instance answers 101, the two sockets are piped together. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const m = matchRoute(this.opts.table(), req.headers.host, req.url);
    const path = requestPath(req.url);
    if (m.kind !== 'route') return answerRaw(socket, failureAnswer({ kind: m.kind, host: m.host, path }));
    const route = m.route;
    const order = this.opts.balancer.order(route.id, route.backends);
    if (order.length === 0) return answerRaw(socket, failureAnswer({ kind: 'no-instance', route, host: route.host, path }));
    this.attemptUpgrade(req, socket, head, route, order, 0, path);
  }

  private attemptUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, route: HttpRoute, order: Backend[], i: number, path: string): void {
    const b = order[i]!;
    const headers = forwardRequestHeaders(req.headers, req.socket.remoteAddress, 'http', true);
    // No pooling: an upgraded connection leaves the pool for good anyway.
    const preq = http.request({ host: b.host, port: b.port, method: req.method, path: req.url, headers, agent: false, setHost: false });
    let connected = false;
    preq.once('socket', (s: Socket) => {
      if (s.connecting) s.once('connect', () => (connected = true));
      else connected = true;
    });
    preq.setTimeout(this.opts.backendTimeoutMs, () => preq.destroy(new BackendTimeout('timeout')));
    const onClientGone = (): void => void preq.destroy();
    socket.once('close', onClientGone);
    preq.once('upgrade', (pres, upstream: Socket, upstreamHead: Buffer) => {
      socket.off('close', onClientGone);
      this.opts.balancer.connected(b.address);
      // From here on the connection lives as long as both ends want it: no
      // timeout, and a route change (a new table) does not touch it.
      upstream.setTimeout(0);
      socket.write(statusLine(pres) + headerBlock(pres.rawHeaders));
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstream.write(head);
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
      upstream.once('close', () => socket.destroy());
      socket.once('close', () => upstream.destroy());
      upstream.pipe(socket).pipe(upstream);
    });
    let responded = false;
    preq.once('response', (pres) => {
      // The instance declined the upgrade: relay its answer and close.
      responded = true;
      socket.off('close', onClientGone);
      socket.write(statusLine(pres) + headerBlock(filterResponseHeaders(pres.rawHeaders).concat('connection', 'close')));
      pres.pipe(socket);
    });
    let failed = false;
    preq.on('error', (err: NodeJS.ErrnoException) => {
      if (failed || socket.destroyed) return;
      failed = true;
      if (responded) return void socket.destroy();
      const code = err.code ?? '';
      if (!connected && CONNECT_ERRORS.has(code)) {
        this.opts.balancer.connectFailed(b.address);
        if (i + 1 < order.length) return this.attemptUpgrade(req, socket, head, route, order, i + 1, path);
        return answerRaw(socket, failureAnswer({ kind: 'all-refused', route, tried: order.length, reason: code, host: route.host, path }));
      }
      if (err instanceof BackendTimeout) {
        return answerRaw(socket, failureAnswer({ kind: 'timeout', instance: b.instance, address: b.address, timeoutMs: this.opts.backendTimeoutMs, host: route.host, path }));
      }
      answerRaw(socket, failureAnswer({ kind: 'bad-gateway', instance: b.instance, address: b.address, reason: code || err.message, host: route.host, path }));
    });
    preq.end();
  }
}

interface RequestState {
  /** The attempt in flight, destroyed when the client goes away. */
  current: http.ClientRequest | undefined;
}

/**
 * The response body, with back-pressure: what pipe() does, with the few
 * listeners a proxy needs (pipe's bookkeeping showed in the profile). An
 * instance that breaks off mid-response cuts the client's connection, so
 * the client sees a truncated response, never a complete-looking one.
 */
function relay(pres: http.IncomingMessage, res: http.ServerResponse): void {
  pres.on('data', (chunk: Buffer) => {
    if (!res.write(chunk)) {
      pres.pause();
      res.once('drain', () => pres.resume());
    }
  });
  pres.once('end', () => res.end());
  pres.on('error', () => res.destroy());
  pres.once('close', () => {
    if (!pres.complete) res.destroy();
  });
}

function answer(res: http.ServerResponse, a: IngressAnswer): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(a.status, a.headers);
  res.end(a.body);
}

function answerRaw(socket: Duplex, a: IngressAnswer): void {
  if (socket.destroyed) return;
  const head = `HTTP/1.1 ${a.status} ${http.STATUS_CODES[a.status] ?? ''}\r\n${Object.entries(a.headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}connection: close\r\n\r\n`;
  socket.end(head + a.body);
}

function statusLine(pres: http.IncomingMessage): string {
  return `HTTP/1.1 ${pres.statusCode ?? 502} ${pres.statusMessage ?? ''}\r\n`;
}

function headerBlock(raw: readonly string[]): string {
  let s = '';
  for (let i = 0; i < raw.length; i += 2) s += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return `${s}\r\n`;
}
