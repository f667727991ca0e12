// The agent's HTTP endpoint (DESIGN.md "Observability"):
//   GET /metrics                      Prometheus text format (agent-metrics.ts)
//   GET /healthz                      200 while the process serves
//   GET /readyz                       200 once the lease is held and the first node round is done, else 503 + reason
//   GET /v1/logs/<instance>?container=C&tail=N&follow=1
//                                     the output of an instance on this node; bearer token required (bearer.ts)
// Other paths 404, other methods 405. Nothing here reads etcd: the logs
// route asks the engine for this node's containers only.
import * as http from 'node:http';
import type { Logger } from 'pino';
import type { LogFrame } from '../runtime/log-frames';
import { challenge, checkBearer } from './bearer';

export interface Readiness {
  ready: boolean;
  /** Why not, when not ready. */
  reason?: string;
}

/** A container of an instance on this node, in the pod's start order. */
export interface LogContainer {
  name: string;
  id: string;
}

export interface AgentHttpOptions {
  metrics: { text(): Promise<string>; contentType: string };
  readiness(): Readiness;
  /** OZY_API_TOKEN of this agent; undefined: logs are never served. */
  apiToken: string | undefined;
  /** The containers of `instance` on this node; undefined when it has none here. */
  containersOf(instance: string): Promise<LogContainer[] | undefined>;
  streamLogs(id: string, opts: { tail?: number; follow?: boolean; signal: AbortSignal }): AsyncIterable<LogFrame>;
  log: Logger;
}

/** `/v1/logs/<instance>` query, parsed (pure). A string is the 400 message. */
export interface LogsQuery {
  instance: string;
  container?: string;
  tail?: number;
  follow: boolean;
}

const INSTANCE_NAME = /^[a-z0-9]([-a-z0-9.]{0,250}[a-z0-9])?$/;

export function parseLogsQuery(pathname: string, params: URLSearchParams): LogsQuery | string {
  const instance = decodeURIComponent(pathname.slice('/v1/logs/'.length));
  if (!INSTANCE_NAME.test(instance)) return `"${instance}" is not an instance name`;
  const container = params.get('container') ?? undefined;
  if (container !== undefined && !/^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/i.test(container)) return `"${container}" is not a container name`;
  const tailText = params.get('tail');
  let tail: number | undefined;
  if (tailText !== null && tailText !== '' && tailText !== '-1') {
    if (!/^\d{1,9}$/.test(tailText)) return `tail: expected a number of lines, got "${tailText}"`;
    tail = Number(tailText);
  }
  const f = (params.get('follow') ?? '').toLowerCase();
  return { instance, ...(container !== undefined ? { container } : {}), ...(tail !== undefined ? { tail } : {}), follow: f === '1' || f === 'true' };
}

export function createAgentHttpServer(opts: AgentHttpOptions): http.Server {
  const server = http.createServer((req, res) => {
    void route(opts, req, res).catch((err: unknown) => {
      opts.log.warn({ err: err instanceof Error ? err.message : String(err), path: pathOf(req) }, 'HTTP request failed');
      if (!res.headersSent) text(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  // A following `ozy logs` holds its request open as long as it likes.
  server.requestTimeout = 0;
  return server;
}

function pathOf(req: http.IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://agent').pathname;
}

async function route(opts: AgentHttpOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://agent');
  const path = url.pathname;
  const known = path === '/metrics' || path === '/healthz' || path === '/readyz' || path.startsWith('/v1/logs/');
  if (!known) return text(res, 404, 'not found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return text(res, 405, 'method not allowed\n');
  }
  if (path === '/healthz') return text(res, 200, 'ok\n');
  if (path === '/readyz') {
    const r = opts.readiness();
    return r.ready ? text(res, 200, 'ready\n') : text(res, 503, `not ready: ${r.reason ?? 'starting'}\n`);
  }
  if (path === '/metrics') {
    const body = await opts.metrics.text();
    res.writeHead(200, { 'content-type': opts.metrics.contentType, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  return logs(opts, req, res, url);
}

async function logs(opts: AgentHttpOptions, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  // Authentication first: nothing about this node's instances is told without the token.
  const auth = checkBearer(req.headers.authorization, opts.apiToken);
  if (!auth.ok) {
    if (auth.status === 401) res.setHeader('www-authenticate', challenge(auth.reason));
    return text(res, auth.status, `${auth.reason}\n`);
  }
  const q = parseLogsQuery(url.pathname, url.searchParams);
  if (typeof q === 'string') return text(res, 400, `${q}\n`);
  const containers = await opts.containersOf(q.instance);
  if (containers === undefined || containers.length === 0) return text(res, 404, `instance ${q.instance} has no containers on this node\n`);
  const names = containers.map((c) => c.name);
  const chosen = q.container === undefined ? containers[0]! : containers.find((c) => c.name === q.container);
  if (!chosen) return text(res, 404, `instance ${q.instance} has no container "${q.container}" (containers: ${names.join(', ')})\n`);
  opts.log.debug({ instance: q.instance, container: chosen.name, tail: q.tail, follow: q.follow }, 'serving logs');
  // The client learns which container it got and which exist (kubectl's "Defaulted container" note).
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-ozy-container': chosen.name, 'x-ozy-containers': names.join(','), 'cache-control': 'no-store' });
  if (req.method === 'HEAD') return void res.end();
  res.flushHeaders();
  // The client going away ends the engine stream too.
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  try {
    for await (const frame of opts.streamLogs(chosen.id, { ...(q.tail !== undefined ? { tail: q.tail } : {}), follow: q.follow, signal: abort.signal })) {
      if (abort.signal.aborted) break;
      if (!res.write(frame.data)) await drained(res, abort.signal);
    }
  } finally {
    abort.abort();
    res.end();
  }
}

/** A slow client: wait until it took what was written, or went away. */
function drained(res: http.ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

function text(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
