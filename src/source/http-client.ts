// The HTTP client isomorphic-git talks through. isomorphic-git's own Node
// client has no timeout, and an error on a response stream nobody is reading
// at that moment is lost, which leaves the fetch waiting forever; a poll loop
// cannot afford either. This one puts an inactivity timeout on every socket
// and hands back the response as Node's async iterator, which rethrows
// stream errors to the reader.
import * as http from 'node:http';
import * as https from 'node:https';
import { createHash } from 'node:crypto';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { GitRepoTooLargeError } from './errors';
import { RefAdvertisementGuard, UploadPackGuard, type FetchLimits, type ResponseGuard } from './pack-guard';

export type { HttpClient };

export interface HttpClientOptions {
  /** Abort a request when its socket has been idle this long (connect, send or receive), ms. */
  timeoutMs: number;
  /** Redirects followed for GET requests. Default 5. */
  maxRedirects?: number;
  /** Limits on what a fetch (an upload-pack response) may bring in: pack-guard.ts. Default: no limits. */
  fetchLimits?: FetchLimits;
}

/** Refused fetch requests remembered (per client), so a poll does not download the same refused pack again. */
const REFUSED_REMEMBERED = 16;

class RequestTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`no response from the git server for ${ms} ms`);
  }
}

async function collectBody(body: unknown): Promise<Buffer | undefined> {
  if (body === undefined || body === null) return undefined;
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Uint8Array[] = [];
  if (Array.isArray(body)) {
    for (const c of body) if (c instanceof Uint8Array) chunks.push(c);
  } else if (typeof body === 'object' && Symbol.asyncIterator in body) {
    for await (const c of body as AsyncIterable<unknown>) if (c instanceof Uint8Array) chunks.push(c);
  }
  return Buffer.concat(chunks);
}

function flattenHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  opts: HttpClientOptions,
  signal: AbortSignal | undefined,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const allHeaders = { ...headers };
    if (body) allHeaders['content-length'] = String(body.byteLength);
    const req = lib.request(url, { method, headers: allHeaders, ...(signal ? { signal } : {}) }, resolve);
    req.setTimeout(opts.timeoutMs, () => req.destroy(new RequestTimeoutError(opts.timeoutMs)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed while idle fails on reuse; Node's
      // documented remedy is to retry once on a fresh socket (the body is a buffer).
      if (req.reusedSocket && err.code === 'ECONNRESET' && !signal?.aborted) {
        send(url, method, headers, body, opts, signal).then(resolve, reject);
      } else {
        reject(err);
      }
    });
    req.end(body);
  });
}

/**
 * The response body as isomorphic-git reads it, each chunk shown to the
 * guard first: past a limit the response is destroyed (the server stops
 * sending) and the error is what isomorphic-git's fetch rejects with.
 */
async function* guarded(res: http.IncomingMessage, guard: ResponseGuard, onRefused: (err: GitRepoTooLargeError) => void): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of res as AsyncIterable<Uint8Array>) {
      guard.push(chunk);
      yield chunk;
    }
  } catch (err) {
    res.destroy();
    if (err instanceof GitRepoTooLargeError) onRefused(err);
    throw err;
  }
}

export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const maxRedirects = opts.maxRedirects ?? 5;
  /** sha256 of a refused upload-pack request → why: the same request gets the same pack. */
  const refused = new Map<string, GitRepoTooLargeError>();
  return {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const method = (req.method ?? 'GET').toUpperCase();
      const headers: Record<string, string> = { ...(req.headers ?? {}) };
      // Packs are small requests; sending them whole gives the server a Content-Length (some hosts require it).
      const body = await collectBody(req.body);
      let url = new URL(req.url);
      const limits = method === 'POST' && url.pathname.endsWith('/git-upload-pack') ? opts.fetchLimits : undefined;
      const refLimits = method === 'GET' && url.pathname.endsWith('/info/refs') && url.searchParams.get('service') === 'git-upload-pack' ? opts.fetchLimits : undefined;
      const key = limits ? createHash('sha256').update(body ?? Buffer.alloc(0)).digest('hex') : '';
      const before = refused.get(key);
      if (before) throw new GitRepoTooLargeError(before.reason);
      for (let hops = 0; ; hops++) {
        const res = await send(url, method, headers, body, opts, req.signal);
        const location = res.headers.location;
        const status = res.statusCode ?? 0;
        if (method === 'GET' && status >= 300 && status < 400 && location && hops < maxRedirects) {
          res.resume();
          const next = new URL(location, url);
          // Never carry credentials to another host.
          if (next.host !== url.host) {
            delete headers.Authorization;
            delete headers.authorization;
          }
          url = next;
          continue;
        }
        const remember = (err: GitRepoTooLargeError): void => {
          if (!limits) return; // only a pack request has a body to recognise it by
          refused.set(key, err);
          if (refused.size > REFUSED_REMEMBERED) refused.delete(refused.keys().next().value!);
        };
        const guard: ResponseGuard | undefined =
          status !== 200 ? undefined : limits ? new UploadPackGuard(limits) : refLimits ? new RefAdvertisementGuard(refLimits) : undefined;
        return {
          url: url.toString(),
          method,
          statusCode: status,
          statusMessage: res.statusMessage ?? '',
          headers: flattenHeaders(res.headers),
          body: guard ? guarded(res, guard, remember) : (res[Symbol.asyncIterator]() as AsyncIterableIterator<Uint8Array>),
        };
      }
    },
  };
}
