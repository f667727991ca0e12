// The HTTP half of `ozy ingress`: requests (forward.ts) and upgrades
// (upgrade-proxy.ts) to the route's instances.
//
// Why not a proxy library, nor Node's http client: the one well-known
// library, http-proxy, has had no release since 2020 and gives no hook to
// retry a request whose connection was refused; Node's http.request with a
// keep-alive Agent did everything asked of it but cost ~230 µs of CPU per
// request (its response parser, agent and streams were half of it), which
// held the ingress to a third of HAProxy's requests/s. The client side stays
// Node's http server (parsing what clients send is where the care is); the
// instance side is a pool of raw keep-alive connections with a small, strict
// response parser (upstream-pool.ts, upstream-conn.ts, response-parser.ts).
//
// One request:
//   1. match host + path in the current table (404 / 503 answered here)
//   2. pick instances in round-robin order (balancer.ts)
//   3. forward.ts sends it and relays the answer; retry.ts decides what a
//      failed attempt leads to
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { failureAnswer } from './answers';
import type { Balancer } from './balancer';
import { answer, Forward, type ForwardContext } from './forward';
import { matchRoute, requestPath, type RouteTable } from './route-table';
import { answerRaw, attemptUpgrade } from './upgrade-proxy';
import { UpstreamPool } from './upstream-pool';

export interface HttpProxyOptions {
  table: () => RouteTable;
  balancer: Balancer;
  /** A backend that sends nothing for this long gets a 504 (before its response) or is cut (during it). */
  backendTimeoutMs: number;
  log: Logger;
}

export class HttpProxy {
  /** One pool for every instance, keyed by address. */
  readonly pool: UpstreamPool;
  private readonly ctx: ForwardContext;

  constructor(private readonly opts: HttpProxyOptions) {
    this.pool = new UpstreamPool(opts.backendTimeoutMs);
    this.ctx = { pool: this.pool, balancer: opts.balancer, backendTimeoutMs: opts.backendTimeoutMs, log: opts.log };
  }

  close(): void {
    this.pool.close();
  }

  handleRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const m = matchRoute(this.opts.table(), req.headers.host, req.url);
    if (m.kind !== 'route') return answer(res, failureAnswer({ kind: m.kind, host: m.host, path: requestPath(req.url) }));
    const route = m.route;
    const order = this.opts.balancer.order(route.id, route.backends);
    if (order.length === 0) return answer(res, failureAnswer({ kind: 'no-instance', route, host: route.host, path: requestPath(req.url) }));
    new Forward(this.ctx, req, res, route, order).start();
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
    attemptUpgrade(this.ctx, req, socket, head, route, order, 0, path);
  }
}
