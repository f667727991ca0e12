// How every command that talks to etcd is told where it is: `--etcd` (or
// OZY_ETCD, comma-separated endpoints) and `--etcd-prefix` (or
// OZY_ETCD_PREFIX, default /ozy). One place, so a new connection option
// (TLS, credentials) reaches every command at once.

/** The parseArgs options of the etcd connection, spread into a command's own. */
export const ETCD_OPTIONS = {
  etcd: { type: 'string' },
  'etcd-prefix': { type: 'string' },
} as const;

/** The endpoints from the flag, else the environment; empty when neither says. */
export function etcdEndpoints(flag: string | undefined, env: NodeJS.ProcessEnv): string[] {
  return (flag ?? env.OZY_ETCD ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** The prefix of Ozymandias' own keys. */
export function etcdPrefix(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.OZY_ETCD_PREFIX ?? '/ozy';
}
