// The TCP half of `ozy ingress`: one listener per `tcp:` route, each
// connection piped to an instance of the job (the next one in round-robin
// order when a connect fails). A route that disappears closes its listener
// but not the connections already established: they end when either side
// closes them.
import * as net from 'node:net';
import type { Logger } from 'pino';
import type { Balancer } from './balancer';
import type { RouteTable, TcpRoute } from './route-table';

interface Listener {
  server: net.Server;
  route: TcpRoute;
}

export class TcpForwarder {
  private readonly listeners = new Map<number, Listener>();
  private readonly open = new Set<net.Socket>();
  private closed = false;

  constructor(
    private readonly ip: string,
    private readonly balancer: Balancer,
    private readonly log: Logger,
  ) {}

  /** Opens listeners for new routes, closes those of vanished ones, repoints the rest. */
  update(table: RouteTable): void {
    if (this.closed) return;
    for (const [port, route] of table.tcp) {
      const l = this.listeners.get(port);
      if (l) l.route = route;
      else this.listen(port, route);
    }
    for (const [port, l] of this.listeners) {
      if (table.tcp.has(port)) continue;
      this.listeners.delete(port);
      l.server.close();
      this.log.info({ port, job: l.route.job }, 'tcp route removed: listener closed');
    }
  }

  /** Ports listened on now (for tests and logs). */
  ports(): number[] {
    return [...this.listeners.keys()].sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    this.closed = true;
    const servers = [...this.listeners.values()].map((l) => l.server);
    this.listeners.clear();
    for (const s of this.open) s.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private listen(port: number, route: TcpRoute): void {
    // allowHalfOpen: a client that shuts down its sending side still gets the instance's reply.
    const server = net.createServer({ allowHalfOpen: true });
    const entry: Listener = { server, route };
    this.listeners.set(port, entry);
    server.on('connection', (sock) => this.forward(sock, entry.route));
    server.on('error', (err: NodeJS.ErrnoException) => {
      // Port taken or not permitted: forget it, so the next table update tries again.
      if (this.listeners.get(port) === entry) this.listeners.delete(port);
      this.log.error({ port, job: route.job, err: err.message, code: err.code }, 'cannot listen for tcp route');
    });
    server.listen(port, this.ip, () => this.log.info({ address: `${this.ip}:${port}`, job: route.job }, 'tcp route listening'));
  }

  private forward(client: net.Socket, route: TcpRoute): void {
    this.open.add(client);
    client.once('close', () => this.open.delete(client));
    client.on('error', () => client.destroy());
    const order = this.balancer.order(route.id, route.backends);
    if (order.length === 0) {
      this.log.warn({ port: route.listenPort, job: route.job }, 'tcp connection refused: no healthy instance');
      client.destroy();
      return;
    }
    const tryAt = (i: number): void => {
      const b = order[i]!;
      const upstream = net.connect({ host: b.host, port: b.port, allowHalfOpen: true });
      let connected = false;
      const onClientGone = (): void => void upstream.destroy();
      client.once('close', onClientGone);
      upstream.once('connect', () => {
        connected = true;
        this.balancer.connected(b.address);
        // Ends travel through the pipes (each side's FIN becomes the other's);
        // only a broken side tears the other down, so no reply bytes are lost.
        client.off('close', onClientGone);
        client.once('close', (hadError) => hadError && upstream.destroy());
        upstream.once('close', (hadError) => hadError && client.destroy());
        client.pipe(upstream).pipe(client);
      });
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (connected) return void client.destroy();
        client.off('close', onClientGone);
        upstream.destroy();
        this.balancer.connectFailed(b.address);
        if (client.destroyed) return;
        if (i + 1 < order.length) return tryAt(i + 1);
        this.log.warn({ port: route.listenPort, job: route.job, err: err.code ?? err.message }, 'tcp connection refused: every instance failed to connect');
        client.destroy();
      });
    };
    tryAt(0);
  }
}
