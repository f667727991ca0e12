// Health probes: one attempt each, bounded by the check's timeout. Each
// says what it saw (`GET /health → 404`, `connection refused`), because a
// check that fails without saying why sends users to the container's logs
// for something the agent already knew.
import * as http from 'node:http';
import * as net from 'node:net';
import { formatDuration } from '../render/units';

/** One attempt: passed or not, and what was seen, for `ozy status`. */
export interface CheckResult {
  ok: boolean;
  /** `GET /health → 404`, `TCP 5432 → connection refused`, `exec → exit 1: not ready`. */
  saw: string;
}

/** HTTP check: healthy when the response status is 200 within the timeout. */
export function probeHttp(host: string, port: number, path: string, timeoutMs: number): Promise<CheckResult> {
  const what = `GET ${path}`;
  return new Promise((resolve) => {
    const req = http.get({ host, port, path, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve({ ok: res.statusCode === 200, saw: `${what} → ${res.statusCode ?? 'no status'}` });
    });
    req.on('timeout', () => req.destroy(new ProbeTimeout(timeoutMs)));
    req.on('error', (err) => resolve({ ok: false, saw: `${what} → ${networkFailure(err)}` }));
  });
}

/** TCP check: healthy when a connection opens within the timeout. */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<CheckResult> {
  const what = `TCP ${port}`;
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (r: CheckResult): void => {
      sock.destroy();
      resolve(r);
    };
    sock.setTimeout(timeoutMs, () => done({ ok: false, saw: `${what} → ${networkFailure(new ProbeTimeout(timeoutMs))}` }));
    sock.once('connect', () => done({ ok: true, saw: `${what} → connected` }));
    sock.once('error', (err) => done({ ok: false, saw: `${what} → ${networkFailure(err)}` }));
  });
}

class ProbeTimeout extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${formatDuration(ms)}`);
  }
}

/** A network error as a user reads it: `connection refused`, `timed out after 1s`, `no route to host`. */
export function networkFailure(err: unknown): string {
  if (err instanceof ProbeTimeout) return err.message;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
      return 'no route to host';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ETIMEDOUT':
      return 'timed out';
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_VERSION':
      return 'not an HTTP response';
    default:
      return code ?? (err instanceof Error ? err.message : String(err));
  }
}
