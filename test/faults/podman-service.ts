// A podman Docker-API service that the fault suite can kill and start again
// on the same socket (the "container engine restarted" fault). Containers run
// under conmon, not under the service, so they survive it. Same
// configuration as test/harness/podman.ts; cleanup removes the containers of
// this service's node prefix.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONTAINERS_CONF, registriesConf, removeContainersOf, request } from '../harness/podman';
import { tempDir } from '../harness/tmp';
import { waitFor } from '../harness/wait';

export interface RestartablePodman {
  socketPath: string;
  /** `t-<random>`: prefix of every node name in the test, so cleanup finds its containers. */
  prefix: string;
  node(suffix: string): string;
  /** The service's process id, undefined while it is down. */
  readonly pid: number | undefined;
  /** SIGKILL the API service (containers keep running under conmon). */
  kill(): Promise<void>;
  /** Starts the service again on the same socket; resolves once it answers. */
  start(): Promise<void>;
  /** Removes this prefix's containers, stops the service, removes temp files. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export async function startRestartablePodman(): Promise<RestartablePodman> {
  const tmp = tempDir('ozy-faults-podman-');
  const conf = path.join(tmp.dir, 'containers.conf');
  const registries = path.join(tmp.dir, 'registries.conf');
  fs.writeFileSync(conf, CONTAINERS_CONF);
  fs.writeFileSync(registries, registriesConf([]));
  const socketPath = path.join(tmp.dir, 'podman.sock');
  const env = { ...process.env, CONTAINERS_CONF: conf, CONTAINERS_REGISTRIES_CONF: registries };
  const logFile = path.join(tmp.dir, 'service.log');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    fs.rmSync(socketPath, { force: true });
    const log = fs.openSync(logFile, 'a');
    const proc = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], { env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    running.add(proc);
    child = proc;
    exited = new Promise<void>((resolve) => proc.once('exit', () => {
      running.delete(proc);
      resolve();
    }));
    try {
      await waitFor('podman service answers', async () => proc.exitCode === null && (await ping(socketPath)), { timeoutMs: 20_000 });
    } catch (err) {
      proc.kill('SIGKILL');
      throw new Error(`podman service did not start: ${(err as Error).message}\n${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
  };
  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGKILL');
    await exited;
  };

  await launch();
  const prefix = `t-${randomBytes(4).toString('hex')}`;
  let stopped = false;
  return {
    socketPath,
    prefix,
    node: (suffix) => `${prefix}-${suffix}`,
    get pid() {
      return child?.pid;
    },
    kill,
    start: launch,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        if (!child) await launch();
        await removeContainersOf(socketPath, prefix);
      } finally {
        await kill();
        tmp.cleanup();
      }
    },
  };
}

async function ping(socketPath: string): Promise<boolean> {
  try {
    return (await request(socketPath, 'GET', '/_ping')).status === 200;
  } catch {
    return false;
  }
}
