// ContainerEngine against a real podman service (runc, see ENVIRONMENT.md).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { createEngine } from '../../../src/runtime/engine';
import { cpuMillicores } from '../../../src/runtime/facts';
import {
  ContainerNameConflictError,
  ContainerNotFoundError,
  EngineUnavailableError,
  ExecTimeoutError,
  ImageNotFoundError,
} from '../../../src/runtime/errors';
import { buildBusyboxImage } from '../../../src/runtime/local-image';
import { toCreateOptions, type PodContext } from '../../../src/runtime/translate';
import type { ContainerSpec } from '../../../src/model/job';
import { tempDir } from '../../harness/tmp';
import { SLEEP, exited, spec, startRuntimeFixture, type RuntimeFixture } from './fixtures';

let fx: RuntimeFixture;
before(async () => {
  fx = await startRuntimeFixture();
});
after(async () => {
  await fx?.podman.stop();
});

/** Creates and starts one single-container pod without network. */
async function run(node: string, instance: string, c: ContainerSpec): Promise<string> {
  const ctx: PodContext = { job: 'job', instance, node, specHash: 'h' };
  const id = await fx.engine.create(toCreateOptions(ctx, [c], c, undefined, { ownerNetwork: 'none' }));
  await fx.engine.start(id);
  return id;
}

describe('ContainerEngine on podman', () => {
  test('ping answers; a missing socket is ENGINE_UNAVAILABLE (retryable)', async () => {
    await fx.engine.ping();
    const tmp = tempDir();
    try {
      const dead = createEngine({ socketPath: path.join(tmp.dir, 'none.sock'), registryAuth: [] });
      await assert.rejects(dead.ping(), (err: unknown) => err instanceof EngineUnavailableError && err.retryable);
    } finally {
      tmp.cleanup();
    }
  });

  test('an allocation beyond the memory limit is killed and reported as OOM (podman leaves OOMKilled false)', async () => {
    const node = fx.podman.node('oom');
    const hog = spec('hog', { memory: 16 * 1024 * 1024, command: ['/bin/dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'] });
    const id = await run(node, 'job-0', hog);
    const c = await exited(fx.engine, id);
    assert.equal(c.exitCode, 137);
    assert.equal(c.memoryLimit, 16 * 1024 * 1024);
    assert.equal(c.oomKilled, true);
    // The same allocation under the limit succeeds: the limit, not dd, killed it.
    const fits = spec('fits', { memory: 16 * 1024 * 1024, command: ['/bin/dd', 'if=/dev/zero', 'of=/dev/null', 'bs=4M', 'count=1'] });
    const ok = await exited(fx.engine, await run(node, 'job-1', fits));
    assert.equal(ok.exitCode, 0);
    assert.equal(ok.oomKilled, false);
  });

  test('a container we stopped (SIGKILL after the timeout: 137) is not an OOM kill', async () => {
    const node = fx.podman.node('stop');
    // Plain sleep as PID 1 ignores SIGTERM: the stop ends in SIGKILL.
    const id = await run(node, 'job-0', spec('sleeper', { command: ['/bin/sleep', '600'] }));
    await fx.engine.stop(id, 0);
    const c = await fx.engine.inspect(id);
    assert.equal(c.state, 'exited');
    assert.equal(c.exitCode, 137);
    assert.equal(c.stoppedByUs, true);
    assert.equal(c.oomKilled, false);
    // Stopping again and starting a running container are no-ops, not errors.
    await fx.engine.stop(id, 0);
    await fx.engine.start(id);
    await fx.engine.start(id);
    assert.equal((await fx.engine.inspect(id)).state, 'running');
    assert.equal((await fx.engine.inspect(id)).stoppedByUs, false, 'a new run forgets the old stop');
  });

  test("listManaged(node) returns that node's containers only, with labels, state and times", async () => {
    const n1 = fx.podman.node('list1');
    const n2 = fx.podman.node('list2');
    const a = await run(n1, 'web-0', spec('app', { command: SLEEP }));
    // Container names are per engine: the other node's pod gets another instance name.
    const b = await run(n2, 'web-9', spec('app', { command: SLEEP }));
    const c = await fx.engine.create(
      toCreateOptions({ job: 'job', instance: 'web-1', node: n1, specHash: 'h' }, [spec('app')], spec('app'), undefined, { ownerNetwork: 'none' }),
    );
    const listed = await fx.engine.listManaged(n1);
    assert.deepEqual(listed.map((x) => x.id).sort(), [a, c].sort());
    assert.ok(!listed.some((x) => x.id === b));
    const running = listed.find((x) => x.id === a)!;
    assert.equal(running.state, 'running');
    assert.equal(running.labels['ozy.node'], n1);
    assert.equal(running.labels['ozy.instance'], 'web-0');
    assert.equal(running.labels['ozy.owner'], 'true');
    assert.ok(running.startedAt && !Number.isNaN(Date.parse(running.startedAt)));
    assert.equal(running.finishedAt, undefined);
    assert.equal(listed.find((x) => x.id === c)!.state, 'created');
    // Narrowed by instance.
    assert.deepEqual((await fx.engine.listManaged(n1, { instance: 'web-1' })).map((x) => x.id), [c]);
    assert.deepEqual((await fx.engine.listManaged(n2)).map((x) => x.id), [b]);
  });

  test('exec returns the exit code and times out as EXEC_TIMEOUT', async () => {
    const id = await run(fx.podman.node('exec'), 'job-0', spec('box', { command: SLEEP }));
    assert.deepEqual(await fx.engine.exec(id, ['/bin/sh', '-c', 'echo not ready; echo to stderr >&2; exit 3'], 10_000), { exitCode: 3, output: 'not ready\nto stderr\n' });
    assert.deepEqual(await fx.engine.exec(id, ['/bin/true'], 10_000), { exitCode: 0, output: '' });
    await assert.rejects(fx.engine.exec(id, ['/bin/sleep', '5'], 300), ExecTimeoutError);
  });

  test('stats: memory use and the CPU limit (NanoCpus) enforced', async () => {
    const id = await run(fx.podman.node('stats'), 'job-0', spec('spin', { cpu: 200, command: ['/bin/sh', '-c', 'while :; do :; done'] }));
    const first = await fx.engine.stats(id);
    // A measurement window, not a wait for a condition.
    await new Promise((r) => setTimeout(r, 1000));
    const second = await fx.engine.stats(id);
    assert.ok(second.memoryUsage > 0);
    assert.equal(second.memoryLimit, 32 * 1024 * 1024);
    // A busy loop would use a whole core; the 200m limit holds it down (with slack for sampling).
    assert.ok(cpuMillicores(first, second) <= 300, `used ${cpuMillicores(first, second)} millicores`);
    await fx.engine.remove(id, { force: true });
  });

  test('statsMany: one request for several containers, the same counter as stats(); stopped ones left out; an unknown id fails the batch', async () => {
    const node = fx.podman.node('batch');
    const spin = await run(node, 'job-0', spec('spin', { cpu: 200, command: ['/bin/sh', '-c', 'while :; do :; done'] }));
    const idle = await run(node, 'job-1', spec('idle', { command: SLEEP }));
    const gone = await run(node, 'job-2', spec('gone', { command: SLEEP }));
    await fx.engine.stop(gone, 0);
    const first = await fx.engine.statsMany([spin, idle, gone]);
    assert.ok(first !== undefined, 'podman has the libpod batch endpoint');
    assert.deepEqual([...first.keys()].sort(), [spin, idle].sort());
    const single = await fx.engine.stats(spin);
    assert.ok(single.cpuTotalNs >= first.get(spin)!.cpuTotalNs, 'the same cumulative counter');
    // A measurement window, not a wait for a condition.
    await new Promise((r) => setTimeout(r, 1000));
    const second = (await fx.engine.statsMany([spin, idle]))!;
    const used = cpuMillicores(first.get(spin)!, second.get(spin)!);
    assert.ok(used > 100 && used <= 300, `spin used ${used} millicores under a 200m limit`);
    assert.ok(cpuMillicores(first.get(idle)!, second.get(idle)!) < 50);
    assert.deepEqual(await fx.engine.statsMany([]), new Map());
    await assert.rejects(fx.engine.statsMany([spin, 'f'.repeat(64)]), /refused/);
    for (const id of [spin, idle, gone]) await fx.engine.remove(id, { force: true });
  });

  test('logs are returned per stream', async () => {
    const id = await run(fx.podman.node('logs'), 'job-0', spec('talk', { command: ['/bin/sh', '-c', 'echo to-out; echo to-err >&2'] }));
    await exited(fx.engine, id);
    const logs = await fx.engine.logs(id);
    assert.equal(logs.stdout, 'to-out\n');
    assert.equal(logs.stderr, 'to-err\n');
  });

  test('a line written in pieces stays whole in a tail (podman 4.3\'s own tail returns only its newline)', async () => {
    // Pauses between the writes make conmon log three partial entries; the
    // streams are separate pipes, so only writes apart in time keep their order.
    const cmd = "echo first; sleep 0.3; printf 'sh: ' >&2; sleep 0.3; printf 'message' >&2; sleep 0.3; echo >&2; sleep 0.3; echo last";
    const id = await run(fx.podman.node('logs'), 'job-1', spec('pieces', { command: ['/bin/sh', '-c', cmd] }));
    await exited(fx.engine, id);
    assert.deepEqual(await fx.engine.logs(id, { tail: 2 }), { stdout: 'last\n', stderr: 'sh: message\n' });
    const frames: string[] = [];
    for await (const f of fx.engine.streamLogs(id, { tail: 3 })) frames.push(f.data.toString());
    assert.equal(frames.join(''), 'first\nsh: message\nlast\n');
    assert.equal((await fx.engine.outputTail(id, 4096)).toString(), 'first\nsh: message\nlast\n', 'interleaved in the order written');
    assert.equal((await fx.engine.outputTail(id, 5)).toString(), 'last\n');
  });

  test('errors are translated: missing container, missing image; removing a missing container is fine', async () => {
    await assert.rejects(fx.engine.inspect('ozy-no-such-container'), ContainerNotFoundError);
    await assert.rejects(fx.engine.start('ozy-no-such-container'), ContainerNotFoundError);
    await fx.engine.remove('ozy-no-such-container', { force: true });
    const missing = spec('m', { image: 'localhost/ozy-no-such-image:1' });
    await assert.rejects(
      fx.engine.create(toCreateOptions({ job: 'j', instance: 'j-0', node: fx.podman.node('err'), specHash: 'h' }, [missing], missing, undefined)),
      ImageNotFoundError,
    );
  });

  test('a second container with the same name is a CONTAINER_NAME_CONFLICT', async () => {
    const c = spec('dup', { command: SLEEP });
    const opts = toCreateOptions({ job: 'j', instance: 'j-0', node: fx.podman.node('dup'), specHash: 'h' }, [c], c, undefined, { ownerNetwork: 'none' });
    await fx.engine.create(opts);
    await assert.rejects(fx.engine.create(opts), ContainerNameConflictError);
  });

  test('buildBusyboxImage is idempotent', async () => {
    assert.equal(await buildBusyboxImage(fx.engine), 'present');
  });
});
