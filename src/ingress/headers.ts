// Header rewriting between client and instance (pure). Hop-by-hop headers
// (RFC 9110 §7.6.1) belong to one connection and are not forwarded; the
// X-Forwarded-* headers tell the instance who asked and for which host.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade']);

/** Hop-by-hop names: the fixed ones plus any the Connection header lists. */
function hopHeaders(connection: string | string[] | undefined): Set<string> {
  if (connection === undefined) return HOP_BY_HOP;
  const extra = (Array.isArray(connection) ? connection.join(',') : connection)
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t.length > 0 && t !== 'close' && t !== 'keep-alive' && t !== 'upgrade');
  if (extra.length === 0) return HOP_BY_HOP;
  return new Set([...HOP_BY_HOP, ...extra]);
}

/** "::ffff:10.0.0.1" → "10.0.0.1": what the client's address looks like to a human and to most frameworks. */
export function clientAddress(remote: string | undefined): string {
  if (!remote) return 'unknown';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}

/**
 * The headers sent to the instance. Host is kept as the client sent it (the
 * instance may serve several hosts); X-Forwarded-For is appended to (a chain
 * of proxies keeps its history); X-Forwarded-Host and -Proto are set, since
 * this process is the one that saw them. `transfer-encoding` is kept: Node
 * re-frames a chunked body itself when the header says so. For an upgrade,
 * Connection and Upgrade are what the instance must see.
 */
export function forwardRequestHeaders(
  headers: IncomingHttpHeaders,
  remote: string | undefined,
  proto: 'http' | 'https',
  upgrade = false,
): OutgoingHttpHeaders {
  const hop = hopHeaders(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (hop.has(name)) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  const client = clientAddress(remote);
  const prior = headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}` : client;
  if (headers.host !== undefined) out['x-forwarded-host'] = headers.host;
  out['x-forwarded-proto'] = proto;
  if (upgrade) {
    out.connection = 'upgrade';
    if (headers.upgrade !== undefined) out.upgrade = headers.upgrade;
  }
  return out;
}

/**
 * The instance's response headers as a flat [name, value, ...] list (keeps
 * repeated Set-Cookie lines and the instance's spelling), minus hop-by-hop
 * ones and transfer-encoding: the client connection is framed by this
 * process (chunked for HTTP/1.1, close-delimited for HTTP/1.0).
 */
export function filterResponseHeaders(raw: readonly string[]): string[] {
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'connection') connection = raw[i + 1];
  const hop = hopHeaders(connection);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (hop.has(name) || name === 'transfer-encoding') continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** True when the request carries a body (so it cannot be replayed once sent). */
export function hasRequestBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const len = headers['content-length'];
  return len !== undefined && len !== '0';
}
