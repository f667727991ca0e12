// A real Prometheus server of the test's own (Debian's `prometheus` 2.42):
// a loopback port, a temp TSDB, 1 s scrapes of the given targets. Started
// in the foreground and stopped by pid. Its first sample shows after ~6 s
// even at a 1 s interval (ENVIRONMENT.md): poll its query API with a deadline.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from './net';
import { tempDir } from './tmp';
import { waitFor } from './wait';

export interface PrometheusServer {
  url: string;
  /** An instant query's result vector. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  logs(): string;
  stop(): Promise<void>;
}

export function havePrometheus(): boolean {
  return spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function startPrometheus(targets: readonly string[], job = 'ozy-agent'): Promise<PrometheusServer> {
  const tmp = tempDir('ozy-prometheus-');
  const port = await freePort();
  const config = path.join(tmp.dir, 'prometheus.yml');
  fs.writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      `  - job_name: ${job}`,
      '    static_configs:',
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${path.join(tmp.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-200_000)));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
    tmp.cleanup();
  };
  try {
    await waitFor('prometheus ready', async () => (await fetch(`${url}/-/ready`)).ok, { timeoutMs: 20_000 });
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${log.slice(-3000)}`);
  }
  return {
    url,
    logs: () => log,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> }; error?: string };
      if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error ?? res.status}`);
      return body.data?.result ?? [];
    },
    stop,
  };
}
