// A podman Docker-compatible API service of the test's own, on a unix
// socket in a temp dir, configured the way ENVIRONMENT.md says works here
// (runc, cgroupfs, ulimits podman can apply), by the same code `ozy up`
// uses (src/up/podman.ts). It uses podman's default storage, so images
// (the busybox test image) are built once per machine.
//
// Tests name their nodes `${service.prefix}-n1` etc.; stop() removes every
// container whose ozy.node label starts with that prefix, so tests clean up
// after themselves without touching other tests' containers.
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as path from 'node:path';
import { CONTAINERS_CONF, registriesConf, startPodmanService } from '../../src/up/podman';
import { tempDir } from './tmp';

export { CONTAINERS_CONF, registriesConf };

export interface PodmanService {
  socketPath: string;
  /** Environment for podman CLI calls that must see the same configuration. */
  env: NodeJS.ProcessEnv;
  /** The service process (benchmarks read its CPU time); undefined once it ended. */
  readonly pid: number | undefined;
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

/** A podman service with the production configuration (src/up/podman.ts: CONTAINERS_CONF). */
export async function startPodman(opts: StartPodmanOptions = {}): Promise<PodmanService> {
  const tmp = tempDir('ozy-podman-');
  const socketPath = path.join(tmp.dir, 'podman.sock');
  let service;
  try {
    // The service reads registries.conf once at start: insecure registries must be listed now.
    service = await startPodmanService({
      socketPath,
      confDir: tmp.dir,
      logFile: path.join(tmp.dir, 'service.log'),
      registriesConf: registriesConf(opts.insecureRegistries ?? []),
    });
  } catch (err) {
    tmp.cleanup();
    throw err;
  }
  const env = service.env;
  const prefix = `t-${randomBytes(4).toString('hex')}`;
  let stopped = false;
  return {
    socketPath,
    env,
    get pid() {
      return service.pid;
    },
    prefix,
    node: (suffix) => `${prefix}-${suffix}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await removeContainersOf(socketPath, prefix);
      } finally {
        await service.stop(5000);
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
