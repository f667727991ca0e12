// The real `ozy` processes against an etcd that serves https:// only to
// client certificates signed by its CA and has users and roles (auth
// enabled; the `ozy` user may only touch /ozy/ and /skydns/): an agent
// registers, runs a job (its jobs watch) and keeps its lease; `ozy status`
// and `ozy plan` read the cluster. A wrong CA, a missing client certificate,
// a wrong password or a prefix outside the role make the commands exit 1
// with a message that says so on stderr, and the agent keep retrying with
// that message in its log. The password is never printed or logged.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ozyEntry } from '../../../src/paths';
import { buildBusyboxImage, createEngine } from '../../../src/runtime';
import { ClusterStore } from '../../../src/store';
import { jobYaml, merge, startCluster, type TestCluster } from '../../harness/cluster';
import { enableAuth, makeCerts, PASSWORDS, startSecureEtcd, type SecureEtcdServer, type TestCerts } from '../../harness/etcd-secure';
import { waitFor } from '../../harness/wait';

const run = promisify(execFile);

let certs: TestCerts;
let etcd: SecureEtcdServer;
let c: TestCluster;
let store: ClusterStore;

const ozyUser = { OZY_ETCD_USERNAME: 'ozy', OZY_ETCD_PASSWORD: PASSWORDS.ozy };
const tlsFlags = (): string[] => ['--etcd-ca', certs.ca, '--etcd-cert', certs.clientCert, '--etcd-key', certs.clientKey];

/** `ozy ARGS` as a process, with only `env` (and PATH) in its environment. */
async function ozy(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [ozyEntry(), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Starts a long-running `ozy` command, waits for `msg` in its log, stops it; its exit code. */
async function listeningOzy(args: string[], env: Record<string, string>, msg: string): Promise<number | null> {
  const proc = spawn(process.execPath, [ozyEntry(), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  let code: number | null | undefined;
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  proc.once('exit', (c) => (code = c));
  try {
    await waitFor(`"${msg}"`, () => {
      if (code !== undefined) throw new Error(`ozy ${args[0]} exited with ${code}: ${log}`);
      return log.includes(`"msg":"${msg}"`);
    }, { timeoutMs: 20_000 });
    proc.kill('SIGTERM');
    return (await waitFor('the exit', () => (code === undefined ? undefined : { code }), { timeoutMs: 10_000 })).code;
  } finally {
    if (code === undefined) proc.kill('SIGKILL');
  }
}

before(async () => {
  certs = makeCerts();
  etcd = await startSecureEtcd({ certs });
  enableAuth(etcd, certs);
  c = await startCluster();
  await buildBusyboxImage(createEngine({ socketPath: c.podman.socketPath, registryAuth: [] }));
  const read = (f: string) => fs.readFileSync(f);
  store = ClusterStore.connect({
    endpoints: [etcd.endpoint],
    tls: { ca: read(certs.ca), cert: read(certs.clientCert), key: read(certs.clientKey) },
    auth: { username: 'ozy', password: PASSWORDS.ozy },
  });
});
after(async () => {
  await store?.close();
  await c?.stop();
  await etcd?.stop();
  certs?.cleanup();
});

describe('ozy over etcd with TLS client certificates and users', () => {
  test('an agent registers over TLS as the ozy user, runs a job and publishes its DNS record; ozy status, plan, runs and dns read it', async () => {
    const agent = await c.startAgent({ name: 'a', etcd: etcd.endpoint, extraArgs: tlsFlags(), env: ozyUser, leaseTtl: '3s' });
    await merge(c.user, { 'jobs/web.yaml': jobYaml('web', { memory: '16M', cpu: '50m' }) }, 'web');
    const dnsKey = store.keys.dnsKey('ozy.local', 'web', 'web-0');
    await waitFor('web-0 healthy and its DNS record in /skydns', async () => {
      const dns = await store.listDnsRecords();
      const st = await store.listInstanceStatus();
      return dns.has(dnsKey) && st.some((s) => s.instance === 'web-0' && s.state === 'healthy');
    }, { timeoutMs: 60_000 });

    const status = await ozy(['status', '--etcd', etcd.endpoint, ...tlsFlags(), '--json'], ozyUser);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(status.stderr, '', 'nothing on stderr (no TLS servername warning either)');
    const s = JSON.parse(status.stdout) as { nodes: Array<{ name: string; alive: boolean }>; instances: Array<{ instance: string; node?: string; state: string }> };
    assert.deepEqual(s.nodes.map((n) => [n.name, n.alive]), [[agent.node, true]]);
    assert.deepEqual(s.instances.map((i) => [i.instance, i.node, i.state]), [['web-0', agent.node, 'healthy']]);

    // The same, with the files from OZY_ETCD_CA/CERT/KEY instead of flags.
    const fromEnv = { ...ozyUser, OZY_ETCD: etcd.endpoint, OZY_ETCD_CA: certs.ca, OZY_ETCD_CERT: certs.clientCert, OZY_ETCD_KEY: certs.clientKey };
    const plan = await ozy(['plan', c.user.dir], fromEnv);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /unchanged +web/);
    const runs = await ozy(['runs', 'web'], fromEnv);
    assert.match(runs.stderr, /no accepted cron job named "web"/, 'runs connected and read (web is no cron job)');

    // A read-only user is enough to look; with client-cert-auth, no user at all means the certificate's CN ("ozy").
    const viewer: Record<string, string> = { OZY_ETCD_USERNAME: 'viewer', OZY_ETCD_PASSWORD: PASSWORDS.viewer };
    for (const env of [viewer, {}]) {
      const r = await ozy(['status', '--etcd', etcd.endpoint, ...tlsFlags(), '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as typeof s).instances.map((i) => i.state), ['healthy']);
    }

    // ozy dns mirrors /skydns over TLS as the read-only viewer: it listens only once it has listed them.
    const dns = await listeningOzy(['dns', '--etcd', etcd.endpoint, ...tlsFlags(), '--listen', '127.0.0.1:0'], viewer, 'dns listening');
    assert.equal(dns, 0, 'ozy dns started over TLS and stopped on SIGTERM');

    assert.ok(!agent.logs().includes(PASSWORDS.ozy), 'the agent never logs the password');
    assert.ok(agent.logs().includes('"username":"ozy","password":"***"'), 'its config says which user, not the password');
  });

  test('a server certificate from another CA: exit 1, "not signed by --etcd-ca"', async () => {
    const r = await ozy(['status', '--etcd', etcd.endpoint, '--etcd-ca', certs.otherCa, '--etcd-cert', certs.clientCert, '--etcd-key', certs.clientKey], ozyUser);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.startsWith(`ozy status: etcd at ${etcd.endpoint}: TLS handshake failed: the server's certificate is not signed by --etcd-ca (`), r.stderr);
  });

  test('no client certificate: exit 1, "the server requires a client certificate (--etcd-cert/--etcd-key)"', async () => {
    const r = await ozy(['plan', c.user.dir, '--etcd', etcd.endpoint, '--etcd-ca', certs.ca], ozyUser);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.startsWith(`ozy plan: etcd at ${etcd.endpoint}: TLS handshake failed: the server requires a client certificate (--etcd-cert/--etcd-key)`), r.stderr);
  });

  test('a wrong password: exit 1, "authentication failed", and the password is not printed', async () => {
    const r = await ozy(['status', '--etcd', etcd.endpoint, ...tlsFlags()], { OZY_ETCD_USERNAME: 'ozy', OZY_ETCD_PASSWORD: 'guessed-wrong' });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `ozy status: etcd at ${etcd.endpoint}: authentication failed: wrong OZY_ETCD_USERNAME or OZY_ETCD_PASSWORD (user "ozy")\n`);
  });

  test('a prefix outside the ozy role: exit 1, permission denied for user "ozy" naming the key', async () => {
    const r = await ozy(['status', '--etcd', etcd.endpoint, ...tlsFlags(), '--etcd-prefix', '/other'], ozyUser);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ozy status: etcd at https:\/\/127\.0\.0\.1:\d+: permission denied for user "ozy" on \/other\//);
  });

  test('an agent with a wrong password keeps retrying (as while etcd is unreachable), the message in its log, never the password', async () => {
    const proc = spawn(process.execPath, [ozyEntry(), 'agent', '--node', 'wrong-pw', '--repo', c.repoUrl, '--etcd', etcd.endpoint, ...tlsFlags(), '--docker-socket', c.podman.socketPath, '--memory', '64M', '--disk', '1G', '--cpus', '1', '--data-dir', `${certs.dir}/agent-wrong-pw`], {
      env: { ...process.env, OZY_ETCD_USERNAME: 'ozy', OZY_ETCD_PASSWORD: 'guessed-wrong' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
    let code: number | null | undefined;
    proc.once('exit', (c) => (code = c));
    try {
      await waitFor('two failed registrations with the message', () => (log.match(/authentication failed: wrong OZY_ETCD_USERNAME or OZY_ETCD_PASSWORD \(user \\"ozy\\"\)[^\n]*register node failed; retrying/g) ?? []).length >= 2, { timeoutMs: 20_000 });
      assert.equal(code, undefined, 'still running, retrying');
      assert.ok(!log.includes('guessed-wrong'), 'the password is never logged');
      // Retrying must not make it deaf to a stop.
      proc.kill('SIGTERM');
      assert.equal(await waitFor('the agent to exit on SIGTERM', () => (code === undefined ? undefined : { code }), { timeoutMs: 10_000 }).then((x) => x.code), 0);
    } finally {
      if (code === undefined) proc.kill('SIGKILL');
    }
  });
});
