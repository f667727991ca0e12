// A podman Docker-compatible API service on a socket of our own, with the
// configuration ENVIRONMENT.md found to work on these machines: crun fails
// on hybrid cgroups (runc works), the default ulimits cannot be applied,
// and the systemd cgroup manager is not available. CONTAINERS_CONF makes
// podman read our file instead of the system's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine } from '../runtime';
import { logTail, spawnLogged, type LoggedChild } from './child';
import { pollUntil } from './wait';

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

/** registries.conf with no short-name search and these registries reached over plain HTTP. */
export function registriesConf(insecure: readonly string[]): string {
  return [
    'unqualified-search-registries = []',
    ...insecure.map((r) => `\n[[registry]]\nlocation = "${r}"\ninsecure = true`),
    '',
  ].join('\n');
}

export interface PodmanServiceOptions {
  socketPath: string;
  /** containers.conf (and registries.conf, when given) are written here. */
  confDir: string;
  logFile: string;
  /** Content of a registries.conf for the service; default: the system's. The service reads it once at start. */
  registriesConf?: string;
  /** Own process group (see child.ts). Default false. */
  detached?: boolean;
  /** Default 20 s. */
  startTimeoutMs?: number;
  /** Environment to start from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Called with the service process once spawned (e.g. to supervise it). */
  onSpawn?: (child: LoggedChild) => void;
}

export interface PodmanServiceProcess {
  socketPath: string;
  /** Environment for podman CLI calls that must see the same configuration. */
  env: NodeJS.ProcessEnv;
  readonly pid: number | undefined;
  isRunning(): boolean;
  exited(): Promise<void>;
  /** SIGTERM, SIGKILL after `graceMs`; containers keep running (conmon owns them). */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `podman system service` and resolves once its socket answers /_ping. */
export async function startPodmanService(opts: PodmanServiceOptions): Promise<PodmanServiceProcess> {
  fs.mkdirSync(opts.confDir, { recursive: true });
  const conf = path.join(opts.confDir, 'containers.conf');
  fs.writeFileSync(conf, CONTAINERS_CONF);
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), CONTAINERS_CONF: conf };
  if (opts.registriesConf !== undefined) {
    const registries = path.join(opts.confDir, 'registries.conf');
    fs.writeFileSync(registries, opts.registriesConf);
    env.CONTAINERS_REGISTRIES_CONF = registries;
  }
  // A socket file left by a killed service would make ping fail until podman replaces it; remove it first.
  fs.rmSync(opts.socketPath, { force: true });
  const child: LoggedChild = spawnLogged('podman', ['system', 'service', '--time=0', `unix://${opts.socketPath}`], {
    logFile: opts.logFile,
    env,
    detached: opts.detached ?? false,
    // conmon, started by the service, writes a file named `oom` into its
    // working directory when a container is OOM-killed: not the user's.
    cwd: opts.confDir,
  });
  opts.onSpawn?.(child);
  try {
    await pollUntil(
      'the podman service socket',
      async () => {
        if (!child.isRunning()) {
          const how = await child.exit;
          throw new Error(how.error ? `podman could not be started: ${how.error.message}` : `podman exited (code ${how.code})`);
        }
        return enginePings(opts.socketPath);
      },
      { timeoutMs: opts.startTimeoutMs ?? 20_000 },
    );
  } catch (err) {
    child.signal('SIGKILL');
    await child.exit;
    throw new Error(`podman service did not start: ${(err as Error).message}\n${logTail(opts.logFile)}`);
  }
  return {
    socketPath: opts.socketPath,
    env,
    get pid() {
      return child.isRunning() ? child.pid : undefined;
    },
    isRunning: () => child.isRunning(),
    exited: () => child.exit.then(() => undefined),
    stop: (graceMs = 5000) => child.terminate(graceMs),
  };
}

/** True when a Docker Engine API answers on `socketPath`. */
export async function enginePings(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  if (!fs.existsSync(socketPath)) return false;
  try {
    await createEngine({ socketPath, registryAuth: [], pingTimeoutMs: timeoutMs }).ping();
    return true;
  } catch {
    return false;
  }
}
