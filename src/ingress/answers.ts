// The ingress's own answers (pure): an RFC 9457 problem body for each way a
// request can fail before or instead of reaching an instance. `type` links
// to docs/errors.md like every other problem Ozymandias writes.
import { makeProblem, type ProblemType } from '../problems';
import type { HttpRoute } from './route-table';

export interface IngressAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type IngressFailure =
  | { kind: 'unknown-host'; host: string; path: string }
  | { kind: 'no-path'; host: string; path: string }
  | { kind: 'no-instance'; route: HttpRoute; host: string; path: string }
  | { kind: 'timeout'; instance: string; address: string; timeoutMs: number; host: string; path: string }
  | { kind: 'bad-gateway'; instance: string; address: string; reason: string; host: string; path: string }
  | { kind: 'all-refused'; route: HttpRoute; tried: number; reason: string; host: string; path: string };

const STATUS: Record<IngressFailure['kind'], [number, ProblemType]> = {
  'unknown-host': [404, 'ingress-no-route'],
  'no-path': [404, 'ingress-no-route'],
  'no-instance': [503, 'ingress-no-healthy-instance'],
  timeout: [504, 'ingress-backend-timeout'],
  'bad-gateway': [502, 'ingress-bad-gateway'],
  'all-refused': [502, 'ingress-bad-gateway'],
};

function detailOf(f: IngressFailure): string {
  switch (f.kind) {
    case 'unknown-host':
      return f.host === '' ? 'the request has no Host header' : `no job routes host "${f.host}"`;
    case 'no-path':
      return `no route of host "${f.host}" matches path "${f.path}"`;
    case 'no-instance':
      return `job ${f.route.job} routes ${f.route.host}${f.route.path} to port ${f.route.port}, but none of its instances is healthy and reachable`;
    case 'timeout':
      return `instance ${f.instance} (${f.address}) did not answer within ${f.timeoutMs} ms`;
    case 'bad-gateway':
      return `instance ${f.instance} (${f.address}) failed the request: ${f.reason}`;
    case 'all-refused':
      return `job ${f.route.job}: all ${f.tried} instance(s) tried refused the connection (last: ${f.reason})`;
  }
}

export function failureAnswer(f: IngressFailure): IngressAnswer {
  const [status, type] = STATUS[f.kind];
  const extra: Record<string, unknown> = { status, host: f.host, path: f.path };
  if ('route' in f) extra.job = f.route.job;
  if ('instance' in f) extra.instance = f.instance;
  const body = `${JSON.stringify(makeProblem(type, { detail: detailOf(f), extra }))}\n`;
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
  };
  // A client that retries a 503 should wait for the next health interval or so, not hammer.
  if (status === 503) headers['retry-after'] = '1';
  return { status, headers, body };
}
