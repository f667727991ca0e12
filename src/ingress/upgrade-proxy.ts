// Websockets (any Upgrade): on a connection of their own through Node's
// http client (not the pool: an upgraded connection leaves it for good, and
// upgrades are rare next to requests). Once the instance answers 101, the
// two sockets are piped together, with no timeout; a route change does not
// touch them.
import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { failureAnswer, type IngressAnswer } from './answers';
import type { Balancer } from './balancer';
import { filterResponseHeaders, forwardRequestHeaders } from './headers';
import { CONNECT_ERRORS } from './retry';
import type { Backend, HttpRoute } from './route-table';

class BackendTimeout extends Error {
  readonly code = 'OZY_BACKEND_TIMEOUT';
}

export interface UpgradeContext {
  balancer: Balancer;
  backendTimeoutMs: number;
}

/** Tries `order` from `i`: the next instance when a connection cannot be made, as for requests. */
export function attemptUpgrade(ctx: UpgradeContext, req: http.IncomingMessage, socket: Duplex, head: Buffer, route: HttpRoute, order: readonly Backend[], i: number, path: string): void {
  const b = order[i]!;
  const headers = forwardRequestHeaders(req.headers, req.socket.remoteAddress, 'http', true);
  const preq = http.request({ host: b.host, port: b.port, method: req.method, path: req.url, headers, agent: false, setHost: false });
  let connected = false;
  preq.once('socket', (s: Socket) => {
    if (s.connecting) s.once('connect', () => (connected = true));
    else connected = true;
  });
  preq.setTimeout(ctx.backendTimeoutMs, () => preq.destroy(new BackendTimeout('timeout')));
  const onClientGone = (): void => void preq.destroy();
  socket.once('close', onClientGone);
  preq.once('upgrade', (pres, upstream: Socket, upstreamHead: Buffer) => {
    socket.off('close', onClientGone);
    ctx.balancer.connected(b.address);
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
      ctx.balancer.connectFailed(b.address);
      if (i + 1 < order.length) return attemptUpgrade(ctx, req, socket, head, route, order, i + 1, path);
      return answerRaw(socket, failureAnswer({ kind: 'all-refused', route, tried: order.length, reason: code, host: route.host, path }));
    }
    if (err instanceof BackendTimeout) {
      return answerRaw(socket, failureAnswer({ kind: 'timeout', instance: b.instance, address: b.address, timeoutMs: ctx.backendTimeoutMs, host: route.host, path }));
    }
    answerRaw(socket, failureAnswer({ kind: 'bad-gateway', instance: b.instance, address: b.address, reason: code || err.message, host: route.host, path }));
  });
  preq.end();
}

/** An answer on a raw socket (an upgrade request has no ServerResponse), then close. */
export function answerRaw(socket: Duplex, a: IngressAnswer): void {
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
