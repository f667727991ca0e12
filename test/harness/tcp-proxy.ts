// A TCP proxy on 127.0.0.1 for partition tests: put it between a client and
// a server, then cut() the link and restore() it.
//  - cut('refuse'): open connections are reset, new ones are reset on
//    accept: a peer that is down (clients fail at once).
//  - cut('blackhole'): open connections stay open but nothing flows; new
//    ones are accepted and held: a silent partition (clients time out).
//    restore() lets the frozen connections flow again and resets the held
//    ones (their first bytes were never forwarded).
import * as net from 'node:net';

export type CutMode = 'refuse' | 'blackhole';

export interface TcpProxy {
  port: number;
  /** "http://127.0.0.1:<port>" */
  endpoint: string;
  cut(mode?: CutMode): void;
  restore(): void;
  /** Connections currently proxied (flowing or frozen). */
  openConnections(): number;
  stop(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export async function startTcpProxy(targetHost: string, targetPort: number, opts: { port?: number } = {}): Promise<TcpProxy> {
  let mode: CutMode | 'open' = 'open';
  const pairs = new Set<Pair>();
  const held = new Set<net.Socket>();

  const reset = (s: net.Socket): void => {
    if (s.destroyed) return;
    // A socket already shutting down (ended by pipe(), or by Node on the peer's FIN) cannot be
    // reset: libuv refuses (EINVAL), Node never closes the handle and the process spins at exit.
    if (s.writableEnded) s.destroy();
    else s.resetAndDestroy();
  };
  const flow = (p: Pair): void => {
    p.client.pipe(p.upstream);
    p.upstream.pipe(p.client);
  };
  const freeze = (p: Pair): void => {
    p.client.unpipe(p.upstream);
    p.upstream.unpipe(p.client);
    p.client.pause();
    p.upstream.pause();
  };

  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    if (mode === 'refuse') return reset(client);
    if (mode === 'blackhole') {
      held.add(client);
      client.once('close', () => held.delete(client));
      return;
    }
    const upstream = net.connect({ host: targetHost, port: targetPort });
    upstream.on('error', () => undefined);
    const pair = { client, upstream };
    pairs.add(pair);
    const close = (): void => {
      pairs.delete(pair);
      reset(client);
      reset(upstream);
    };
    client.once('close', close);
    upstream.once('close', close);
    flow(pair);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  const resetAll = (): void => {
    for (const { client, upstream } of [...pairs]) {
      reset(client);
      reset(upstream);
    }
    pairs.clear();
    for (const s of [...held]) reset(s);
    held.clear();
  };

  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    cut(m: CutMode = 'refuse') {
      if (m === 'refuse') resetAll();
      else if (mode === 'open') for (const p of pairs) freeze(p);
      mode = m;
    },
    restore() {
      if (mode === 'blackhole') for (const p of pairs) flow(p);
      for (const s of [...held]) reset(s);
      held.clear();
      mode = 'open';
    },
    openConnections: () => pairs.size,
    async stop() {
      mode = 'refuse';
      resetAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
