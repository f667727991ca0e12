// How every command that talks to etcd is told where it is and how to get
// in: `--etcd` (or OZY_ETCD, comma-separated endpoints), `--etcd-prefix`
// (or OZY_ETCD_PREFIX, default /ozy), the TLS files `--etcd-ca`,
// `--etcd-cert`, `--etcd-key` (or OZY_ETCD_CA, OZY_ETCD_CERT, OZY_ETCD_KEY)
// and an etcd user from OZY_ETCD_USERNAME / OZY_ETCD_PASSWORD. One place,
// so a new connection option reaches every command at once.
import { ConfigError } from '../config-error';
import { loadEtcdAccess } from '../etcd-access-config';
import { isStoreError, type EtcdAuth, type EtcdTls } from '../store';
import type { CommandIo } from './command';
import { discoveredEtcd } from './up-discovery';

/** The parseArgs options of the etcd connection, spread into a command's own. */
export const ETCD_OPTIONS = {
  etcd: { type: 'string' },
  'etcd-prefix': { type: 'string' },
  'etcd-ca': { type: 'string' },
  'etcd-cert': { type: 'string' },
  'etcd-key': { type: 'string' },
} as const;

/** The usage lines of the TLS and user options, the same in every command's help. */
export const ETCD_ACCESS_USAGE = `  --etcd-ca FILE    CA (PEM) that signed etcd's certificate (or OZY_ETCD_CA; https:// endpoints)
  --etcd-cert FILE  client certificate (PEM) (or OZY_ETCD_CERT)
  --etcd-key FILE   its key (PEM) (or OZY_ETCD_KEY)
                    an etcd user: OZY_ETCD_USERNAME and OZY_ETCD_PASSWORD (environment only)
`;

type EtcdValues = { [K in keyof typeof ETCD_OPTIONS]?: string };

/** What ClusterStore.connect needs to reach etcd. */
export interface EtcdConnection {
  endpoints: string[];
  prefix: string;
  tls?: EtcdTls;
  auth?: EtcdAuth;
}

/** The endpoints from the flag, else the environment; empty when neither says. */
export function etcdEndpoints(flag: string | undefined, env: NodeJS.ProcessEnv): string[] {
  return (flag ?? env.OZY_ETCD ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** The prefix of Ozymandias' own keys. */
export function etcdPrefix(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.OZY_ETCD_PREFIX ?? '/ozy';
}

/**
 * The connection from the flags and the environment (TLS files are read
 * here, once), or the problem with them in one line: "--etcd is required",
 * "--etcd-ca: cannot read ca.pem (ENOENT)", ... With `discover` (the
 * commands a user types: status, plan, runs, logs, dashboard) a missing
 * endpoint is the running `ozy up`'s, else http://127.0.0.1:2379; services
 * (ingress, dns) must be told.
 */
export function etcdConnection(values: EtcdValues, env: NodeJS.ProcessEnv, opts: { discover?: boolean } = {}): EtcdConnection | { problem: string } {
  let endpoints = etcdEndpoints(values.etcd, env);
  if (endpoints.length === 0 && opts.discover === true) endpoints = [discoveredEtcd(env)];
  if (endpoints.length === 0) return { problem: '--etcd is required' };
  try {
    const { tls, auth } = loadEtcdAccess(endpoints, values, env);
    return { endpoints, prefix: etcdPrefix(values['etcd-prefix'], env), ...(tls ? { tls } : {}), ...(auth ? { auth } : {}) };
  } catch (err) {
    if (err instanceof ConfigError) return { problem: err.message };
    throw err;
  }
}

/** A store error (etcd unreachable, TLS or auth refused...) as `ozy CMD: message` on stderr: exit 1. Rethrows anything else. */
export function storeFailure(cmd: string, err: unknown, io: CommandIo): number {
  if (!isStoreError(err)) throw err;
  io.stderr.write(`ozy ${cmd}: ${err.message}\n`);
  return 1;
}
