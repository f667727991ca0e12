// `ozy ingress`'s metrics: requests by status code and their duration,
// served on its own listener (`ozy ingress --http ADDR`: /metrics and
// /healthz), since the ingress is a process of its own. With --workers N
// each worker counts its own requests and the primary serves the sum
// (prom-client's AggregatorRegistry asks every worker over the cluster IPC).
// Labels stay bounded: `code` is the HTTP status (a few dozen values at
// most); no host, path or instance labels.
import * as http from 'node:http';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';

export const INGRESS_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class IngressMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'code'>;
  private readonly duration: Histogram<'code'>;

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'ozy_ingress_requests_total', help: 'HTTP requests the ingress answered, by status code (502/503/504: no healthy instance, or it failed).', labelNames: ['code'], registers });
    this.duration = new Histogram({
      name: 'ozy_ingress_request_duration_seconds',
      help: 'Time from a request to the end of its response, by status code.',
      labelNames: ['code'],
      buckets: INGRESS_DURATION_BUCKETS,
      registers,
    });
  }

  /** Times `res` from now to its end (finished or cut short). */
  track(res: http.ServerResponse): void {
    const t0 = process.hrtime.bigint();
    res.once('close', () => {
      const code = String(res.statusCode);
      this.requests.inc({ code });
      this.duration.observe({ code }, Number(process.hrtime.bigint() - t0) / 1e9);
    });
  }

  /** In a worker of `--workers N`: answer the primary's aggregation requests with this registry. */
  shareWithPrimary(): void {
    AggregatorRegistry.setRegistries([this.registry]);
    // prom-client answers the primary's requests only once an AggregatorRegistry
    // exists in this process (its constructor adds the IPC listener).
    new AggregatorRegistry();
  }
}

/**
 * The ingress' metrics listener: /metrics from `text()`, /healthz; other
 * paths 404, other methods 405. Resolves once listening.
 */
export async function serveIngressMetrics(host: string, port: number, text: () => Promise<string>, contentType: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://ingress').pathname;
    if (path !== '/metrics' && path !== '/healthz') return plain(res, 404, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return plain(res, 405, 'method not allowed\n');
    }
    if (path === '/healthz') return plain(res, 200, 'ok\n');
    text().then(
      (body) => {
        res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
      (err: unknown) => plain(res, 500, `${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** The primary of `--workers N`: the sum of every worker's metrics. */
export function aggregatedMetrics(): { text: () => Promise<string>; contentType: string } {
  const agg = new AggregatorRegistry();
  return { text: () => agg.clusterMetrics(), contentType: agg.contentType };
}

function plain(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
