// `ozy dashboard --etcd URL [--listen ADDR]`: a read-only web page of the
// cluster, live from etcd watches (src/dashboard/). Runs until SIGINT or SIGTERM.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { DashboardServer } from '../../dashboard/server';
import { DashboardView } from '../../dashboard/view';
import { parseListen } from '../../network/listen-address';
import { ClusterStore } from '../../store';
import type { Command, CommandIo } from '../command';
import { ETCD_ACCESS_USAGE, ETCD_OPTIONS, etcdConnection, storeFailure } from '../etcd-options';
import { untilSignal } from '../signals';

export const DEFAULT_DASHBOARD_LISTEN = '127.0.0.1:7080';

const USAGE = `Usage: ozy dashboard --etcd URL [--listen ADDR] [--etcd-prefix P]

A read-only web page of the cluster as etcd holds it, updated live: nodes
(capacity and allocation, zone, alive), jobs (commit, instances healthy of
desired, update progress, next cron run, autoscaled count), instances (node,
state, health, why, restarts), rejection reports (their problem details,
linked to docs/errors.md) and cron runs. Filtering and paging happen on the
server, so it stays quick at thousands of jobs. It shows no environment
value and has no write action (only GET and HEAD are answered). Reads etcd
only (one listing, then watches). Logs are JSON (pino) on stderr. See
docs/dashboard.md.

Options:
  --etcd URL        etcd endpoints, comma-separated [OZY_ETCD] (required)
  --listen ADDR     HOST:PORT or :PORT (${DEFAULT_DASHBOARD_LISTEN}; port 0 picks one). Bound to
                    loopback, it answers only requests addressed to a loopback name
  --etcd-prefix P   key prefix of Ozymandias' own keys [OZY_ETCD_PREFIX] (/ozy)
${ETCD_ACCESS_USAGE}`;

export const command: Command = {
  summary: 'a read-only live web page of nodes, jobs, instances and reports',
  usage: USAGE,
  async run(argv: string[], io: CommandIo): Promise<number> {
    const fail = (msg: string): number => {
      io.stderr.write(`ozy dashboard: ${msg}\n\n${USAGE}`);
      return 2;
    };
    let values;
    try {
      values = parseArgs({ args: argv, options: { ...ETCD_OPTIONS, listen: { type: 'string' } } }).values;
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
    const conn = etcdConnection(values, io.env);
    if ('problem' in conn) return fail(conn.problem);
    const listen = parseListen(values.listen ?? DEFAULT_DASHBOARD_LISTEN, '127.0.0.1');
    if (typeof listen === 'string') return fail(`--listen ${listen}`);
    if ('fd' in listen) return fail('--listen fd:N is not supported by ozy dashboard');

    const log = pino({ base: { cmd: 'dashboard' }, level: io.env.OZY_LOG_LEVEL ?? 'info' }, pino.destination({ fd: 2, sync: true }));
    const store = ClusterStore.connect({
      ...conn,
      onCorrupt: (err) => log.warn({ key: err.key, reason: err.reason }, 'skipped a corrupt value'),
    });
    const view = new DashboardView(store, {
      onError: (err) => log.warn({ err: err.message }, 'etcd watch trouble (carrying on)'),
      onRebuild: (ms, changed) => log.debug({ rebuildMs: Math.round(ms * 10) / 10, changed }, 'view rebuilt'),
    });
    const server = new DashboardServer({ view, host: listen.host, port: listen.port });
    const stopped = untilSignal();
    try {
      await view.open();
      const port = await server.start();
      const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
      const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/`;
      log.info({ address: `${host}:${port}`, url, jobs: view.data.summary.jobs.total, rebuildMs: Math.round(view.lastRebuildMs) }, 'dashboard listening');
    } catch (err) {
      await server.stop().catch(() => undefined);
      await view.close().catch(() => undefined);
      await store.close();
      try {
        return storeFailure('dashboard', err, io);
      } catch {
        io.stderr.write(`ozy dashboard: ${err instanceof Error ? err.message : String(err)}\n`);
        return 1;
      }
    }
    const signal = await stopped;
    log.info({ signal }, 'stopping');
    await server.stop();
    await view.close();
    await store.close();
    return 0;
  },
};
