// `ozy dns --etcd URL --listen ADDR [--zone ozy.local]`: an authoritative
// DNS server for the instances' records, for nodes without CoreDNS. Runs
// until SIGINT or SIGTERM.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { DnsServer } from '../../network/dns-server';
import { parseListen } from '../../network/listen-address';
import { ClusterStore } from '../../store';
import type { Command, CommandIo } from '../command';
import { untilSignal } from '../signals';
import { ETCD_ACCESS_USAGE, ETCD_OPTIONS, etcdConnection } from '../etcd-options';

const USAGE = `Usage: ozy dns --etcd URL --listen ADDR [--zone ozy.local] [--etcd-prefix P]

Answers A and SRV queries (UDP and TCP) for the zone from the /skydns records
the agents publish for healthy instances, as CoreDNS's etcd plugin would:
web.ozy.local is every healthy instance of job web, web-1.web.ozy.local one.
Names outside the zone are refused. Reads etcd only (watches it). Logs are
JSON (pino) on stderr. See docs/dns.md.

Options:
  --etcd URL        etcd endpoints, comma-separated [OZY_ETCD] (required)
  --listen ADDR     HOST:PORT or :PORT, for UDP and TCP (required; port 0 picks one)
  --zone Z          the zone served [OZY_DNS_ZONE] (ozy.local)
  --etcd-prefix P   key prefix of Ozymandias' own keys [OZY_ETCD_PREFIX] (/ozy)
${ETCD_ACCESS_USAGE}`;

export const command: Command = {
  summary: 'answer A and SRV queries for the instances\' DNS records',
  usage: USAGE,
  async run(argv: string[], io: CommandIo): Promise<number> {
    const fail = (msg: string): number => {
      io.stderr.write(`ozy dns: ${msg}\n\n${USAGE}`);
      return 2;
    };
    let values;
    try {
      values = parseArgs({
        args: argv,
        options: { ...ETCD_OPTIONS, listen: { type: 'string' }, zone: { type: 'string' } },
      }).values;
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
    const conn = etcdConnection(values, io.env);
    if ('problem' in conn) return fail(conn.problem);
    if (values.listen === undefined) return fail('--listen is required');
    const listen = parseListen(values.listen);
    if (typeof listen === 'string') return fail(`--listen ${listen}`);
    if ('fd' in listen) return fail('--listen fd:N is not supported by ozy dns (it needs a UDP and a TCP socket)');
    const zone = (values.zone ?? io.env.OZY_DNS_ZONE ?? 'ozy.local').toLowerCase().replace(/\.$/, '');
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(zone)) return fail(`--zone "${zone}" is not a DNS name`);

    const log = pino({ base: { cmd: 'dns' }, level: io.env.OZY_LOG_LEVEL ?? 'info' }, pino.destination({ fd: 2, sync: true }));
    const store = ClusterStore.connect({
      ...conn,
      onCorrupt: (err) => log.warn({ key: err.key, reason: err.reason }, 'skipped a corrupt value'),
    });
    const server = new DnsServer({ store, host: listen.host, port: listen.port, zone, log });
    const stopped = untilSignal();
    try {
      const port = await server.start();
      const address = listen.host.includes(':') ? `[${listen.host}]:${port}` : `${listen.host}:${port}`;
      log.info({ address, zone }, 'dns listening');
    } catch (err) {
      log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'dns failed to start');
      io.stderr.write(`ozy dns: ${err instanceof Error ? err.message : String(err)}\n`);
      await server.stop().catch(() => undefined);
      await store.close();
      return 1;
    }
    const signal = await stopped;
    log.info({ signal }, 'stopping');
    await server.stop();
    await store.close();
    return 0;
  },
};
