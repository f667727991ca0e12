// Shared setup for the runtime's integration tests: a podman service of the
// test's own, the busybox image, an engine, and container specs.
import type { ContainerSpec } from '../../../src/model/job';
import { createEngine, type ContainerEngine, type InspectedContainer } from '../../../src/runtime/engine';
import { BUSYBOX_IMAGE, buildBusyboxImage } from '../../../src/runtime/local-image';
import { startPodman, type PodmanService, type StartPodmanOptions } from '../../harness/podman';
import { waitFor } from '../../harness/wait';

export const IMAGE = BUSYBOX_IMAGE;

export interface RuntimeFixture {
  podman: PodmanService;
  engine: ContainerEngine;
}

export async function startRuntimeFixture(opts: StartPodmanOptions = {}): Promise<RuntimeFixture> {
  const podman = await startPodman(opts);
  try {
    const engine = createEngine({ socketPath: podman.socketPath, registryAuth: [] });
    await buildBusyboxImage(engine);
    return { podman, engine };
  } catch (err) {
    await podman.stop();
    throw err;
  }
}

export function spec(name: string, extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name,
    image: IMAGE,
    restart: 'never',
    environment: [],
    ports: [],
    dependsOn: [],
    memory: 32 * 1024 * 1024,
    cpu: 200,
    volumes: [],
    ...extra,
  };
}

/**
 * Runs until stopped. busybox sleep and httpd as PID 1 ignore SIGTERM (a
 * stop then waits for its timeout); a shell that traps TERM exits at once.
 */
export const SLEEP = ['/bin/sh', '-c', 'trap "exit 0" TERM; /bin/sleep 600 & wait'];

/** busybox httpd serving /www on `port`, stoppable with SIGTERM. */
export function serve(port: number): string[] {
  return ['/bin/sh', '-c', `trap "exit 0" TERM; /bin/httpd -f -p ${port} -h /www & wait`];
}

export function exited(engine: ContainerEngine, id: string, timeoutMs = 20_000): Promise<InspectedContainer> {
  return waitFor(
    `container ${id} to exit`,
    async () => {
      const c = await engine.inspect(id);
      return c.state === 'exited' || c.state === 'dead' ? c : undefined;
    },
    { timeoutMs },
  );
}
