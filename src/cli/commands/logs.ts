// `ozy logs INSTANCE [-c CONTAINER] [--tail N] [-f]`: an instance's output,
// from the agent of the node that runs it. The node comes from etcd (the
// instance's status, else its placement, else a cron run's pod), the
// agent's HTTP address from its etcd record; the request carries
// OZY_API_TOKEN (else the token a running `ozy up` keeps in its state dir).
import * as http from 'node:http';
import { parseArgs } from 'node:util';
import { locateInstance } from '../../observe/locate-instance';
import { ClusterStore } from '../../store';
import { readApiToken } from '../../up/api-token';
import type { Command, CommandIo } from '../command';
import { ETCD_ACCESS_USAGE, ETCD_OPTIONS, etcdConnection, storeFailure } from '../etcd-options';
import { runningUp } from '../up-discovery';

const USAGE = `Usage: ozy logs INSTANCE [-c CONTAINER] [--tail N] [-f] [--etcd URL]

Print the output (stdout and stderr) of an instance, e.g. web-0, from the
agent of the node that runs it. With several containers in the pod and no
-c, the first one is shown and the others are named on stderr.

Options:
  -c, --container C  the container of the pod
  --tail N           only the last N lines (default: all)
  -f, --follow       keep printing what the container writes until interrupted
  --etcd URL         etcd endpoints, comma-separated (or OZY_ETCD; else the
                     running ozy up's, else http://127.0.0.1:2379)
  --etcd-prefix P    key prefix (default /ozy, or OZY_ETCD_PREFIX)
${ETCD_ACCESS_USAGE}
The agents serve logs only with the cluster's token: OZY_API_TOKEN in the
environment (the one the agents have), else the token of the running ozy up
on this machine. Exit codes: 0 done, 1 not found / unreachable / refused, 2 usage.
`;

export interface LogsArgs {
  instance: string;
  container?: string;
  tail?: number;
  follow: boolean;
  etcd: Record<string, string | undefined>;
}

/** argv → arguments, or the usage problem (pure). */
export function parseLogsArgs(argv: string[]): LogsArgs | string {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...ETCD_OPTIONS, container: { type: 'string', short: 'c' }, tail: { type: 'string' }, follow: { type: 'boolean', short: 'f' } },
    });
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  const { values, positionals } = parsed;
  if (positionals.length === 0) return 'INSTANCE is required';
  if (positionals.length > 1) return `one instance at a time (got ${positionals.join(', ')})`;
  let tail: number | undefined;
  if (values.tail !== undefined) {
    if (!/^\d{1,9}$/.test(values.tail)) return `--tail: expected a number of lines, got "${values.tail}"`;
    tail = Number(values.tail);
  }
  const { container, follow, ...etcd } = values;
  delete (etcd as { tail?: string }).tail;
  return {
    instance: positionals[0]!,
    ...(container !== undefined ? { container } : {}),
    ...(tail !== undefined ? { tail } : {}),
    follow: follow === true,
    etcd,
  };
}

/** The path and query of the agent's logs route (pure). */
export function logsPath(a: Pick<LogsArgs, 'instance' | 'container' | 'tail' | 'follow'>): string {
  const q = new URLSearchParams();
  if (a.container !== undefined) q.set('container', a.container);
  if (a.tail !== undefined) q.set('tail', String(a.tail));
  if (a.follow) q.set('follow', '1');
  const qs = q.toString();
  return `/v1/logs/${encodeURIComponent(a.instance)}${qs ? `?${qs}` : ''}`;
}

/** OZY_API_TOKEN, else the running ozy up's. */
export function apiToken(env: NodeJS.ProcessEnv): string | undefined {
  if (env.OZY_API_TOKEN !== undefined && env.OZY_API_TOKEN !== '') return env.OZY_API_TOKEN;
  const up = runningUp(env);
  return up ? readApiToken(up.stateDir) : undefined;
}

export const command: Command = {
  summary: "an instance's output, from the agent of its node (OZY_API_TOKEN)",
  usage: USAGE,
  async run(argv: string[], io: CommandIo): Promise<number> {
    const args = parseLogsArgs(argv);
    if (typeof args === 'string') {
      io.stderr.write(`ozy logs: ${args}\n\n${USAGE}`);
      return 2;
    }
    const conn = etcdConnection(args.etcd, io.env, { discover: true });
    if ('problem' in conn) {
      io.stderr.write(`ozy logs: ${conn.problem}\n\n${USAGE}`);
      return 2;
    }
    const store = ClusterStore.connect(conn);
    let address: string;
    let node: string;
    try {
      const [snap, statuses, agents] = await Promise.all([store.snapshot(), store.listInstanceStatus(), store.listAgentStatus()]);
      const where = locateInstance(args.instance, { statuses, jobs: snap.jobs, ...(snap.runs ? { runs: snap.runs } : {}) });
      if (where === undefined) {
        io.stderr.write(`ozy logs: no instance "${args.instance}" in the cluster (ozy status lists them)\n`);
        return 1;
      }
      if ('pending' in where) {
        io.stderr.write(`ozy logs: ${args.instance} is pending (placed on no node): it has no output yet\n`);
        return 1;
      }
      node = where.node;
      const http = agents.get(node)?.http;
      if (typeof http !== 'string' || http === '') {
        io.stderr.write(`ozy logs: the agent of node ${node} records no HTTP address (not running, or started with --http off)\n`);
        return 1;
      }
      address = http;
    } catch (err) {
      return storeFailure('logs', err, io);
    } finally {
      await store.close();
    }
    return fetchLogs(address, node, args, apiToken(io.env), io);
  },
};

/** Streams the agent's answer to stdout; maps its refusals to messages and exit codes. */
function fetchLogs(address: string, node: string, args: LogsArgs, token: string | undefined, io: CommandIo): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(
      `http://${address}${logsPath(args)}`,
      { headers: token !== undefined ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body = (body + d).slice(0, 4096)));
          res.on('end', () => {
            const said = body.trim();
            if (status === 401) {
              const hint = token === undefined ? 'set OZY_API_TOKEN to the cluster\'s API token' : 'OZY_API_TOKEN is not the token the agents have';
              io.stderr.write(`ozy logs: the agent of node ${node} refused the request (401 ${said}): ${hint}\n`);
            } else {
              io.stderr.write(`ozy logs: the agent of node ${node} answered ${status}: ${said}\n`);
            }
            resolve(1);
          });
          return;
        }
        const chosen = header(res, 'x-ozy-container');
        const all = (header(res, 'x-ozy-containers') ?? '').split(',').filter(Boolean);
        if (args.container === undefined && all.length > 1 && chosen !== undefined) {
          io.stderr.write(`Defaulted container "${chosen}" out of: ${all.join(', ')} (use -c CONTAINER)\n`);
        }
        res.on('data', (d: Buffer) => io.stdout.write(d));
        res.on('end', () => resolve(0));
        res.on('error', (err) => {
          io.stderr.write(`ozy logs: the stream from node ${node} broke: ${err.message}\n`);
          resolve(1);
        });
      },
    );
    req.on('error', (err) => {
      io.stderr.write(`ozy logs: cannot reach the agent of node ${node} at ${address}: ${err.message}\n`);
      resolve(1);
    });
  });
}

function header(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
