// The request head sent to an instance, built as one latin1 string from the
// client's raw header lines (pure). One string means one write to the
// socket, and the raw lines keep the client's spelling and repeats without
// building a header object per request.
//
// Same rules as headers.ts's forwardRequestHeaders (which the upgrade path
// uses): hop-by-hop headers dropped, Host kept as sent, X-Forwarded-For
// appended to, X-Forwarded-Host and -Proto set by this process.
// Content-Length and Transfer-Encoding are kept: the body is relayed with the
// same framing (a chunked body is chunked again, see UpstreamConn.writeBody).
import { clientAddress } from './headers';

/** Hop-by-hop names (RFC 9110 §7.6.1), and the ones this process sets itself. */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'x-forwarded-host', 'x-forwarded-proto']);
/** 1 at the lengths of the names above, Host and X-Forwarded-For: other names are passed on without lower-casing them. */
const WATCHED_LENGTH = new Uint8Array(32);
for (const name of [...DROPPED, 'host', 'x-forwarded-for']) WATCHED_LENGTH[name.length] = 1;

/**
 * `raw` is IncomingMessage.rawHeaders (name, value, …; latin1 strings, as
 * Node's parser made them, so writing the result as latin1 gives the
 * client's bytes back).
 */
export function upstreamRequestHead(method: string, target: string, raw: readonly string[], remote: string | undefined, proto: 'http' | 'https'): string {
  // Names the Connection header lists are hop-by-hop too.
  let extra: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 10 && name.toLowerCase() === 'connection') {
      for (const t of raw[i + 1]!.split(',')) {
        const token = t.trim().toLowerCase();
        // "keep-alive" (what most clients list) is dropped anyway.
        if (token.length > 0 && !DROPPED.has(token)) (extra ??= new Set()).add(token);
      }
    }
  }
  let head = `${method} ${target} HTTP/1.1\r\n`;
  let host: string | undefined;
  let forwardedFor: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    // This runs once per request, for every header line: most names need no closer look.
    if (extra === undefined && WATCHED_LENGTH[name.length] !== 1) {
      head += `${name}: ${value}\r\n`;
      continue;
    }
    const lower = name.toLowerCase();
    if (lower === 'host') {
      // A second Host line is dropped: the request was routed by the first.
      if (host !== undefined) continue;
      host = value;
    } else if (lower === 'x-forwarded-for') {
      forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      continue;
    } else if (DROPPED.has(lower) || (extra !== undefined && extra.has(lower))) continue;
    head += `${name}: ${value}\r\n`;
  }
  const client = clientAddress(remote);
  head += `x-forwarded-for: ${forwardedFor === undefined ? client : `${forwardedFor}, ${client}`}\r\n`;
  if (host !== undefined) head += `x-forwarded-host: ${host}\r\n`;
  return `${head}x-forwarded-proto: ${proto}\r\n\r\n`;
}
