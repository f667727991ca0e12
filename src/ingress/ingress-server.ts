// `ozy ingress` as a long-running object: mirrors of the accepted jobs and
// the instance statuses (etcd watches) → a route table rebuilt on every
// change → the HTTP proxy and the TCP listeners. It reads etcd and never
// writes it.
//
// A rebuilt table only replaces the reference the next request reads:
// requests in flight, keep-alive client connections, pooled instance
// connections and websockets are not touched by a route change.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { AcceptedJob, InstanceStatus } from '../model/cluster';
import type { ListenTarget } from '../network/listen-address';
import type { ClusterStore, Mirror } from '../store';
import { Balancer } from './balancer';
import { ClientIdleSweep } from './client-idle';
import { HttpProxy } from './http-proxy';
import { buildRouteTable, EMPTY_TABLE, type RouteTable } from './route-table';
import { TcpForwarder } from './tcp-forwarder';

export interface IngressOptions {
  store: ClusterStore;
  listen: ListenTarget;
  /** Address the `tcp:` routes listen on. Default 0.0.0.0. */
  tcpIp?: string;
  /** Default 60 s. */
  backendTimeoutMs?: number;
  log: Logger;
  /** Counts every HTTP request by status code and duration (observe/ingress-metrics.ts). */
  metrics?: { track(res: http.ServerResponse): void };
}

export const DEFAULT_BACKEND_TIMEOUT_MS = 60_000;

export class IngressServer {
  private table: RouteTable = EMPTY_TABLE;
  private readonly balancer = new Balancer();
  private readonly proxy: HttpProxy;
  private readonly tcp: TcpForwarder;
  private readonly server: http.Server;
  private readonly idle: ClientIdleSweep;
  private jobs: Mirror<AcceptedJob> | undefined;
  private statuses: Mirror<InstanceStatus> | undefined;
  private lastSummary = '';
  private readonly changeListeners = new Set<() => void>();

  constructor(private readonly opts: IngressOptions) {
    const log = opts.log;
    this.proxy = new HttpProxy({ table: () => this.table, balancer: this.balancer, backendTimeoutMs: opts.backendTimeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS, log });
    this.tcp = new TcpForwarder(opts.tcpIp ?? '0.0.0.0', this.balancer, log);
    // requestTimeout 0: an upload may take as long as it streams (Node's default cuts it at 5 min);
    // headersTimeout (60 s) still bounds a client that never finishes its headers.
    this.server = http.createServer({ keepAlive: true, requestTimeout: 0 });
    // Idle keep-alive connections are closed by a sweep, not by Node's timer per response (client-idle.ts).
    this.idle = new ClientIdleSweep(this.server);
    this.server.on('request', (req, res) => {
      ClientIdleSweep.requestStarted(req, res);
      opts.metrics?.track(res);
      this.proxy.handleRequest(req, res);
    });
    // Without this listener Node would answer 100 Continue itself, before any instance agreed.
    this.server.on('checkContinue', (req, res) => {
      ClientIdleSweep.requestStarted(req, res);
      this.proxy.handleRequest(req, res);
    });
    this.server.on('upgrade', (req, socket, head) => {
      this.idle.release(req.socket);
      this.proxy.handleUpgrade(req, socket, head);
    });
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  /** Reads the routes from etcd, then listens. Resolves with the HTTP address in use. */
  async start(): Promise<string> {
    const onError = (err: Error): void => this.opts.log.warn({ err: err.message }, 'etcd watch trouble (carrying on)');
    this.jobs = await this.opts.store.mirrorJobs({ onChange: () => this.rebuild(), onError });
    this.statuses = await this.opts.store.mirrorInstanceStatus({ onChange: () => this.rebuild(), onError });
    this.rebuild();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      const t = this.opts.listen;
      if ('fd' in t) this.server.listen({ fd: t.fd }, resolve);
      else this.server.listen(t.port, t.host, resolve);
    });
    return this.address();
  }

  address(): string {
    const a = this.server.address();
    if (a === null) return '';
    if (typeof a === 'string') return a;
    const info = a as AddressInfo;
    return info.family === 'IPv6' ? `[${info.address}]:${info.port}` : `${info.address}:${info.port}`;
  }

  /** The table requests are routed by now. */
  routes(): RouteTable {
    return this.table;
  }

  /** Tests: told after every rebuild. */
  onRoutesChanged(fn: () => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  tcpPorts(): number[] {
    return this.tcp.ports();
  }

  /** Stops listening, lets requests in flight finish for up to `graceMs`, then cuts the rest. */
  async stop(graceMs = 5_000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    timer.unref();
    await Promise.all([closed, this.tcp.close()]);
    clearTimeout(timer);
    this.idle.close();
    this.proxy.close();
    await Promise.all([this.jobs?.close(), this.statuses?.close()]);
  }

  private rebuild(): void {
    if (!this.jobs || !this.statuses) return;
    const table = buildRouteTable(this.jobs.values.values(), this.statuses.values);
    this.table = table;
    this.balancer.retain(new Set([...allRoutes(table)].map((r) => r.id)));
    this.tcp.update(table);
    this.logSummary(table);
    for (const fn of this.changeListeners) fn();
  }

  /** One line per change of what is routed where (not per status heartbeat). */
  private logSummary(table: RouteTable): void {
    const routes = [...allRoutes(table)].map((r) => `${r.id}=${r.backends.map((b) => b.instance).join(',')}`);
    const summary = `${routes.join(' ')}|${table.conflicts.join(' ')}`;
    if (summary === this.lastSummary) return;
    this.lastSummary = summary;
    const noInstance = [...allRoutes(table)].filter((r) => r.backends.length === 0).map((r) => r.id);
    this.opts.log.info(
      { routes: routes.length, backends: [...allRoutes(table)].reduce((n, r) => n + r.backends.length, 0), noInstance, conflicts: table.conflicts, revision: Math.max(this.jobs?.revision ?? 0, this.statuses?.revision ?? 0) },
      'routes updated',
    );
  }
}

function* allRoutes(table: RouteTable): Generator<{ id: string; backends: readonly { instance: string }[] }> {
  for (const list of table.exact.values()) yield* list;
  for (const list of table.wildcard.values()) yield* list;
  yield* table.tcp.values();
}
