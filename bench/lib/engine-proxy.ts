// A unix-socket proxy in front of the container engine that counts the
// Engine API requests passing through it: point an `ozy agent` at the proxy's
// socket (--docker-socket) and every request it makes is counted, whatever
// code made it. Bytes are forwarded unchanged; a request is a request line
// ("GET /v1.41/containers/json?... HTTP/1.1") in what the client sends.
import * as fs from 'node:fs';
import * as net from 'node:net';

export interface EngineProxy {
  socketPath: string;
  /** Requests seen, by kind ("GET containers/json", "GET containers/{id}/json"...). */
  counts(): Map<string, number>;
  total(): number;
  reset(): void;
  close(): Promise<void>;
}

// Not anchored: after a request body the next request line follows the body directly.
const REQUEST_LINE = /(GET|POST|PUT|DELETE|HEAD) (\/\S*) HTTP\/1\.[01]\r\n/g;

/** "/v1.41/containers/3f2a.../json?x=1" → "containers/{id}/json": one kind per endpoint. */
export function requestKind(method: string, url: string): string {
  const p = url.split('?')[0]!.replace(/^\/v\d+(\.\d+)?/, '').replace(/^\/libpod/, '');
  const parts = p.split('/').filter(Boolean);
  if (parts[0] === 'containers' && parts.length >= 2 && parts[1] !== 'json' && parts[1] !== 'create') parts[1] = '{id}';
  if (parts[0] === 'exec' && parts.length >= 2) parts[1] = '{id}';
  if (parts[0] === 'images' && parts.length >= 3) parts.splice(1, parts.length - 2, '{name}');
  return `${method} ${parts.join('/')}`;
}

export async function startEngineProxy(target: string, socketPath: string): Promise<EngineProxy> {
  const counts = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  fs.rmSync(socketPath, { force: true });
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    sockets.add(client).add(upstream);
    let tail = '';
    client.on('data', (chunk: Buffer) => {
      // Keep a little of the previous chunk: a request line may be split.
      const text = tail + chunk.toString('latin1');
      for (const m of text.matchAll(REQUEST_LINE)) {
        if (m.index! + m[0].length <= tail.length) continue;
        const kind = requestKind(m[1]!, m[2]!);
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
      }
      tail = text.slice(-512);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, () => resolve()));
  return {
    socketPath,
    counts: () => new Map(counts),
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    reset: () => counts.clear(),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
