// A local image registry for pull tests: Debian's docker-registry
// (distribution 2.x) on a free 127.0.0.1 port, storage in a temp dir,
// plain HTTP (podman must list it as insecure: startPodman({insecureRegistries})).
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './net';
import { tempDir } from './tmp';
import { waitFor } from './wait';

const run = promisify(execFile);

export interface Registry {
  /** `127.0.0.1:PORT` */
  host: string;
  stop(): Promise<void>;
}

export async function startRegistry(): Promise<Registry> {
  const tmp = tempDir('ozy-registry-');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = path.join(tmp.dir, 'config.yml');
  fs.writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(tmp.dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      '',
    ].join('\n'),
  );
  const log = fs.openSync(path.join(tmp.dir, 'registry.log'), 'a');
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitFor('docker-registry', async () => child.exitCode === null && (await fetch(`http://${host}/v2/`)).ok, { timeoutMs: 15_000 });
  } catch (err) {
    child.kill('SIGKILL');
    const output = fs.readFileSync(path.join(tmp.dir, 'registry.log'), 'utf8');
    tmp.cleanup();
    throw new Error(`docker-registry did not start: ${(err as Error).message}\n${output}`);
  }
  let stopped = false;
  return {
    host,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      tmp.cleanup();
    },
  };
}

/**
 * Pushes local image `source` to `<registry>/<name>` (e.g. `ozy-busybox:1`)
 * with the podman CLI; returns the pushed reference.
 */
export async function pushImage(env: NodeJS.ProcessEnv, source: string, registry: string, name: string): Promise<string> {
  const target = `${registry}/${name}`;
  await run('podman', ['push', '--tls-verify=false', source, target], { env });
  return target;
}

/** Removes image `ref` from podman's local storage (so the next use must pull it). */
export async function removeLocalImage(env: NodeJS.ProcessEnv, ref: string): Promise<void> {
  await run('podman', ['rmi', '--ignore', ref], { env });
}
