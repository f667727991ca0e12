// The dashboard's HTTP rules, pure: which methods, which Host headers, which
// response headers. Read-only by construction: GET and HEAD only.

export const ALLOWED_METHODS = 'GET, HEAD';

/**
 * The page loads only what the process serves: its own script and style
 * (no inline script, so injected markup cannot run), fetches and the event
 * stream to itself, no frames, no forms, no plugins.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  };
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Bound to loopback, the server answers only requests addressed to a
 * loopback name: a web page the user visits cannot read the cluster through
 * DNS rebinding (its name resolving to 127.0.0.1). Bound elsewhere, any Host
 * is accepted (whoever reaches the port may read; see docs/dashboard.md).
 */
export function hostAllowed(hostHeader: string | undefined, boundHost: string): boolean {
  if (!isLoopbackHost(boundHost)) return true;
  if (hostHeader === undefined) return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:]+)(?::\d{1,5})?$/.exec(hostHeader.trim());
  return m !== null && isLoopbackHost(m[1]!);
}
