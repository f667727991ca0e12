// A podman Docker-compatible API service of the test's own, on a unix
// socket in a temp dir, configured the way ENVIRONMENT.md says works here
// (runc, cgroupfs, ulimits podman can apply). It uses podman's default
// storage, so images (the busybox test image) are built once per machine.
//
// Tests name their nodes `${service.prefix}-n1` etc.; stop() removes every
// container whose ozy.node label starts with that prefix, so tests clean up
// after themselves without touching other tests' containers.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { tempDir } from './tmp';
import { waitFor } from './wait';

export interface PodmanService {
  socketPath: string;
  /** Environment for podman CLI calls that must see the same configuration. */
  env: NodeJS.ProcessEnv;
  /** Unique prefix for this test's node names: `t-<random>`. */
  prefix: string;
  /** `${prefix}-${suffix}`: a node name whose containers stop() removes. */
  node(suffix: string): string;
  stop(): Promise<void>;
}

export interface StartPodmanOptions {
  /** Registries (host:port) reached over plain HTTP, e.g. the test registry. */
  insecureRegistries?: string[];
}

/**
 * ENVIRONMENT.md's configuration, plus exit_command_delay: podman keeps
 * each exec session's conmon for that many seconds (default 300, to mimic
 * Docker's exec cleanup); health-check execs would otherwise pile up.
 */
export const CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
exit_command_delay = 2
`;

export function registriesConf(insecure: readonly string[]): string {
  return [
    'unqualified-search-registries = []',
    ...insecure.map((r) => `\n[[registry]]\nlocation = "${r}"\ninsecure = true`),
    '',
  ].join('\n');
}

export async function startPodman(opts: StartPodmanOptions = {}): Promise<PodmanService> {
  const tmp = tempDir('ozy-podman-');
  const conf = path.join(tmp.dir, 'containers.conf');
  const registries = path.join(tmp.dir, 'registries.conf');
  fs.writeFileSync(conf, CONTAINERS_CONF);
  // The service reads registries.conf once at start: insecure registries must be listed now.
  fs.writeFileSync(registries, registriesConf(opts.insecureRegistries ?? []));
  const socketPath = path.join(tmp.dir, 'podman.sock');
  const env = { ...process.env, CONTAINERS_CONF: conf, CONTAINERS_REGISTRIES_CONF: registries };
  const log = fs.openSync(path.join(tmp.dir, 'service.log'), 'a');
  const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], {
    env,
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitFor('podman service socket', async () => child.exitCode === null && (await ping(socketPath)), { timeoutMs: 20_000 });
  } catch (err) {
    child.kill('SIGKILL');
    const output = fs.readFileSync(path.join(tmp.dir, 'service.log'), 'utf8');
    tmp.cleanup();
    throw new Error(`podman service did not start: ${(err as Error).message}\n${output}`);
  }
  const prefix = `t-${randomBytes(4).toString('hex')}`;
  let stopped = false;
  return {
    socketPath,
    env,
    prefix,
    node: (suffix) => `${prefix}-${suffix}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await removeContainersOf(socketPath, prefix);
      } finally {
        await terminate(child, exited);
        tmp.cleanup();
      }
    },
  };
}

/** Removes (force) every container whose ozy.node label starts with `prefix`. */
export async function removeContainersOf(socketPath: string, prefix: string): Promise<void> {
  // Several passes: a namespace owner can only go once the containers joining it are gone.
  for (let pass = 0; pass < 4; pass++) {
    const mine = await containersOf(socketPath, prefix);
    if (mine.length === 0) return;
    // Owners last within a pass.
    mine.sort((a, b) => Number(a.Labels?.['ozy.owner'] === 'true') - Number(b.Labels?.['ozy.owner'] === 'true'));
    for (const c of mine) await request(socketPath, 'DELETE', `/containers/${c.Id}?force=true`);
  }
  const left = await containersOf(socketPath, prefix);
  if (left.length > 0) throw new Error(`could not remove test containers: ${left.map((c) => c.Id.slice(0, 12)).join(', ')}`);
}

async function containersOf(socketPath: string, prefix: string): Promise<Array<{ Id: string; Labels?: Record<string, string> }>> {
  const filters = encodeURIComponent(JSON.stringify({ label: ['ozy.node'] }));
  const list = await request(socketPath, 'GET', `/containers/json?all=true&filters=${filters}`);
  return (JSON.parse(list.body) as Array<{ Id: string; Labels?: Record<string, string> }>).filter((c) =>
    (c.Labels?.['ozy.node'] ?? '').startsWith(prefix),
  );
}

async function ping(socketPath: string): Promise<boolean> {
  try {
    const res = await request(socketPath, 'GET', '/_ping');
    return res.status === 200;
  } catch {
    return false;
  }
}

export function request(socketPath: string, method: string, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: urlPath, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
