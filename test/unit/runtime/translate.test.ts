import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSpec } from '../../../src/model/job';
import {
  LABEL,
  containerName,
  localVolumePath,
  ownerOf,
  sharedVolumeName,
  sharedVolumePath,
  toCreateOptions,
  volumeResolver,
  type PodContext,
} from '../../../src/runtime/translate';

function container(name: string, extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name,
    image: 'localhost/ozy-busybox:1',
    restart: 'always',
    environment: [],
    ports: [],
    dependsOn: [],
    memory: 64 * 1024 * 1024,
    cpu: 250,
    volumes: [],
    ...extra,
  };
}

const ctx: PodContext = { job: 'web', instance: 'web-1', node: 'n1', specHash: 'abc123' };

describe('toCreateOptions', () => {
  const db = container('db', { ports: [{ container: 5432, protocol: 'tcp' }] });
  const app = container('app', {
    command: ['/bin/httpd', '-f', '-p', '3000'],
    environment: [
      { name: 'DATABASE_URL', value: 'postgresql://u:p@localhost/db' },
      { name: 'EMPTY', value: '' },
    ],
    ports: [
      { host: 80, container: 3000, protocol: 'tcp' },
      { host: 53, container: 5353, protocol: 'udp' },
    ],
    dependsOn: ['db'],
  });
  const pod = [db, app];

  test('names and labels the container as DESIGN.md says, ozy.owner on the first container only', () => {
    const owner = toCreateOptions(ctx, pod, db, undefined);
    const other = toCreateOptions(ctx, pod, app, 'ownerid');
    assert.equal(owner.name, 'ozy-web-1-db');
    assert.deepEqual(owner.Labels, {
      [LABEL.job]: 'web',
      [LABEL.instance]: 'web-1',
      [LABEL.node]: 'n1',
      [LABEL.container]: 'db',
      [LABEL.spec]: 'abc123',
      [LABEL.owner]: 'true',
    });
    assert.equal(other.Labels['ozy.owner'], 'false');
    assert.equal(other.Labels['ozy.container'], 'app');
  });

  test('the owner carries every published port of the pod; the others join its namespace', () => {
    const owner = toCreateOptions(ctx, pod, db, undefined, { hostIp: '127.0.0.1' });
    assert.deepEqual(owner.ExposedPorts, { '5432/tcp': {}, '3000/tcp': {}, '5353/udp': {} });
    assert.deepEqual(owner.HostConfig.PortBindings, {
      '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: '80' }],
      '5353/udp': [{ HostIp: '127.0.0.1', HostPort: '53' }],
    });
    assert.equal(owner.HostConfig.NetworkMode, undefined);
    const other = toCreateOptions(ctx, pod, app, 'ownerid');
    assert.equal(other.HostConfig.NetworkMode, 'container:ownerid');
    assert.equal(other.HostConfig.PortBindings, undefined);
    assert.equal(other.ExposedPorts, undefined);
  });

  test('an ingress port the job does not publish is bound to a host port the engine chooses; a published one keeps its port', () => {
    const owner = toCreateOptions(ctx, pod, db, undefined, { hostIp: '10.0.0.5', reachablePorts: [5432, 3000] });
    assert.deepEqual(owner.HostConfig.PortBindings, {
      '3000/tcp': [{ HostIp: '10.0.0.5', HostPort: '80' }],
      '5353/udp': [{ HostIp: '10.0.0.5', HostPort: '53' }],
      '5432/tcp': [{ HostIp: '10.0.0.5', HostPort: '' }],
    });
  });

  test('--container-dns: the owner resolves through it with the zone as search domain; the others share its resolver', () => {
    const owner = toCreateOptions(ctx, pod, db, undefined, { dns: { server: '10.88.0.1', search: 'ozy.local' } });
    assert.deepEqual([owner.HostConfig.Dns, owner.HostConfig.DnsSearch], [['10.88.0.1'], ['ozy.local']]);
    const other = toCreateOptions(ctx, pod, app, 'ownerid', { dns: { server: '10.88.0.1', search: 'ozy.local' } });
    assert.equal(other.HostConfig.Dns, undefined, 'Docker refuses DNS options with a container: network mode');
    assert.equal(toCreateOptions(ctx, pod, db, undefined).HostConfig.Dns, undefined);
  });

  test('published ports bind to 0.0.0.0 unless told otherwise', () => {
    const owner = toCreateOptions(ctx, [app], app, undefined);
    assert.deepEqual(owner.HostConfig.PortBindings?.['3000/tcp'], [{ HostIp: '0.0.0.0', HostPort: '80' }]);
  });

  test('a dependent without the owner id is refused', () => {
    assert.throws(() => toCreateOptions(ctx, pod, app, undefined), /owner's id/);
  });

  test('ownerNetwork none drops port publishing', () => {
    const owner = toCreateOptions(ctx, [app], app, undefined, { ownerNetwork: 'none' });
    assert.equal(owner.HostConfig.NetworkMode, 'none');
    assert.equal(owner.HostConfig.PortBindings, undefined);
  });

  test('environment, command, memory (swap equal: a real limit), CPU, engine restart policy no', () => {
    const o = toCreateOptions(ctx, pod, app, 'x');
    assert.deepEqual(o.Env, ['DATABASE_URL=postgresql://u:p@localhost/db', 'EMPTY=']);
    assert.deepEqual(o.Cmd, ['/bin/httpd', '-f', '-p', '3000']);
    assert.equal(o.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(o.HostConfig.MemorySwap, 64 * 1024 * 1024);
    assert.equal(o.HostConfig.NanoCpus, 250_000_000);
    assert.deepEqual(o.HostConfig.RestartPolicy, { Name: 'no' });
    assert.equal(o.HostConfig.Privileged, false);
    assert.equal(toCreateOptions(ctx, pod, db, undefined).Cmd, undefined, 'no command: the image default');
  });

  test('CPU below what runc accepts gets the 10m floor', () => {
    const tiny = container('t', { cpu: 1 });
    assert.equal(toCreateOptions(ctx, [tiny], tiny, undefined).HostConfig.NanoCpus, 10_000_000);
  });

  test('nothing beyond the job format reaches the engine: no host namespaces, no extra mounts', () => {
    const o = toCreateOptions(ctx, pod, app, 'x');
    const keys = Object.keys(o.HostConfig).sort();
    assert.deepEqual(keys, ['CapDrop', 'LogConfig', 'Memory', 'MemorySwap', 'NanoCpus', 'NetworkMode', 'PidsLimit', 'Privileged', 'RestartPolicy', 'SecurityOpt']);
    assert.equal(o.User, undefined, "no user: the image's");
  });

  test('every container gets the baseline: no-new-privileges, NET_RAW dropped, 1024 processes, a log rotated at 10 MiB', () => {
    for (const o of [toCreateOptions(ctx, pod, db, undefined), toCreateOptions(ctx, pod, app, 'x')]) {
      assert.deepEqual(o.HostConfig.SecurityOpt, ['no-new-privileges']);
      assert.deepEqual(o.HostConfig.CapDrop, ['NET_RAW']);
      assert.equal(o.HostConfig.PidsLimit, 1024);
      assert.deepEqual(o.HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': String(10 * 1024 * 1024), 'max-file': '2' } });
      assert.equal(o.HostConfig.ReadonlyRootfs, undefined);
      assert.equal(o.HostConfig.Tmpfs, undefined);
    }
  });

  test('pids, user and readOnlyRootfs reach the engine; a read-only container gets a tmpfs /tmp bounded by its memory', () => {
    const c = container('app', { pids: 64, user: '1000:1000', readOnlyRootfs: true });
    const o = toCreateOptions(ctx, [c], c, undefined);
    assert.equal(o.HostConfig.PidsLimit, 64);
    assert.equal(o.User, '1000:1000');
    assert.equal(o.HostConfig.ReadonlyRootfs, true);
    assert.deepEqual(o.HostConfig.Tmpfs, { '/tmp': `rw,nosuid,nodev,mode=1777,size=${64 * 1024 * 1024}` });
  });

  test("a volume mounted at /tmp takes the tmpfs's place (two mounts at one path are refused by the engine)", () => {
    const c = container('app', { readOnlyRootfs: true, volumes: [{ type: 'local', path: '/tmp', space: 1 << 20 }] });
    const o = toCreateOptions(ctx, [c], c, undefined, { resolveVolume: () => '/host/v' });
    assert.equal(o.HostConfig.ReadonlyRootfs, true);
    assert.equal(o.HostConfig.Tmpfs, undefined);
    assert.deepEqual(o.HostConfig.Binds, ['/host/v:/tmp']);
  });

  test('volumes become binds from the resolver: local per instance, shared per job and path', () => {
    const c = container('app', {
      volumes: [
        { type: 'shared', path: '/data/shared', space: 1 << 30 },
        { type: 'local', path: '/data/scratch', space: 100 << 20 },
      ],
    });
    const resolveVolume = volumeResolver({ dataDir: '/var/lib/ozy/n1', sharedRoot: '/mnt/shared' }, 'web', 'web-1');
    const o = toCreateOptions(ctx, [c], c, undefined, { resolveVolume });
    assert.deepEqual(o.HostConfig.Binds, [
      `/mnt/shared/web/${sharedVolumeName('/data/shared')}:/data/shared`,
      '/var/lib/ozy/n1/volumes/web-1/app/1:/data/scratch',
    ]);
  });

  test('volumes without a resolver are refused rather than silently dropped', () => {
    const c = container('app', { volumes: [{ type: 'local', path: '/x', space: 1 }] });
    assert.throws(() => toCreateOptions(ctx, [c], c, undefined), /resolver/);
  });
});

describe('names and paths', () => {
  test('ownerOf is the first container in start order', () => {
    assert.equal(ownerOf([container('db'), container('app')]).name, 'db');
    assert.throws(() => ownerOf([]));
  });

  test('containerName keeps valid names and makes others valid without collisions', () => {
    assert.equal(containerName('web-0', 'app'), 'ozy-web-0-app');
    assert.equal(containerName('web-0', 'app', 'n1'), 'ozy-web-0-app-n1');
    const a = containerName('web-0', 'a/b');
    const b = containerName('web-0', 'a:b');
    assert.match(a, /^ozy-web-0-a-b-[0-9a-f]{6}$/);
    assert.notEqual(a, b);
  });

  test('local volume paths sit under <dataDir>/volumes/<instance>/<container>/<index>', () => {
    assert.equal(localVolumePath('/d', 'web-0', 'app', 2), '/d/volumes/web-0/app/2');
  });

  test('shared volume names are readable and keep similar paths apart', () => {
    assert.match(sharedVolumeName('/data/shared'), /^data-shared-[0-9a-f]{8}$/);
    assert.notEqual(sharedVolumeName('/data/shared'), sharedVolumeName('/data-shared'));
    assert.equal(sharedVolumePath('/s', 'web', '/data/shared'), `/s/web/${sharedVolumeName('/data/shared')}`);
  });

  test('path segments that could escape the volume root are refused', () => {
    assert.throws(() => localVolumePath('/d', '..', 'app', 0), /unsafe/);
    assert.throws(() => localVolumePath('/d', 'web-0', 'a/../../etc', 0), /unsafe/);
    assert.throws(() => sharedVolumePath('/s', '', '/x'), /unsafe/);
  });
});
