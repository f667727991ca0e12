// Where the agent's HTTP endpoint listens (`--http` / OZY_HTTP), and the
// binding rules of DESIGN.md "Observability":
//   - no flag: 127.0.0.1:7070, and when that is taken (several agents on one
//     machine) an ephemeral loopback port: the endpoint is a convenience, a
//     busy port must not stop an agent
//   - `--http off`: no endpoint
//   - `--http ADDR`: exactly that; failing to bind it is an error (the
//     operator asked for it, and Prometheus is configured to scrape it)
// The address in use goes into the agent's etcd record (how `ozy logs` finds it).
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseListen } from '../network/listen-address';

export type HttpListen = { kind: 'default' } | { kind: 'off' } | { kind: 'explicit'; host: string; port: number };

export const DEFAULT_HTTP_HOST = '127.0.0.1';
export const DEFAULT_HTTP_PORT = 7070;

/** `undefined` (no flag) → default; "off"; "HOST:PORT", "[::1]:PORT", ":PORT" (every address). A string is the problem. */
export function parseHttpListen(text: string | undefined): HttpListen | string {
  if (text === undefined) return { kind: 'default' };
  const t = text.trim();
  if (t.toLowerCase() === 'off') return { kind: 'off' };
  if (t.startsWith('fd:')) return `"${text}": expected HOST:PORT, :PORT or off`;
  const target = parseListen(t);
  if (typeof target === 'string') return `${target.replace('or fd:N', 'or off')}`;
  if ('fd' in target) return `"${text}": expected HOST:PORT, :PORT or off`;
  return { kind: 'explicit', host: target.host, port: target.port };
}

/** An explicit --http address could not be bound. */
export class HttpBindError extends Error {
  readonly code = 'HTTP_BIND_FAILED';
  constructor(
    readonly address: string,
    readonly reason: string,
  ) {
    super(`--http ${address}: cannot listen (${reason})`);
    this.name = 'HttpBindError';
  }
}

/**
 * Binds `server` as `target` says. Resolves with the bound host and port,
 * or undefined for "off". Throws HttpBindError when an explicit address
 * cannot be bound; the default falls back to an ephemeral loopback port.
 */
export async function listenHttp(server: http.Server, target: HttpListen): Promise<{ host: string; port: number } | undefined> {
  if (target.kind === 'off') return undefined;
  if (target.kind === 'explicit') {
    try {
      return await bind(server, target.host, target.port);
    } catch (err) {
      throw new HttpBindError(formatHostPort(target.host, target.port), errCode(err));
    }
  }
  try {
    return await bind(server, DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT);
  } catch (err) {
    if (errCode(err) !== 'EADDRINUSE') throw err;
    return bind(server, DEFAULT_HTTP_HOST, 0);
  }
}

function bind(server: http.Server, host: string, port: number): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      const a = server.address() as AddressInfo;
      resolve({ host, port: a.port });
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * The address other machines (and `ozy logs`) use: a server bound to every
 * address is reached through the node's --address.
 */
export function reachableAddress(bound: { host: string; port: number }, nodeAddress: string): string {
  const unspecified = bound.host === '0.0.0.0' || bound.host === '::' || bound.host === '';
  return formatHostPort(unspecified ? nodeAddress : bound.host, bound.port);
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function errCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}
