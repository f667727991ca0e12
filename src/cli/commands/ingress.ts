// `ozy ingress --etcd URL --listen ADDR [--tcp-ip IP] [--backend-timeout D]`:
// the HTTP/TCP ingress of one node. Runs until SIGINT or SIGTERM.
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import pino from 'pino';
import { ConfigError, parseDurationMs } from '../../config';
import { DEFAULT_BACKEND_TIMEOUT_MS, IngressServer } from '../../ingress/ingress-server';
import { announceListening, isIngressWorker, runWorkers } from '../../ingress/workers';
import { parseListen } from '../../network/listen-address';
import { ClusterStore } from '../../store';
import type { Command, CommandIo } from '../command';
import { untilSignal } from '../signals';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatHostPort, parseHttpListen } from '../../observe/http-listen';
import { aggregatedMetrics, IngressMetrics, serveIngressMetrics } from '../../observe/ingress-metrics';
import { ETCD_ACCESS_USAGE, ETCD_OPTIONS, etcdConnection } from '../etcd-options';

const USAGE = `Usage: ozy ingress --etcd URL --listen ADDR [--tcp-ip IP] [--backend-timeout D] [--workers N] [--http ADDR] [--etcd-prefix P]

Routes HTTP requests by Host header and path prefix, and TCP connections by
port, to the healthy instances of the jobs that declare \`ingress:\`, on any
node. Reads etcd only (watches it: route changes apply at once without
dropping open connections). Logs are JSON (pino) on stderr. See docs/ingress.md.

Options:
  --etcd URL              etcd endpoints, comma-separated [OZY_ETCD] (required)
  --listen ADDR           HTTP address: HOST:PORT, :PORT (all addresses), or fd:N
                          (a socket passed by systemd socket activation) (required)
  --tcp-ip IP             address the \`tcp:\` routes listen on (0.0.0.0)
  --backend-timeout D     an instance that sends nothing for this long: 504 (60s)
  --workers N             processes sharing the listening sockets; one proxies on one
                          core, so up to the node's cores (1)
  --http ADDR             serve /metrics (requests by code and duration) and /healthz on
                          HOST:PORT or :PORT [OZY_INGRESS_HTTP] (off); with --workers N
                          the sum of all workers (docs/observability.md)
  --etcd-prefix P         key prefix [OZY_ETCD_PREFIX] (/ozy)
${ETCD_ACCESS_USAGE}`;

export const command: Command = {
  summary: 'route HTTP (by host and path) and TCP (by port) to healthy instances',
  usage: USAGE,
  async run(argv: string[], io: CommandIo): Promise<number> {
    const fail = (msg: string): number => {
      io.stderr.write(`ozy ingress: ${msg}\n\n${USAGE}`);
      return 2;
    };
    let values;
    try {
      values = parseArgs({
        args: argv,
        options: {
          ...ETCD_OPTIONS,
          listen: { type: 'string' },
          'tcp-ip': { type: 'string' },
          'backend-timeout': { type: 'string' },
          workers: { type: 'string' },
          http: { type: 'string' },
        },
      }).values;
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
    const conn = etcdConnection(values, io.env);
    if ('problem' in conn) return fail(conn.problem);
    if (values.listen === undefined) return fail('--listen is required');
    const listen = parseListen(values.listen);
    if (typeof listen === 'string') return fail(`--listen ${listen}`);
    const tcpIp = values['tcp-ip'] ?? '0.0.0.0';
    if (isIP(tcpIp) === 0) return fail(`--tcp-ip "${tcpIp}" is not an IP address`);
    let backendTimeoutMs = DEFAULT_BACKEND_TIMEOUT_MS;
    try {
      if (values['backend-timeout'] !== undefined) backendTimeoutMs = parseDurationMs(values['backend-timeout'], '--backend-timeout');
    } catch (err) {
      if (err instanceof ConfigError) return fail(err.message);
      throw err;
    }
    if (backendTimeoutMs <= 0) return fail('--backend-timeout must be above 0');
    const workers = values.workers === undefined ? 1 : Number(values.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) return fail(`--workers "${values.workers}" is not a count from 1 to 64`);
    if (workers > 1 && 'fd' in listen) return fail('--listen fd:N works with one worker only');
    const httpText = values.http ?? io.env.OZY_INGRESS_HTTP;
    const metricsAt = httpText === undefined || httpText === '' ? ({ kind: 'off' } as const) : parseHttpListen(httpText);
    if (typeof metricsAt === 'string') return fail(`--http ${metricsAt}`);

    const worker = isIngressWorker();
    const log = pino({ base: { cmd: 'ingress', ...(worker ? { worker: process.pid } : {}) }, level: io.env.OZY_LOG_LEVEL ?? 'info' }, pino.destination({ fd: 2, sync: true }));
    const metrics = metricsAt.kind === 'off' ? undefined : new IngressMetrics();
    // The primary of --workers N serves the workers' sum; a single process its own registry.
    let metricsServer: Server | undefined;
    if (metricsAt.kind === 'explicit' && !worker) {
      const source = workers > 1 ? aggregatedMetrics() : { text: () => metrics!.registry.metrics(), contentType: metrics!.registry.contentType };
      try {
        metricsServer = await serveIngressMetrics(metricsAt.host, metricsAt.port, source.text, source.contentType);
      } catch (err) {
        io.stderr.write(`ozy ingress: --http ${formatHostPort(metricsAt.host, metricsAt.port)}: cannot listen (${(err as { code?: string }).code ?? String(err)})\n`);
        return 1;
      }
      const a = metricsServer.address() as AddressInfo;
      log.info({ http: formatHostPort(metricsAt.host, a.port) }, 'ingress metrics listening');
    }
    if (worker) metrics?.shareWithPrimary();
    if (workers > 1 && !worker) {
      const code = await runWorkers(workers, log);
      metricsServer?.close();
      return code;
    }
    const store = ClusterStore.connect({
      ...conn,
      onCorrupt: (err) => log.warn({ key: err.key, reason: err.reason }, 'skipped a corrupt value'),
    });
    const ingress = new IngressServer({ store, listen, tcpIp, backendTimeoutMs, log, ...(metrics ? { metrics } : {}) });
    const stopped = untilSignal();
    try {
      const address = await ingress.start();
      if (worker) announceListening(address);
      log.info({ address, tcpIp, backendTimeoutMs }, worker ? 'ingress worker listening' : 'ingress listening');
    } catch (err) {
      log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'ingress failed to start');
      io.stderr.write(`ozy ingress: ${err instanceof Error ? err.message : String(err)}\n`);
      await ingress.stop(0).catch(() => undefined);
      await store.close();
      metricsServer?.close();
      return 1;
    }
    const signal = await stopped;
    log.info({ signal }, 'stopping');
    metricsServer?.closeAllConnections();
    metricsServer?.close();
    await ingress.stop();
    await store.close();
    return 0;
  },
};
