// `ozy dashboard`'s HTTP server: the page (HTML, script and style served by
// the process, nothing from the internet), a JSON API that filters and
// pages on the server, and `/events` (server-sent events naming the
// sections that changed, so the page refetches only what it shows).
//
//   GET /                 the page            GET /api/jobs?q=&state=&offset=&limit=
//   GET /app.js, /app.css its code and style  GET /api/instances?job=&q=&state=&offset=&limit=
//   GET /api/summary      counts, versions    GET /api/nodes | /api/rejections | /api/runs (paged)
//   GET /events           change events       anything but GET/HEAD: 405
//   GET /docs/errors.md   the problem types (every problem's `type` links here under `ozy up`)
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { projectRoot } from '../paths';
import { ALLOWED_METHODS, hostAllowed, securityHeaders } from './http-rules';
import { renderErrorsDoc } from './errors-doc';
import { instanceQuery, jobQuery, pageParams, paginate, queryInstances, queryJobs } from './query';
import { SseClient, sseComment, sseFrame } from './sse';
import type { DashData, Section } from './model';
import type { ChangeEvent } from './sse';

/** What the server reads (DashboardView; a fixed value in unit tests). */
export interface DashboardSource {
  readonly data: DashData;
  readonly sectionVersions: Readonly<Record<Section, number>>;
  readonly revision: number;
  subscribe(fn: (ev: ChangeEvent) => void): () => void;
}

export interface DashboardServerOptions {
  view: DashboardSource;
  host: string;
  port: number;
  /** Heartbeat period of the event stream (default 15 s). */
  heartbeatMs?: number;
  /** Most event streams open at once (default 64); more get 503. */
  maxClients?: number;
}

interface Asset {
  type: string;
  body: Buffer;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/** The page's files, read once at start from src/dashboard/assets (they are not compiled), and docs/errors.md as a page. */
function loadAssets(): Map<string, Asset> {
  const dir = path.join(projectRoot(), 'src', 'dashboard', 'assets');
  const assets = new Map(Object.entries(ASSETS).map(([route, a]) => [route, { type: a.type, body: fs.readFileSync(path.join(dir, a.file)) }]));
  const errors = renderErrorsDoc(fs.readFileSync(path.join(projectRoot(), 'docs', 'errors.md'), 'utf8'));
  assets.set('/docs/errors.md', { type: 'text/html; charset=utf-8', body: Buffer.from(errors) });
  return assets;
}

export class DashboardServer {
  private readonly server: http.Server;
  private readonly assets = loadAssets();
  private readonly clients = new Set<SseClient>();
  private heartbeat: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private boundPort = 0;

  constructor(private readonly opts: DashboardServerOptions) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    // Slow-loris bounds: a request's head must arrive promptly.
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : this.opts.port;
    this.unsubscribe = this.opts.view.subscribe((ev) => {
      for (const c of this.clients) c.send(ev);
    });
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) c.sendRaw(sseComment('heartbeat'));
    }, this.opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    return this.boundPort;
  }

  /** Ends every event stream and connection: an open EventSource would keep the server up. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const c of this.clients) c.close();
    this.clients.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const headers = securityHeaders();
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', ALLOWED_METHODS);
      return this.json(res, 405, { error: 'the dashboard is read-only: only GET and HEAD' });
    }
    if (!hostAllowed(req.headers.host, this.opts.host)) {
      return this.json(res, 421, { error: 'this dashboard answers only to a loopback address (localhost, 127.0.0.1, [::1])' });
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    } catch {
      return this.json(res, 400, { error: 'bad request target' });
    }
    const asset = this.assets.get(url.pathname === '/index.html' ? '/' : url.pathname);
    if (asset) {
      res.writeHead(200, { 'Content-Type': asset.type, 'Content-Length': asset.body.length });
      res.end(asset.body);
      return;
    }
    if (url.pathname === '/events') return this.events(req, res);
    if (url.pathname.startsWith('/api/')) return this.api(url, res);
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    this.json(res, 404, { error: `no such page: ${url.pathname}` });
  }

  private api(url: URL, res: http.ServerResponse): void {
    const view = this.opts.view;
    const d = view.data;
    const q = url.searchParams;
    const meta = { revision: d.summary.revision, versions: view.sectionVersions };
    switch (url.pathname) {
      case '/api/summary':
        return this.json(res, 200, { ...meta, summary: d.summary });
      case '/api/nodes':
        return this.json(res, 200, { ...meta, ...paginate(d.nodes, pageParams(q)) });
      case '/api/jobs':
        return this.json(res, 200, { ...meta, ...queryJobs(d, jobQuery(q)) });
      case '/api/instances':
        return this.json(res, 200, { ...meta, ...queryInstances(d, instanceQuery(q)) });
      case '/api/rejections':
        return this.json(res, 200, { ...meta, ...paginate(d.rejections, pageParams(q)) });
      case '/api/runs':
        return this.json(res, 200, { ...meta, ...paginate(d.runs, pageParams(q)) });
      default:
        return this.json(res, 404, { error: `no such API: ${url.pathname}` });
    }
  }

  private events(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.clients.size >= (this.opts.maxClients ?? 64)) {
      res.setHeader('Retry-After', '5');
      return this.json(res, 503, { error: 'too many open event streams' });
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    req.socket.setNoDelay(true);
    const client = new SseClient(res);
    this.clients.add(client);
    res.on('close', () => this.clients.delete(client));
    // `retry`: how soon the browser reconnects; `hello`: where the stream starts, so the page can catch up.
    res.write(`retry: 2000\n${sseFrame('hello', JSON.stringify({ revision: this.opts.view.revision, versions: this.opts.view.sectionVersions }))}`);
  }

  private json(res: http.ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }
}
