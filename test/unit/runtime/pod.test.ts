import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerSpec } from '../../../src/model/job';
import { PodRuntime, groupByInstance, podOf, stopOrder, type PodSpec } from '../../../src/runtime/pod';
import { PodStartError, PullError } from '../../../src/runtime/errors';
import { toCreateOptions } from '../../../src/runtime/translate';
import { tempDir } from '../../harness/tmp';
import { FakeEngine } from './fake-engine';

const IMAGE = 'localhost/ozy-busybox:1';

function container(name: string, extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return { name, image: IMAGE, restart: 'always', environment: [], ports: [], dependsOn: [], memory: 1 << 24, cpu: 100, volumes: [], ...extra };
}

// db ← app ← worker; sidecar depends on nothing.
const pod: PodSpec = podOf(
  {
    name: 'web',
    numInstances: 1,
    containers: [
      container('db', { volumes: [{ type: 'local', path: '/var/lib/db', space: 1 << 20 }] }),
      container('sidecar'),
      container('app', { dependsOn: ['db'], volumes: [{ type: 'shared', path: '/data', space: 1 << 20 }] }),
      container('worker', { dependsOn: ['app', 'db'] }),
    ],
  },
  'hash1',
  'web-0',
);

function setup(t: { after: (fn: () => void) => void }): { engine: FakeEngine; runtime: PodRuntime; dataDir: string; sharedRoot: string } {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const engine = new FakeEngine();
  engine.images.add(IMAGE);
  const dataDir = path.join(tmp.dir, 'data');
  const sharedRoot = path.join(tmp.dir, 'shared');
  const runtime = new PodRuntime({ engine, node: 'n1', volumes: { dataDir, sharedRoot } });
  return { engine, runtime, dataDir, sharedRoot };
}

/** Like setup, with the runtime on a clock the test moves. */
function setupWithClock(t: { after: (fn: () => void) => void }): { engine: FakeEngine; runtime: PodRuntime; clock: { ms: number } } {
  const tmp = tempDir();
  t.after(tmp.cleanup);
  const engine = new FakeEngine();
  engine.images.add(IMAGE);
  const clock = { ms: 1_000_000 };
  const runtime = new PodRuntime({ engine, node: 'n1', volumes: { dataDir: path.join(tmp.dir, 'data'), sharedRoot: path.join(tmp.dir, 'shared') }, now: () => clock.ms });
  return { engine, runtime, clock };
}

/**
 * A stop that ends `ms` after it was called on the test clock. The stops of
 * one wave are called together and overlap, as on a real engine: each moves
 * the clock to its own end, not by its duration.
 */
function exitingAfter(clock: { ms: number }, ms: number | ((t: number) => number)): (name: string, t: number) => Promise<void> {
  return async (_name, t) => {
    const start = clock.ms;
    await Promise.resolve();
    clock.ms = Math.max(clock.ms, start + (typeof ms === 'number' ? ms : ms(t)));
  };
}

/** Containers whose PID 1 ignores SIGTERM (busybox sleep): a stop takes its whole timeout. */
function ignoringSigterm(clock: { ms: number }): (name: string, t: number) => Promise<void> {
  return exitingAfter(clock, (t) => t * 1000);
}

describe('startPod', () => {
  test('starts in order and waits for a dependency to be ready before starting what depends on it', async (t) => {
    const { engine, runtime } = setup(t);
    const started = await runtime.startPod(pod, {
      waitReady: async (name) => {
        engine.calls.push(`ready ${name}`);
      },
    });
    assert.deepEqual(engine.calls, [
      'create db',
      'start db',
      'create sidecar',
      'start sidecar',
      'ready db',
      'create app',
      'start app',
      'ready app',
      'create worker',
      'start worker',
    ]);
    assert.deepEqual(
      started.containers.map((c) => [c.name, c.owner]),
      [
        ['db', true],
        ['sidecar', false],
        ['app', false],
        ['worker', false],
      ],
    );
  });

  test('every non-owner joins the owner namespace by id', async (t) => {
    const { engine, runtime } = setup(t);
    const started = await runtime.startPod(pod);
    const ownerId = started.containers[0]!.id;
    const modes = [...engine.containers.values()].map((c) => c.opts.HostConfig.NetworkMode);
    assert.deepEqual(modes, [undefined, `container:${ownerId}`, `container:${ownerId}`, `container:${ownerId}`]);
  });

  test('creates local and shared volume directories before the containers', async (t) => {
    const { runtime, dataDir, sharedRoot } = setup(t);
    await runtime.startPod(pod);
    assert.ok(fs.statSync(path.join(dataDir, 'volumes', 'web-0', 'db', '0')).isDirectory());
    assert.equal(fs.readdirSync(path.join(sharedRoot, 'web')).length, 1);
  });

  test('a failed readiness wait removes what was started and names the step', async (t) => {
    const { engine, runtime } = setup(t);
    await assert.rejects(
      runtime.startPod(pod, {
        waitReady: async (name) => {
          if (name === 'app') throw new Error('app never became healthy');
        },
      }),
      (err: unknown) => err instanceof PodStartError && err.container === 'worker' && err.step === 'ready' && /never became healthy/.test(err.message),
    );
    assert.equal(engine.containers.size, 0, 'nothing left behind');
    // Removal in reverse order: the owner can only go last.
    assert.deepEqual(engine.calls.filter((c) => c.startsWith('remove')), ['remove app', 'remove sidecar', 'remove db']);
  });

  test('a failed start rolls back too', async (t) => {
    const { engine, runtime } = setup(t);
    engine.failingStarts.add('app');
    await assert.rejects(runtime.startPod(pod), (err: unknown) => err instanceof PodStartError && err.step === 'start' && err.container === 'app');
    assert.equal(engine.containers.size, 0);
  });

  test('a failed pull creates nothing and carries the registry message', async (t) => {
    const { engine, runtime } = setup(t);
    const p = podOf({ name: 'x', numInstances: 1, containers: [container('a'), container('b', { image: 'reg.io/missing:1' })] }, 'h', 'x-0');
    engine.failingPulls.add('reg.io/missing:1');
    const pulling: string[] = [];
    await assert.rejects(
      runtime.startPod(p, { onPullStart: (img) => pulling.push(img) }),
      (err: unknown) => err instanceof PodStartError && err.step === 'pull' && err.cause instanceof PullError && /manifest unknown/.test(err.message),
    );
    assert.deepEqual(pulling, ['reg.io/missing:1']);
    assert.equal(engine.containers.size, 0);
  });

  test("a leftover of the same instance on this node is replaced; another node's container is left alone", async (t) => {
    const { engine, runtime } = setup(t);
    const single = podOf({ name: 'web', numInstances: 1, containers: [container('db')] }, 'h', 'web-0');
    const ctx = { job: 'web', instance: 'web-0', specHash: 'old' };
    const mine = engine.seed(toCreateOptions({ ...ctx, node: 'n1' }, single.containers, single.containers[0]!, undefined), 'exited');
    await runtime.startPod(single);
    assert.ok(!engine.containers.has(mine), 'leftover removed');

    const { engine: engine2, runtime: runtime2 } = setup(t);
    const theirs = engine2.seed(toCreateOptions({ ...ctx, node: 'n2' }, single.containers, single.containers[0]!, undefined));
    const started = await runtime2.startPod(single);
    assert.ok(engine2.containers.has(theirs), "the other node's container is untouched");
    assert.equal(engine2.containers.get(started.containers[0]!.id)?.opts.name, 'ozy-web-0-db-n1');
  });
});

describe('stopPod', () => {
  test('stops the others newest first and the owner last, then removes all (only this instance)', async (t) => {
    const { engine, runtime } = setup(t);
    await runtime.startPod(pod);
    const other = podOf({ name: 'web', numInstances: 2, containers: [container('db')] }, 'hash1', 'web-1');
    await runtime.startPod(other);
    engine.calls.length = 0;
    await runtime.stopPod('web-0');
    assert.deepEqual(engine.calls, [
      'stop worker',
      'stop app',
      'stop sidecar',
      'stop db',
      'remove worker',
      'remove app',
      'remove sidecar',
      'remove db',
    ]);
    assert.deepEqual(
      [...engine.containers.values()].map((c) => c.opts.Labels['ozy.instance']),
      ['web-1'],
    );
  });

  test('a container that joined the owner after the listing is removed before the owner', async (t) => {
    const { engine, runtime } = setup(t);
    const single = podOf({ name: 'web', numInstances: 1, containers: [container('db'), container('late')] }, 'h', 'web-0');
    const started = await runtime.startPod(podOf({ name: 'web', numInstances: 1, containers: [container('db')] }, 'h', 'web-0'));
    const ownerId = started.containers[0]!.id;
    engine.afterNextList = () => {
      engine.seed(toCreateOptions({ job: 'web', instance: 'web-0', node: 'n1', specHash: 'h' }, single.containers, single.containers[1]!, ownerId));
    };
    await runtime.stopPod('web-0');
    assert.equal(engine.containers.size, 0);
  });

  test('never touches containers of another node', async (t) => {
    const { engine, runtime } = setup(t);
    const single = podOf({ name: 'web', numInstances: 1, containers: [container('db')] }, 'h', 'web-0');
    const theirs = engine.seed(toCreateOptions({ job: 'web', instance: 'web-0', node: 'n2', specHash: 'h' }, single.containers, single.containers[0]!, undefined));
    await runtime.stopPod('web-0');
    assert.equal(engine.containers.get(theirs)?.state, 'running');
  });

  test('one deadline for the whole pod: waves in reverse depends_on order, each stop gets what is left of the grace', async (t) => {
    const { engine, runtime, clock } = setupWithClock(t);
    await runtime.startPod(pod);
    engine.calls.length = 0;
    engine.onStop = ignoringSigterm(clock);
    clock.ms += 300;
    await runtime.stopPod('web-0', { graceMs: 2500, dependsOn: new Map(pod.containers.map((c) => [c.name, c.dependsOn])) });
    // worker and sidecar together (3 s, rounded up), then app and db past the deadline (SIGKILL at once).
    assert.deepEqual(engine.stops, [
      { container: 'worker', t: 3 },
      { container: 'sidecar', t: 3 },
      { container: 'app', t: 0 },
      { container: 'db', t: 0 },
    ]);
  });

  test('a wave stopped early by its containers leaves the rest of the grace to the next', async (t) => {
    const { engine, runtime, clock } = setupWithClock(t);
    await runtime.startPod(pod);
    engine.onStop = exitingAfter(clock, 1200);
    await runtime.stopPod('web-0', { graceMs: 5000, dependsOn: new Map(pod.containers.map((c) => [c.name, c.dependsOn])) });
    assert.deepEqual(engine.stops.map((s) => s.t), [5, 5, 4, 3]);
  });

  test('without a grace, the runtime default for the whole pod; without depends_on, all others at once, then the owner', async (t) => {
    const { engine, runtime, clock } = setupWithClock(t);
    await runtime.startPod(pod);
    engine.onStop = ignoringSigterm(clock);
    await runtime.stopPod('web-0');
    assert.deepEqual(engine.stops, [
      { container: 'worker', t: 10 },
      { container: 'app', t: 10 },
      { container: 'sidecar', t: 10 },
      { container: 'db', t: 0 },
    ]);
  });

  test('cleanupVolumes removes the instance volume directory only', async (t) => {
    const { runtime, dataDir, sharedRoot } = setup(t);
    await runtime.startPod(pod);
    await runtime.stopPod('web-0');
    await runtime.cleanupVolumes('web-0');
    assert.equal(fs.existsSync(path.join(dataDir, 'volumes', 'web-0')), false);
    assert.equal(fs.existsSync(path.join(sharedRoot, 'web')), true, 'shared volumes outlive instances');
  });

  test('a persistent volume is per instance under <dataDir>/persistent/<job>, outlives cleanupVolumes, and goes only with its job', async (t) => {
    const { engine, runtime, dataDir } = setup(t);
    const db = podOf({ name: 'db', numInstances: 1, containers: [container('pg', { volumes: [{ type: 'persistent', path: '/var/lib/pg', space: 1 << 20 }] })] }, 'h', 'db-0');
    await runtime.startPod(db);
    const bind = [...engine.containers.values()].find((c) => c.opts.Labels['ozy.instance'] === 'db-0')?.opts.HostConfig.Binds?.[0] ?? '';
    const dir = bind.split(':')[0]!;
    assert.ok(dir.startsWith(path.join(dataDir, 'persistent', 'db', 'db-0', 'pg') + path.sep), dir);
    assert.ok(fs.existsSync(dir));
    fs.writeFileSync(path.join(dir, 'data'), 'x');
    await runtime.stopPod('db-0');
    await runtime.cleanupVolumes('db-0');
    assert.equal(fs.readFileSync(path.join(dir, 'data'), 'utf8'), 'x', 'a stopped instance keeps its persistent volume');
    assert.deepEqual(await runtime.prunePersistentVolumes(new Map([['db', new Set(['db-0'])]])), []);
    assert.ok(fs.existsSync(dir), 'the job is still accepted');
    // db-1 was recreated on another node while this one was lost: its copy here is abandoned, db-0's stays.
    const stale = path.join(dataDir, 'persistent', 'db', 'db-1', 'pg');
    fs.mkdirSync(stale, { recursive: true });
    assert.deepEqual(await runtime.prunePersistentVolumes(new Map([['db', new Set(['db-0'])]])), ['db/db-1']);
    assert.equal(fs.existsSync(path.join(dataDir, 'persistent', 'db', 'db-1')), false);
    assert.ok(fs.existsSync(dir));
    assert.deepEqual(await runtime.prunePersistentVolumes(new Map([['web', new Set(['web-0'])]])), ['db']);
    assert.equal(fs.existsSync(path.join(dataDir, 'persistent', 'db')), false);
  });
});

describe('restart', () => {
  test('restartPod stops all (owner last) and starts the same containers in order', async (t) => {
    const { engine, runtime } = setup(t);
    const first = await runtime.startPod(pod);
    engine.calls.length = 0;
    const again = await runtime.restartPod(pod, { waitReady: async (n) => void engine.calls.push(`ready ${n}`) });
    assert.deepEqual(again.containers.map((c) => c.id), first.containers.map((c) => c.id));
    // Stops in waves: worker and sidecar (nothing depends on them), app, then the owner.
    assert.deepEqual(engine.calls, [
      'stop worker',
      'stop sidecar',
      'stop app',
      'stop db',
      'start db',
      'start sidecar',
      'ready db',
      'start app',
      'ready app',
      'start worker',
    ]);
  });

  test('restarting the namespace owner restarts the whole pod; another container restarts alone', async (t) => {
    const { engine, runtime } = setup(t);
    await runtime.startPod(pod);
    engine.calls.length = 0;
    await runtime.restartContainer(pod, 'app');
    assert.deepEqual(engine.calls, ['stop app', 'start app']);
    assert.deepEqual(engine.stops, [{ container: 'app', t: 10 }], "the job's stopGrace (default 10 s)");
    engine.calls.length = 0;
    await runtime.restartContainer(pod, 'db');
    assert.equal(engine.calls.filter((c) => c.startsWith('start')).length, 4);
  });
});

test('stopOrder puts owners last and the rest newest first', () => {
  const c = (name: string, owner: boolean, createdAt: string) => ({ name, labels: { 'ozy.owner': String(owner) }, createdAt });
  const order = stopOrder([c('o', true, '2026-01-01T00:00:01Z'), c('a', false, '2026-01-01T00:00:02.5Z'), c('b', false, '2026-01-01T00:00:02.25Z')]);
  assert.deepEqual(order.map((x) => x.name), ['a', 'b', 'o']);
});

test('groupByInstance groups by the ozy.instance label and skips unlabelled containers', () => {
  const c = (id: string, instance?: string): { id: string; labels: Record<string, string> } => ({ id, labels: instance ? { 'ozy.instance': instance } : {} });
  const groups = groupByInstance([c('a', 'web-0'), c('b', 'web-1'), c('c', 'web-0'), c('d')]);
  assert.deepEqual([...groups.entries()].map(([k, v]) => [k, v.map((x) => x.id)]), [
    ['web-0', ['a', 'c']],
    ['web-1', ['b']],
  ]);
});
