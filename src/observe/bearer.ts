// The bearer-token check of the agent's logs endpoint (pure). One token for
// the cluster (OZY_API_TOKEN, the same in every agent's and CLI's
// environment). Compared in constant time: both sides are hashed first so
// timingSafeEqual gets equal lengths and the token's length leaks nothing.
// An agent without a token never serves logs: there is no "open" mode.
import { createHash, timingSafeEqual } from 'node:crypto';

export type BearerVerdict =
  | { ok: true }
  /** 401: no or wrong credentials (the client should send a token). */
  | { ok: false; status: 401; reason: string }
  /** 403: this agent serves no logs at all (it has no token). */
  | { ok: false; status: 403; reason: string };

/** Checks an `Authorization` header value against the agent's token (undefined: not configured). */
export function checkBearer(header: string | undefined, token: string | undefined): BearerVerdict {
  if (token === undefined || token === '') {
    return { ok: false, status: 403, reason: 'this agent has no OZY_API_TOKEN: logs are not served' };
  }
  const presented = bearerOf(header);
  if (presented === undefined) return { ok: false, status: 401, reason: 'missing bearer token (set OZY_API_TOKEN)' };
  if (!sameSecret(presented, token)) return { ok: false, status: 401, reason: 'invalid bearer token' };
  return { ok: true };
}

/** The token of `Bearer <token>` (scheme case-insensitive), or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

/** Constant-time equality of two secrets of any lengths. */
export function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

/** The `WWW-Authenticate` value sent with a 401 (RFC 6750). */
export function challenge(reason: string): string {
  const error = reason.startsWith('invalid') ? ', error="invalid_token"' : '';
  return `Bearer realm="ozy"${error}`;
}
