// A secured etcd for integration tests: certificates made with openssl (a
// CA, a server certificate for 127.0.0.1, a client certificate, and a second,
// unrelated CA with its own client certificate for the "wrong CA" cases),
// etcd serving https:// with --client-cert-auth, and etcd users and roles
// set up with etcdctl as docs/security.md tells operators to. Health is
// polled on a plain metrics URL (--listen-metrics-urls), so no sleeps.
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { EtcdMember, etcdHealthy } from '../../src/up/etcd';
import { pollUntil } from '../../src/up/wait';
import type { EtcdServer } from './etcd';
import { freePort } from './net';
import { tempDir } from './tmp';

export interface TestCerts {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Signed by `ca`, CN "ozy" (etcd takes the CN as the user when there is no token). */
  clientCert: string;
  clientKey: string;
  /** An unrelated CA, and a client certificate it signed. */
  otherCa: string;
  otherClientCert: string;
  otherClientKey: string;
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `name.key` and a certificate `name.crt` signed by `caName` (self-signed when null). */
function issue(dir: string, name: string, subject: string, caName: string | null, ext: string): void {
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`];
  if (caName === null) {
    openssl(dir, ['req', '-x509', ...key, '-days', '2', '-subj', subject, '-out', `${name}.crt`]);
    return;
  }
  openssl(dir, ['req', ...key, '-subj', subject, '-out', `${name}.csr`]);
  execFileSync('sh', ['-c', `printf '${ext}\\n' > ${name}.ext`], { cwd: dir });
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

export function makeCerts(): TestCerts {
  const tmp = tempDir('ozy-certs-');
  const d = tmp.dir;
  issue(d, 'ca', '/CN=ozy-test-ca', null, '');
  // etcd's gateway dials etcd itself with this certificate: it is a client too.
  issue(d, 'server', '/CN=etcd', 'ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth');
  issue(d, 'client', '/CN=ozy', 'ca', 'extendedKeyUsage=clientAuth');
  issue(d, 'other-ca', '/CN=unrelated-ca', null, '');
  issue(d, 'other-client', '/CN=ozy', 'other-ca', 'extendedKeyUsage=clientAuth');
  const f = (n: string) => path.join(d, n);
  return {
    dir: d,
    ca: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    otherCa: f('other-ca.crt'),
    otherClientCert: f('other-client.crt'),
    otherClientKey: f('other-client.key'),
    cleanup: tmp.cleanup,
  };
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** etcd on https:// (when `tls`), health on a plain metrics port. */
class SecureEtcd extends EtcdMember implements EtcdServer {
  constructor(
    spec: ConstructorParameters<typeof EtcdMember>[0],
    private readonly tls: boolean,
    private readonly metricsPort: number,
    private readonly cleanup: () => void,
  ) {
    super({
      ...spec,
      onSpawn: (child) => {
        running.add(child.proc);
        void child.exit.then(() => running.delete(child.proc));
      },
    });
  }

  /** etcd's plain metrics and /health URL. */
  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}`;
  }

  override get endpoint(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.clientPort}`;
  }

  override async waitHealthy(): Promise<void> {
    try {
      await pollUntil(
        `etcd on ${this.endpoint} to be healthy`,
        async () => {
          if (!this.isRunning()) throw new Error('etcd exited');
          return etcdHealthy(this.metricsUrl);
        },
        { timeoutMs: 20_000, intervalMs: 50 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\netcd log:\n${this.logTail()}`);
    }
  }

  async stop(): Promise<void> {
    await this.kill('SIGKILL');
    this.cleanup();
  }
}

export interface SecureEtcdOptions {
  /** Serve https:// with these certificates and require client certificates signed by their CA. */
  certs?: TestCerts;
}

export type SecureEtcdServer = EtcdServer & { readonly metricsUrl: string };

export async function startSecureEtcd(opts: SecureEtcdOptions): Promise<SecureEtcdServer> {
  const tmp = tempDir('ozy-etcd-secure-');
  const [clientPort, peerPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const c = opts.certs;
  const tlsArgs = c ? ['--cert-file', c.serverCert, '--key-file', c.serverKey, '--client-cert-auth', '--trusted-ca-file', c.ca] : [];
  const member = new SecureEtcd(
    {
      name: 'ozy0',
      clientPort,
      peerPort,
      dataDir: path.join(tmp.dir, 'data'),
      logFile: path.join(tmp.dir, 'etcd.log'),
      initialCluster: `ozy0=http://127.0.0.1:${peerPort}`,
      clusterToken: `ozy-test-${clientPort}`,
      extraArgs: ['--listen-metrics-urls', `http://127.0.0.1:${metricsPort}`, ...tlsArgs],
    },
    c !== undefined,
    metricsPort,
    tmp.cleanup,
  );
  member.launch();
  try {
    await member.waitHealthy();
  } catch (err) {
    await member.stop();
    throw err;
  }
  return member;
}

export const PASSWORDS = { root: 'root-pw', ozy: 'ozy-pw', coredns: 'coredns-pw', viewer: 'viewer-pw' } as const;

/** etcdctl against `etcd` (with the client certificate when it serves TLS), as `user`. */
export function etcdctl(etcd: EtcdServer, certs: TestCerts | undefined, args: string[], user?: keyof typeof PASSWORDS): string {
  const tls = certs ? ['--cacert', certs.ca, '--cert', certs.clientCert, '--key', certs.clientKey] : [];
  const auth = user ? ['--user', `${user}:${PASSWORDS[user]}`] : [];
  return execFileSync('etcdctl', ['--endpoints', etcd.endpoint, ...tls, ...auth, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * The users of docs/security.md, then `auth enable`: root; ozy, whose role
 * may read and write /ozy/ and /skydns/ only; coredns, which may only read
 * /skydns/; viewer, which may only read /ozy/ and /skydns/ (ozy status, plan).
 */
export function enableAuth(etcd: EtcdServer, certs?: TestCerts): void {
  const run = (...args: string[]) => etcdctl(etcd, certs, args);
  run('user', 'add', 'root', `--new-user-password=${PASSWORDS.root}`);
  run('user', 'grant-role', 'root', 'root');
  run('role', 'add', 'ozy');
  run('role', 'grant-permission', 'ozy', '--prefix=true', 'readwrite', '/ozy/');
  run('role', 'grant-permission', 'ozy', '--prefix=true', 'readwrite', '/skydns/');
  run('user', 'add', 'ozy', `--new-user-password=${PASSWORDS.ozy}`);
  run('user', 'grant-role', 'ozy', 'ozy');
  run('role', 'add', 'coredns');
  run('role', 'grant-permission', 'coredns', '--prefix=true', 'read', '/skydns/');
  run('user', 'add', 'coredns', `--new-user-password=${PASSWORDS.coredns}`);
  run('user', 'grant-role', 'coredns', 'coredns');
  run('role', 'add', 'viewer');
  run('role', 'grant-permission', 'viewer', '--prefix=true', 'read', '/ozy/');
  run('role', 'grant-permission', 'viewer', '--prefix=true', 'read', '/skydns/');
  run('user', 'add', 'viewer', `--new-user-password=${PASSWORDS.viewer}`);
  run('user', 'grant-role', 'viewer', 'viewer');
  run('auth', 'enable');
}
