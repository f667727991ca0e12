// The container baseline (runtime/baseline.ts) on a real podman: what the
// engine reports for a created container, what a process inside sees, and
// that a fork bomb stops at its pids limit while its neighbours live on.
// Checks run as the container's own command and are read from its log
// (podman's exec leaves conmon processes behind: ENVIRONMENT.md).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { ContainerSpec } from '../../../src/model/job';
import { LOG_MAX_BYTES } from '../../../src/runtime/baseline';
import { toCreateOptions, type EngineCreateOptions, type PodContext } from '../../../src/runtime/translate';
import { request } from '../../harness/podman';
import { freePort } from '../../harness/net';
import { waitFor } from '../../harness/wait';
import { exited, serve, spec, startRuntimeFixture, type RuntimeFixture } from './fixtures';

let fx: RuntimeFixture;
before(async () => {
  fx = await startRuntimeFixture();
});
after(async () => {
  await fx?.podman.stop();
});

/** CAP_NET_RAW is capability 13. */
const NET_RAW_BIT = 1n << 13n;

function optionsFor(node: string, instance: string, c: ContainerSpec, network: 'none' | 'bridge' = 'none'): EngineCreateOptions {
  // Container names are per engine (and podman's storage is the machine's): the node's unique prefix keeps them apart.
  const ctx: PodContext = { job: 'job', instance: `${node}-${instance}`, node, specHash: 'h' };
  return toCreateOptions(ctx, [c], c, undefined, { ownerNetwork: network, hostIp: '127.0.0.1' });
}

async function run(opts: EngineCreateOptions): Promise<string> {
  const id = await fx.engine.create(opts);
  await fx.engine.start(id);
  return id;
}

/** `key=value` lines a check script printed. */
async function outputOf(id: string): Promise<Map<string, string>> {
  const { stdout, stderr } = await fx.engine.logs(id, { tail: 200 });
  const out = new Map<string, string>();
  for (const line of `${stdout}\n${stderr}`.split('\n')) {
    const m = /^([A-Za-z]+)[=:]\s*(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

interface CompatInspect {
  Config: { User: string };
  HostConfig: { SecurityOpt: string[] | null; CapDrop: string[] | null; PidsLimit: number; ReadonlyRootfs: boolean; LogConfig: { Type: string } };
}
interface LibpodInspect {
  BoundingCaps: string[];
  HostConfig: { LogConfig: { Size: string; Path: string } };
}

async function inspectRaw<T>(path: string): Promise<T> {
  const res = await request(fx.podman.socketPath, 'GET', path);
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body) as T;
}

/** podman prints sizes in decimal units with two decimals ("10.49MB"). */
function parsePodmanSize(s: string): number {
  const m = /^([0-9.]+)\s*([kMG]?B)$/.exec(s);
  assert.ok(m, `unexpected size ${s}`);
  return Number(m[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as 'B' | 'kB' | 'MB' | 'GB'];
}

describe('the container baseline on podman', () => {
  test('inspect and the process itself show no-new-privileges, no NET_RAW, the pids limit, the user, a read-only root and a writable /tmp', async () => {
    const node = fx.podman.node('inspect');
    const check = [
      'grep -E "^(NoNewPrivs|CapBnd)" /proc/self/status',
      'echo uid=$(id -u) gid=$(id -g)',
      'touch /x 2>/dev/null && echo rootfs=rw || echo rootfs=ro',
      'touch /tmp/x && echo tmp=rw || echo tmp=ro',
      'echo pidsmax=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)',
    ].join('; ');
    const c = spec('app', { command: ['/bin/sh', '-c', check], pids: 48, user: '1000:1000', readOnlyRootfs: true });
    const id = await run(optionsFor(node, 'job-0', c));
    assert.equal((await exited(fx.engine, id)).exitCode, 0);

    const compat = await inspectRaw<CompatInspect>(`/containers/${id}/json`);
    assert.ok(compat.HostConfig.SecurityOpt?.includes('no-new-privileges'), JSON.stringify(compat.HostConfig.SecurityOpt));
    assert.deepEqual(compat.HostConfig.CapDrop, ['NET_RAW']);
    assert.equal(compat.HostConfig.PidsLimit, 48);
    assert.equal(compat.HostConfig.ReadonlyRootfs, true);
    assert.equal(compat.Config.User, '1000:1000');
    assert.equal(compat.HostConfig.LogConfig.Type, 'json-file');
    // The compatible inspect leaves LogConfig.Config null; libpod's shows the size applied.
    const libpod = await inspectRaw<LibpodInspect>(`/v4.0.0/libpod/containers/${id}/json`);
    assert.ok(Math.abs(parsePodmanSize(libpod.HostConfig.LogConfig.Size) - LOG_MAX_BYTES) < 0.01 * LOG_MAX_BYTES, libpod.HostConfig.LogConfig.Size);
    assert.ok(!libpod.BoundingCaps.includes('CAP_NET_RAW'), libpod.BoundingCaps.join(' '));
    assert.ok(libpod.BoundingCaps.includes('CAP_CHOWN'), 'the rest of the default set is kept');

    const seen = await outputOf(id);
    assert.equal(seen.get('NoNewPrivs'), '1');
    const bounding = BigInt(`0x${seen.get('CapBnd') ?? ''}`);
    assert.equal(bounding & NET_RAW_BIT, 0n, `CapBnd ${seen.get('CapBnd')}`);
    assert.notEqual(bounding, 0n);
    assert.equal(seen.get('uid'), '1000 gid=1000');
    assert.equal(seen.get('rootfs'), 'ro');
    assert.equal(seen.get('tmp'), 'rw');
    assert.equal(seen.get('pidsmax'), '48');
  });

  test('ping fails without NET_RAW while TCP works; the same container with NET_RAW can ping (the control)', async () => {
    const node = fx.podman.node('ping');
    const script = [
      '/bin/ping -c1 -W1 127.0.0.1 >/dev/null 2>&1; echo ping=$?',
      '/bin/httpd -p 127.0.0.1:8080 -h /www',
      "echo tcp=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /bin/nc 127.0.0.1 8080 | /bin/head -1)",
    ].join('; ');
    const c = spec('app', { command: ['/bin/sh', '-c', script] });
    const baseline = optionsFor(node, 'job-0', c);
    const control: EngineCreateOptions = { ...optionsFor(node, 'job-1', c), HostConfig: { ...baseline.HostConfig, CapDrop: [] } };
    const [withBaseline, withRaw] = await Promise.all([run(baseline), run(control)]);
    await Promise.all([exited(fx.engine, withBaseline), exited(fx.engine, withRaw)]);
    const a = await outputOf(withBaseline);
    const b = await outputOf(withRaw);
    assert.equal(a.get('ping'), '1', 'no raw socket: ping fails');
    assert.match(a.get('tcp') ?? '', /^HTTP\/1\.[01] 200/, 'a TCP connection works');
    assert.equal(b.get('ping'), '0', 'with NET_RAW the same ping works: the capability is what stops it');
  });

  test('the log is rotated at 10 MiB: 24 MiB of output leave a log file of at most 10 MiB', async () => {
    const node = fx.podman.node('log');
    // 16-byte lines; the k8s-file format adds a timestamp and stream prefix to each, so the file would be ~3x this.
    const c = spec('app', { command: ['/bin/sh', '-c', 'yes 0123456789abcde | head -c 25165824; echo end'] });
    const id = await run(optionsFor(node, 'job-0', c));
    await exited(fx.engine, id, 60_000);
    const libpod = await inspectRaw<LibpodInspect>(`/v4.0.0/libpod/containers/${id}/json`);
    const size = fs.statSync(libpod.HostConfig.LogConfig.Path).size;
    assert.ok(size <= LOG_MAX_BYTES, `log file ${size} bytes`);
    const { stdout } = await fx.engine.logs(id, { tail: 1 });
    assert.equal(stdout.trim(), 'end', 'the newest output is kept');
  });

  test('a fork bomb stops at its pids limit; a neighbour keeps answering and the host can still fork', async () => {
    const node = fx.podman.node('bomb');
    const port = await freePort();
    const neighbour = spec('web', { command: serve(8080), ports: [{ host: port, container: 8080, protocol: 'tcp' }] });
    const neighbourId = await run(optionsFor(node, 'web-0', neighbour, 'bridge'));
    await waitFor('the neighbour answers', () => httpOk(port));

    // A subshell forks sleeps until fork fails (busybox sh then dies: "can't fork"); PID 1 then
    // execs (no fork needed) and the sleeps keep the pids taken.
    const bomb = spec('bomb', { pids: 32, command: ['/bin/sh', '-c', '(while :; do /bin/sleep 600 & done); echo fork-failed; exec /bin/sleep 600'] });
    const bombId = await run(optionsFor(node, 'bomb-0', bomb));
    // stdout and stderr reach the log through separate pipes: wait for both lines, in either order.
    let seen = { stdout: '', stderr: '' };
    const log = await waitFor('the bomb to hit its limit', async () => {
      seen = await fx.engine.logs(bombId, { tail: 20 });
      return seen.stdout.includes('fork-failed') && seen.stderr.includes("can't fork") ? seen.stderr : undefined;
    }, { timeoutMs: 30_000 }).catch(async (err: Error) => {
      // Say what the bomb did instead: its output, pids and state.
      const pids = await pidsInUse(bombId).catch((e: Error) => e.message);
      const state = await fx.engine.inspect(bombId).then((i) => i.state, (e: Error) => e.message);
      throw new Error(`${err.message}; stdout ${JSON.stringify(seen.stdout)}, stderr ${JSON.stringify(seen.stderr)}, pids ${pids}, state ${state}`);
    });
    assert.match(log, /can't fork: Resource temporarily unavailable/);
    const pids = await pidsInUse(bombId);
    assert.ok(pids >= 30 && pids <= 32, `pids in use ${pids}`);
    assert.equal((await fx.engine.inspect(bombId)).state, 'running', 'contained, not crashed');

    // While the bomb holds every pid it may have: the neighbour answers, and this process can fork.
    for (let i = 0; i < 5; i++) assert.ok(await httpOk(port), `neighbour request ${i}`);
    const child = spawnSync('/bin/sh', ['-c', 'for i in 1 2 3 4 5 6 7 8; do /bin/true & done; wait; echo ok']);
    assert.equal(child.status, 0);
    assert.equal(child.stdout.toString().trim(), 'ok');
    assert.equal((await fx.engine.inspect(neighbourId)).state, 'running');
    await fx.engine.remove(bombId, { force: true });
  });
});

async function httpOk(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** pids_stats.current from the engine's stats. */
async function pidsInUse(id: string): Promise<number> {
  const stats = await inspectRaw<{ pids_stats?: { current?: number } }>(`/containers/${id}/stats?stream=false`);
  assert.equal(typeof stats.pids_stats?.current, 'number', JSON.stringify(stats.pids_stats));
  return stats.pids_stats!.current!;
}
