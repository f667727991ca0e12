// The etcd TLS files and etcd user of every command that talks to etcd
// (`ozy agent` and the CLI's etcd-options.ts): --etcd-ca, --etcd-cert,
// --etcd-key (or OZY_ETCD_CA, OZY_ETCD_CERT, OZY_ETCD_KEY; flags win), and
// OZY_ETCD_USERNAME / OZY_ETCD_PASSWORD (environment only, so the password
// stays out of `ps`). Files are read once, here, at start; an unreadable
// one is a ConfigError naming the flag or variable that gave it.
import * as fs from 'node:fs';
import { ConfigError } from './config-error';
import { checkAccess, InvalidStoreArgumentError, type EtcdAuth, type EtcdTls } from './store';

export const ETCD_ACCESS_FLAGS = ['etcd-ca', 'etcd-cert', 'etcd-key'] as const;
export type EtcdAccessFlag = (typeof ETCD_ACCESS_FLAGS)[number];
/** Every variable this module reads. */
export const ETCD_ACCESS_ENV = ['OZY_ETCD_CA', 'OZY_ETCD_CERT', 'OZY_ETCD_KEY', 'OZY_ETCD_USERNAME', 'OZY_ETCD_PASSWORD'] as const;

export interface EtcdAccessConfig {
  tls?: EtcdTls;
  auth?: EtcdAuth;
  /** The files' paths, for logs (never their contents). */
  files: Partial<Record<'ca' | 'cert' | 'key', string>>;
}

const FIELD: Record<EtcdAccessFlag, 'ca' | 'cert' | 'key'> = { 'etcd-ca': 'ca', 'etcd-cert': 'cert', 'etcd-key': 'key' };

function envName(flag: EtcdAccessFlag): string {
  return `OZY_${flag.replace(/-/g, '_').toUpperCase()}`;
}

function readPem(path: string, source: string): Buffer {
  let data: Buffer;
  try {
    data = fs.readFileSync(path);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw new ConfigError(`${source}: cannot read ${path} (${why})`);
  }
  if (!data.includes('-----BEGIN')) throw new ConfigError(`${source}: ${path} is not a PEM file (no "-----BEGIN" line)`);
  return data;
}

/**
 * Reads the TLS files and the user for `endpoints`. Throws ConfigError for
 * an unreadable file and for a combination that cannot work (TLS files with
 * http:// endpoints, a certificate without its key, a user without a password).
 */
export function loadEtcdAccess(endpoints: string[], flags: Partial<Record<EtcdAccessFlag, string>>, env: NodeJS.ProcessEnv): EtcdAccessConfig {
  const tls: EtcdTls = {};
  const files: EtcdAccessConfig['files'] = {};
  for (const flag of ETCD_ACCESS_FLAGS) {
    const fromFlag = flags[flag];
    const fromEnv = env[envName(flag)];
    const path = fromFlag ?? (fromEnv === '' ? undefined : fromEnv);
    if (path === undefined) continue;
    tls[FIELD[flag]] = readPem(path, fromFlag !== undefined ? `--${flag}` : envName(flag));
    files[FIELD[flag]] = path;
  }
  const username = env.OZY_ETCD_USERNAME ?? '';
  const password = env.OZY_ETCD_PASSWORD ?? '';
  if (username === '' && password !== '') throw new ConfigError('OZY_ETCD_PASSWORD is set but OZY_ETCD_USERNAME is not');
  const access = {
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
    ...(username !== '' ? { auth: { username, password } } : {}),
  };
  try {
    checkAccess(endpoints, access);
  } catch (err) {
    if (err instanceof InvalidStoreArgumentError) throw new ConfigError(err.message);
    throw err;
  }
  return { ...access, files };
}

/** What of the access may be logged: the files' paths and the user name. */
export function loggableEtcdAccess(a: EtcdAccessConfig): Record<string, unknown> {
  return { ...a.files, ...(a.auth ? { username: a.auth.username, password: '***' } : {}) };
}
