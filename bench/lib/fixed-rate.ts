// A fixed-rate HTTP load with microsecond latencies: what "the latency the
// proxy adds when it is not saturated" needs. (wrk only knows "as fast as
// possible"; autocannon rounds latencies to whole milliseconds, too coarse
// for a 2 ms goal.) Requests are started on a 1 ms tick at the overall rate
// over `connections` keep-alive connections; each latency runs from the
// moment the request was started, so a queue in front of a slow target is
// part of it.
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface FixedRateResult {
  /** Requests per second actually completed. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors and non-2xx answers. */
  errors: number;
}

export function percentileOf(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function fixedRate(opts: { port: number; host: string; rate: number; seconds: number; connections: number }): Promise<FixedRateResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections });
  const total = Math.max(1, Math.round(opts.rate * opts.seconds));
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  let done = 0;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const finish = (): void => {
      if (++done < total) return;
      agent.destroy();
      const elapsed = (performance.now() - t0) / 1000;
      latencies.sort((a, b) => a - b);
      resolve({ rps: Math.round(latencies.length / elapsed), p50Ms: percentileOf(latencies, 50), p99Ms: percentileOf(latencies, 99), errors });
    };
    const fire = (): void => {
      const started = performance.now();
      const req = http.get({ agent, host: '127.0.0.1', port: opts.port, path: '/', headers: { host: opts.host } }, (res) => {
        const ok = res.statusCode !== undefined && res.statusCode < 300;
        res.resume();
        res.once('end', () => {
          if (ok) latencies.push(performance.now() - started);
          else errors++;
          finish();
        });
      });
      req.once('error', () => {
        errors++;
        finish();
      });
    };
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * opts.rate));
      while (sent < due) {
        sent++;
        fire();
      }
      if (sent >= total) clearInterval(timer);
    }, 1);
  });
}
