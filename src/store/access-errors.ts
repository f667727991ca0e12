// Failures of a secured etcd, in words a user can act on. etcd3 reports a
// failed TLS handshake as "14 UNAVAILABLE: No connection established. Last
// error: <OpenSSL's words>", and etcd's auth failures as short server
// strings; this recognises both and says which flag or variable is wrong.
// Pure; the driver calls it before its generic translation.
import type { AccessSummary } from './etcd-access';

/** Where the failing request went and what it touched (for permission errors). */
export interface FailedRequest {
  /** "get /ozy/nodes/", "txn", "watch /ozy/jobs/"... */
  what: string;
  /** The keys the request touched, when known. */
  keys?: string[];
}

// Node/OpenSSL words for a server certificate the client cannot chain to a trusted CA.
const UNTRUSTED_SERVER = /unable to verify the first certificate|self[- ]signed certificate|unable to get (local )?issuer certificate|certificate signature failure|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT/i;
const WRONG_NAME = /does not match certificate's altnames|ERR_TLS_CERT_ALTNAME_INVALID/i;
const SERVER_EXPIRED = /certificate has expired|certificate is not yet valid/i;
// A TLS alert the server sent: it did not accept (or did not get) our client certificate.
const CLIENT_ALERT = /alert (bad certificate|certificate required|unknown ca|certificate unknown|certificate expired|certificate revoked|handshake failure|unsupported certificate)/i;
const NOT_TLS = /wrong version number|packet length too long|http request|unknown protocol/i;

/** The useful part of grpc-js's "No connection established. Last error: ..." text. */
function lastError(message: string): string {
  const alert = CLIENT_ALERT.exec(message);
  if (alert) return `TLS alert "${alert[1]!.toLowerCase()}"`;
  const m = /Last error: (?:Error: )?([^\n]*?)(?:\.? Resolution note:.*)?$/m.exec(message);
  return (m?.[1] ?? message).trim().replace(/\.$/, '');
}

function tlsProblem(message: string, s: AccessSummary): string | undefined {
  const detail = lastError(message);
  if (UNTRUSTED_SERVER.test(message)) {
    return s.ca
      ? `TLS handshake failed: the server's certificate is not signed by --etcd-ca (${detail})`
      : `TLS handshake failed: the server's certificate is not signed by a CA this machine trusts; give etcd's CA with --etcd-ca (${detail})`;
  }
  if (WRONG_NAME.test(message)) return `TLS handshake failed: the server's certificate is not valid for this address; its subjectAltName must name the host or IP of --etcd (${detail})`;
  if (SERVER_EXPIRED.test(message)) return `TLS handshake failed: the server's certificate is expired or not yet valid (${detail})`;
  if (CLIENT_ALERT.test(message)) {
    return s.cert
      ? `TLS handshake failed: the server refused the client certificate --etcd-cert (not signed by a CA in etcd's --trusted-ca-file, or expired) (${detail})`
      : `TLS handshake failed: the server requires a client certificate (--etcd-cert/--etcd-key) (${detail})`;
  }
  if (NOT_TLS.test(message)) return `TLS handshake failed: the server does not speak TLS; use an http:// endpoint, or start etcd with --cert-file/--key-file (${detail})`;
  return undefined;
}

function keysText(req: FailedRequest): string {
  const keys = req.keys ?? [];
  if (keys.length === 0) return req.what;
  const shown = keys.slice(0, 3).join(', ');
  return `${shown}${keys.length > 3 ? ` (and ${keys.length - 3} more)` : ''}`;
}

function authProblem(message: string, s: AccessSummary, req: FailedRequest): string | undefined {
  if (/authentication failed, invalid user ID or password/.test(message)) {
    return `authentication failed: wrong OZY_ETCD_USERNAME or OZY_ETCD_PASSWORD (user "${s.username ?? ''}")`;
  }
  if (/etcdserver: user name is empty/.test(message)) {
    return 'etcd has authentication enabled: set OZY_ETCD_USERNAME and OZY_ETCD_PASSWORD (or use a client certificate whose CN is an etcd user)';
  }
  if (/etcdserver: authentication is not enabled/.test(message)) {
    return `OZY_ETCD_USERNAME is set ("${s.username ?? ''}") but etcd does not have authentication enabled (etcdctl auth enable), or unset it`;
  }
  if (/etcdserver: permission denied/.test(message)) {
    const who = s.username !== undefined ? `user "${s.username}"` : s.cert ? "the client certificate's user (its CN)" : 'this client';
    return `permission denied for ${who} on ${keysText(req)}: its role needs readwrite on the Ozymandias prefix and /skydns/ (docs/security.md)`;
  }
  return undefined;
}

/**
 * A message for a TLS or auth failure of `req`, prefixed with the endpoints;
 * undefined when `message` (an etcd3/gRPC error message) is neither.
 */
export function explainAccessFailure(message: string, s: AccessSummary, req: FailedRequest): string | undefined {
  const problem = tlsProblem(message, s) ?? authProblem(message, s, req);
  return problem === undefined ? undefined : `etcd at ${s.endpoints.join(',')}: ${problem}`;
}
