// PodRuntime against a real podman service: shared network namespace,
// published ports, start order, volumes, stop and cleanup, owner restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PodRuntime, podOf, type PodSpec } from '../../../src/runtime/pod';
import { BUSYBOX_INDEX_HTML } from '../../../src/runtime/local-image';
import { localVolumePath } from '../../../src/runtime/translate';
import { freePort } from '../../harness/net';
import { tempDir } from '../../harness/tmp';
import { waitFor } from '../../harness/wait';
import { SLEEP, exited, serve, spec, startRuntimeFixture, type RuntimeFixture } from './fixtures';

let fx: RuntimeFixture;
let tmp: { dir: string; cleanup: () => void };
before(async () => {
  fx = await startRuntimeFixture();
  tmp = tempDir();
});
after(async () => {
  await fx?.podman.stop();
  tmp?.cleanup();
});

function runtime(node: string, opts: { network?: 'none' } = {}): PodRuntime {
  return new PodRuntime({
    engine: fx.engine,
    node: fx.podman.node(node),
    volumes: { dataDir: path.join(tmp.dir, node, 'data'), sharedRoot: path.join(tmp.dir, node, 'shared') },
    hostIp: '127.0.0.1',
    ownerNetwork: opts.network === 'none' ? 'none' : 'bridge',
    stopTimeoutSec: 1,
  });
}

async function httpGet(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

describe('pods on podman', () => {
  test('two containers talk over localhost; the published port answers on 127.0.0.1; labels are set', async () => {
    const rt = runtime('net');
    const port = await freePort();
    const pod: PodSpec = podOf(
      {
        name: 'web',
        numInstances: 1,
        containers: [
          spec('server', { command: serve(8080), ports: [{ host: port, container: 8080, protocol: 'tcp' }] }),
          // Exits 0 once it has fetched the server's page over the pod's localhost.
          spec('client', {
            command: ['/bin/sh', '-c', 'for i in $(seq 100); do wget -q -O /dev/null http://127.0.0.1:8080/ && exit 0; sleep 0.1; done; exit 1'],
          }),
        ],
      },
      'spec-1',
      'web-0',
    );
    const started = await rt.startPod(pod);
    const client = await exited(fx.engine, started.containers[1]!.id);
    assert.equal(client.exitCode, 0, 'the client reached the server on localhost');
    assert.equal(await waitFor('published port', () => httpGet(port)), BUSYBOX_INDEX_HTML);

    const server = await fx.engine.inspect(started.containers[0]!.id);
    assert.deepEqual(
      Object.fromEntries(Object.entries(server.labels).filter(([k]) => k.startsWith('ozy.'))),
      { 'ozy.job': 'web', 'ozy.instance': 'web-0', 'ozy.node': fx.podman.node('net'), 'ozy.container': 'server', 'ozy.spec': 'spec-1', 'ozy.owner': 'true' },
    );
    assert.equal(server.name, 'ozy-web-0-server');
    assert.match(server.ip ?? '', /^\d+\.\d+\.\d+\.\d+$/, 'the owner has a bridge address');
    await rt.stopPod('web-0');
    assert.deepEqual(await fx.engine.listManaged(fx.podman.node('net')), []);
  });

  test('depends_on order: a dependent is created only after waitReady of its dependency resolved', async () => {
    const rt = runtime('order', { network: 'none' });
    const node = fx.podman.node('order');
    const pod = podOf(
      {
        name: 'ord',
        numInstances: 1,
        containers: [
          spec('db', { command: SLEEP }),
          spec('app', { command: SLEEP, dependsOn: ['db'] }),
          spec('worker', { command: SLEEP, dependsOn: ['app'] }),
        ],
      },
      'h',
      'ord-0',
    );
    const events: string[] = [];
    await rt.startPod(pod, {
      onStarted: (name) => events.push(`started ${name}`),
      waitReady: async (name, id) => {
        const existing = (await fx.engine.listManaged(node)).map((c) => c.labels['ozy.container']).sort();
        events.push(`ready ${name}: ${existing.join(',')}`);
        assert.equal((await fx.engine.inspect(id)).state, 'running');
      },
    });
    assert.deepEqual(events, ['started db', 'ready db: db', 'started app', 'ready app: app,db', 'started worker']);
    await rt.stopPod('ord-0');
  });

  test("two nodes sharing one engine: the second never touches the first's container of the same name", async () => {
    const pod = podOf({ name: 'twin', numInstances: 1, containers: [spec('app', { command: SLEEP })] }, 'h', 'twin-0');
    const first = await runtime('twin1', { network: 'none' }).startPod(pod);
    const second = await runtime('twin2', { network: 'none' }).startPod(pod);
    const a = await fx.engine.inspect(first.containers[0]!.id);
    const b = await fx.engine.inspect(second.containers[0]!.id);
    assert.equal(a.state, 'running');
    assert.equal(a.name, 'ozy-twin-0-app');
    assert.equal(b.name, `ozy-twin-0-app-${fx.podman.node('twin2')}`);
    await runtime('twin2', { network: 'none' }).stopPod('twin-0');
    assert.equal((await fx.engine.inspect(a.id)).state, 'running');
    await runtime('twin1', { network: 'none' }).stopPod('twin-0');
  });

  test('volumes are mounted; stopPod and cleanupVolumes leave no container and no local volume behind', async () => {
    const rt = runtime('vol', { network: 'none' });
    const node = fx.podman.node('vol');
    const pod = podOf(
      {
        name: 'vol',
        numInstances: 1,
        containers: [
          spec('writer', {
            command: ['/bin/sh', '-c', 'echo local > /scratch/f && echo shared > /shared/f && trap "exit 0" TERM; /bin/sleep 600 & wait'],
            volumes: [
              { type: 'local', path: '/scratch', space: 1 << 20 },
              { type: 'shared', path: '/shared', space: 1 << 20 },
            ],
          }),
          spec('reader', { command: SLEEP }),
        ],
      },
      'h',
      'vol-0',
    );
    await rt.startPod(pod);
    const dataDir = path.join(tmp.dir, 'vol', 'data');
    const local = localVolumePath(dataDir, 'vol-0', 'writer', 0);
    assert.equal(await waitFor('file in local volume', () => fs.existsSync(path.join(local, 'f')) && fs.readFileSync(path.join(local, 'f'), 'utf8')), 'local\n');
    const sharedJobDir = path.join(tmp.dir, 'vol', 'shared', 'vol');
    const [sharedName] = fs.readdirSync(sharedJobDir);
    assert.equal(await waitFor('file in shared volume', () => fs.existsSync(path.join(sharedJobDir, sharedName!, 'f'))), true);

    // stopPod: the owner is removed last (podman refuses it while 'reader' joins it).
    await rt.stopPod('vol-0');
    await rt.cleanupVolumes('vol-0');
    assert.deepEqual(await fx.engine.listManaged(node), []);
    assert.equal(fs.existsSync(path.join(dataDir, 'volumes', 'vol-0')), false);
    assert.equal(fs.existsSync(path.join(sharedJobDir, sharedName!, 'f')), true, 'shared volumes outlive the instance');
  });

  test('an owner restarted alone strands the others; restartContainer(owner) restarts the pod and heals it', async () => {
    const rt = runtime('restart');
    const ownerPort = await freePort();
    const sidePort = await freePort();
    const pod = podOf(
      {
        name: 'rs',
        numInstances: 1,
        containers: [
          spec('owner', { command: serve(8080), ports: [{ host: ownerPort, container: 8080, protocol: 'tcp' }] }),
          spec('side', { command: serve(8081), ports: [{ host: sidePort, container: 8081, protocol: 'tcp' }] }),
        ],
      },
      'h',
      'rs-0',
    );
    const started = await rt.startPod(pod);
    const [owner, side] = started.containers;
    await waitFor('side answers through the owner', () => httpGet(sidePort));

    // The gotcha (ENVIRONMENT.md): restart only the owner; the side container keeps running in the old namespace.
    await fx.engine.stop(owner!.id, 1);
    await fx.engine.start(owner!.id);
    await waitFor('owner answers again', () => httpGet(ownerPort));
    assert.equal((await fx.engine.inspect(side!.id)).state, 'running');
    assert.equal(await httpGet(sidePort), undefined, 'side is unreachable: it is stranded in the dead namespace');

    await rt.restartContainer(pod, 'owner');
    assert.equal(await waitFor('side answers after the pod restart', () => httpGet(sidePort)), BUSYBOX_INDEX_HTML);
    const after = await fx.engine.listManaged(fx.podman.node('restart'), { instance: 'rs-0' });
    assert.deepEqual(after.map((c) => c.id).sort(), [owner!.id, side!.id].sort(), 'same containers, restarted in place');
    await rt.stopPod('rs-0');
  });
});
