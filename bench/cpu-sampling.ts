// What CPU sampling for autoscaling costs a node: N idle instances of an
// autoscaled job (busybox sleep, one container each, 16M, 10m..100m, bridge
// network like a real pod), created straight through the engine, and the
// agent's CpuSampler (the code the node agent runs) at its default period
// over a window, publishing through the real ClusterStore to a real etcd:
// once with podman's libpod batch endpoint (what the agent uses there), once
// with one Docker-API stats call per container (what dockerd gets); and,
// for comparison only, reading the containers' cgroup CPU counters from the
// host without asking the engine at all.
//
// Measured over the same window: this process's CPU (process.cpuUsage: the
// stats calls, pairing, the etcd put), the podman service's CPU (utime +
// stime of the service process this bench started, from /proc/<pid>/stat;
// reaped children separately), and the same podman figure over an equal
// window before sampling starts (what 100 idle containers cost it anyway);
// each round's duration (targets read → record written) and the etcd bytes
// it wrote (counting driver).
//
//   node dist/bench/cpu-sampling.js              N = 100, four 60 s windows (idle, batch, per container, cgroup file)
//   OZY_BENCH_CPU_INSTANCES=20 OZY_BENCH_CPU_WINDOW_S=20 node dist/bench/cpu-sampling.js
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import pino from 'pino';
import { CpuSampler, DEFAULT_CPU_SAMPLE_MS } from '../src/agent/cpu-sampler';
import type { CpuTarget } from '../src/agent/cpu-sampling';
import { Limiter } from '../src/agent/limiter';
import type { ContainerSpec } from '../src/model/job';
import { BUSYBOX_IMAGE, buildBusyboxImage, createEngine, toCreateOptions, type ContainerEngine, type ContainerStats } from '../src/runtime';
import { ClusterStore, type NodeSession } from '../src/store';
import { startEtcd } from '../test/harness/etcd';
import { startPodman } from '../test/harness/podman';
import { CountingDriver } from './lib/counting-driver';
import { goalAtMost, type Figure, type Section } from './lib/figures';
import { percentile, round } from './lib/stats';

export interface CpuSamplingResult {
  instances: number;
  sampleMs: number;
  windowMs: number;
  /** pid and name of the podman service process whose CPU is read. */
  podman: { pid: number; comm: string; idle: ProcCpu };
  /** What the node agent runs on podman: one libpod batch request per round. */
  batch: VariantResult;
  /** The Docker-API path (what dockerd gets): one stats call per container, 4 at a time. */
  perContainer: VariantResult;
  /**
   * Not what the agent does: the same sampler reading each container's
   * cgroup CPU counter from the host (cgroup v1 cpuacct.usage, podman's
   * cgroupfs layout) instead of asking the engine; undefined when the
   * files are not where podman with cgroupfs puts them.
   */
  cgroupFile?: VariantResult;
  createMs: number;
}

export interface VariantResult {
  windowMs: number;
  rounds: number;
  /** Rounds in which some instance had no figure (a failed call). */
  incompleteRounds: number;
  /** This process: ms of CPU, % of one core, and that scaled to 100 instances. */
  sampler: { cpuMs: number; percentOfCore: number; percentPer100: number };
  /** The podman service over the window, and what it added over the idle window, per 100 instances. */
  podman: ProcCpu & { addedPercentPer100: number };
  roundMs: { p50: number; p99: number; max: number };
  etcd: { bytesPerRound: number; putsPerRound: number; recordBytes: number };
}

interface ProcCpu {
  /** utime + stime of the process itself, ms, and as % of one core over the window. */
  selfMs: number;
  percentOfCore: number;
  /** cutime + cstime: children it waited for (e.g. runtime invocations), ms. */
  childrenMs: number;
}

const log = pino({ level: 'silent' });

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** utime, stime, cutime, cstime of `pid`, in ms. */
function procTimes(pid: number, hz: number): { self: number; children: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm)": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  const ms = (ticks: number): number => (ticks * 1000) / hz;
  return { self: ms(f[11]! + f[12]!), children: ms(f[13]! + f[14]!) };
}

function procCpu(before: { self: number; children: number }, after: { self: number; children: number }, windowMs: number): ProcCpu {
  const selfMs = after.self - before.self;
  return { selfMs: round(selfMs), percentOfCore: round((selfMs / windowMs) * 100, 2), childrenMs: round(after.children - before.children) };
}

function containerOf(i: number): ContainerSpec {
  return {
    name: 'app',
    image: BUSYBOX_IMAGE,
    restart: 'always',
    command: ['/bin/sleep', '3600'],
    environment: [],
    ports: [],
    dependsOn: [],
    memory: 16 * 2 ** 20,
    cpu: 10 + (i % 10) * 10,
    volumes: [],
  };
}

/** Creates and starts N one-container pods the way the pod runtime labels them; returns the sampler's targets. */
async function createInstances(engine: ContainerEngine, node: string, n: number): Promise<CpuTarget[]> {
  const limiter = new Limiter(4);
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      limiter.run(async () => {
        const c = containerOf(i);
        const ctx = { job: 'cpuidle', instance: `cpuidle-${i}`, node, specHash: 'bench' };
        const id = await engine.create(toCreateOptions(ctx, [c], c, undefined, { hostIp: '127.0.0.1' }));
        await engine.start(id);
        return { instance: ctx.instance, job: ctx.job, spec: ctx.specHash, healthy: true, limit: c.cpu, containers: [id] };
      }),
    ),
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Rig {
  engine: ContainerEngine;
  store: ClusterStore;
  driver: CountingDriver;
  session: NodeSession;
  targets: CpuTarget[];
  pid: number;
  hz: number;
  idle: ProcCpu;
}

/** podman (cgroupfs manager) on cgroup v1: the container's cumulative CPU time, ns. */
function cgroupCpuFile(id: string): string {
  return `/sys/fs/cgroup/cpuacct/libpod_parent/libpod-${id}/cpuacct.usage`;
}

function cgroupStats(id: string): ContainerStats {
  return { readAt: new Date().toISOString(), memoryUsage: 0, memoryLimit: 0, cpuTotalNs: Number(fs.readFileSync(cgroupCpuFile(id), 'utf8')) };
}

type Variant = 'batch' | 'per-container' | 'cgroup-file';

/** The agent's CpuSampler over `windowMs` at its default period, the first round (first samples only) left out. */
async function sampleWindow(rig: Rig, windowMs: number, variant: Variant): Promise<VariantResult> {
  const n = rig.targets.length;
  const roundMs: number[] = [];
  let roundStart = 0;
  let incompleteRounds = 0;
  let recordBytes = 0;
  const sampler = new CpuSampler({
    sampleMs: DEFAULT_CPU_SAMPLE_MS,
    targets: () => {
      roundStart = performance.now();
      return rig.targets;
    },
    stats: variant === 'cgroup-file' ? async (id) => cgroupStats(id) : (id) => rig.engine.stats(id),
    ...(variant === 'batch' ? { statsMany: (ids: readonly string[]) => rig.engine.statsMany(ids) } : {}),
    publish: async (record) => {
      await rig.store.publishNodeCpu(rig.session, record);
      roundMs.push(performance.now() - roundStart);
      if (record === null || Object.keys(record.instances).length < n) incompleteRounds++;
      if (record !== null) recordBytes = Buffer.byteLength(rig.store.keys.cpu(rig.session.node)) + Buffer.byteLength(JSON.stringify(record));
    },
    log,
  });
  sampler.poke();
  while (roundMs.length < 1) await sleep(10);
  rig.driver.reset();
  roundMs.length = 0;
  incompleteRounds = 0;
  const before = procTimes(rig.pid, rig.hz);
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(windowMs);
  const cpu = process.cpuUsage(cpu0);
  const elapsed = performance.now() - w0;
  const podman = procCpu(before, procTimes(rig.pid, rig.hz), elapsed);
  const counts = rig.driver.reset();
  await sampler.close();
  const rounds = roundMs.length;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const per100 = (x: number): number => round((x * 100) / n, 2);
  return {
    windowMs: Math.round(elapsed),
    rounds,
    incompleteRounds,
    sampler: { cpuMs: round(cpuMs), percentOfCore: round((cpuMs / elapsed) * 100, 2), percentPer100: per100((cpuMs / elapsed) * 100) },
    podman: { ...podman, addedPercentPer100: per100(podman.percentOfCore - rig.idle.percentOfCore) },
    roundMs: { p50: round(percentile(roundMs, 50)), p99: round(percentile(roundMs, 99)), max: round(Math.max(...roundMs)) },
    etcd: { bytesPerRound: Math.round(counts.bytesWritten / Math.max(1, rounds)), putsPerRound: round(counts.puts / Math.max(1, rounds), 2), recordBytes },
  };
}

export async function runCpuSamplingBench(opts: { instances?: number; windowMs?: number; settleMs?: number } = {}): Promise<CpuSamplingResult> {
  const instances = opts.instances ?? Number(process.env.OZY_BENCH_CPU_INSTANCES ?? 100);
  const windowMs = opts.windowMs ?? Number(process.env.OZY_BENCH_CPU_WINDOW_S ?? 60) * 1000;
  const settleMs = opts.settleMs ?? 10_000;
  const hz = clockTicks();
  const [podman, etcd] = await Promise.all([startPodman(), startEtcd()]);
  const driver = CountingDriver.connect([etcd.endpoint]);
  const store = ClusterStore.connect({ endpoints: [etcd.endpoint], driver });
  try {
    const pid = podman.pid;
    if (pid === undefined) throw new Error('the podman service is not running');
    const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const engine = createEngine({ socketPath: podman.socketPath, registryAuth: [] });
    await buildBusyboxImage(engine);
    const node = podman.node('cpu');
    const session = await store.registerNode(
      { name: node, address: '192.0.2.10', labels: {}, capacity: { memory: 8 * 2 ** 30, disk: 8 * 2 ** 30, cpu: 16_000 } },
      { ttlSeconds: 10, agentId: randomUUID() },
    );
    const t0 = Date.now();
    const targets = await createInstances(engine, node, instances);
    const createMs = Date.now() - t0;
    await sleep(settleMs);

    // What podman spends on N idle containers without sampling.
    const before = procTimes(pid, hz);
    await sleep(windowMs);
    const idle = procCpu(before, procTimes(pid, hz), windowMs);
    const rig: Rig = { engine, store, driver, session, targets, pid, hz, idle };
    const batch = await sampleWindow(rig, windowMs, 'batch');
    const perContainer = await sampleWindow(rig, windowMs, 'per-container');
    const cgroupFile = fs.existsSync(cgroupCpuFile(targets[0]!.containers[0]!)) ? await sampleWindow(rig, windowMs, 'cgroup-file') : undefined;
    return { instances, sampleMs: DEFAULT_CPU_SAMPLE_MS, windowMs, podman: { pid, comm, idle }, batch, perContainer, ...(cgroupFile ? { cgroupFile } : {}), createMs };
  } finally {
    await store.close().catch(() => undefined);
    await podman.stop();
    await etcd.stop();
  }
}

function variantFigures(id: string, what: string, v: VariantResult, r: CpuSamplingResult): Figure[] {
  const n = r.instances;
  return [
    {
      id: `cpuSampling.${id}.sampler.percentPer100`,
      label: `${what}: sampling process CPU per 100 instances`,
      value: v.sampler.percentPer100,
      unit: '% core',
      goal: goalAtMost(v.sampler.percentPer100, 5, 'at most 5% of a core per 100 instances'),
      detail: `${v.sampler.cpuMs} ms of CPU in ${v.windowMs / 1000} s (${v.sampler.percentOfCore}% of a core for ${n} instances), ${v.rounds} rounds`,
    },
    {
      id: `cpuSampling.${id}.podman.addedPercentPer100`,
      label: `${what}: podman service CPU added per 100 instances`,
      value: v.podman.addedPercentPer100,
      unit: '% core',
      goal: goalAtMost(v.podman.addedPercentPer100, 5, 'at most 5% of a core per 100 instances'),
      detail: `pid ${r.podman.pid} (${r.podman.comm}): ${v.podman.percentOfCore}% of a core while sampling ${n} (${v.podman.selfMs} ms), ${r.podman.idle.percentOfCore}% over the idle window (${r.podman.idle.selfMs} ms); reaped children ${v.podman.childrenMs} ms`,
    },
    {
      id: `cpuSampling.${id}.round.p50`,
      label: `${what}: one round (${n} containers + one etcd put), p50`,
      value: v.roundMs.p50,
      unit: 'ms',
      vs: { kind: 'bound', label: 'the sample period', value: r.sampleMs, unit: 'ms', measured: false },
      detail: `p99 ${v.roundMs.p99} ms, max ${v.roundMs.max} ms; ${v.incompleteRounds} of ${v.rounds} rounds missed some instance`,
    },
    {
      id: `cpuSampling.${id}.etcd.bytesPerRound`,
      label: `${what}: etcd bytes written per round (keys + values)`,
      value: v.etcd.bytesPerRound,
      unit: 'B',
      vs: { kind: 'floor', label: 'the NodeCpu key + JSON record', value: v.etcd.recordBytes, unit: 'B', measured: true },
      detail: `${v.etcd.putsPerRound} puts per round`,
    },
  ];
}

export function cpuSamplingSection(r: CpuSamplingResult, durationMs: number): Section {
  return {
    id: 'cpu-sampling',
    title: 'CPU sampling for autoscaling: cost per node',
    figures: [
      ...variantFigures('batch', 'libpod batch (what the agent uses on podman)', r.batch, r),
      ...variantFigures('perContainer', 'Docker API, one call per container (the dockerd path)', r.perContainer, r),
      ...(r.cgroupFile ? variantFigures('cgroupFile', 'cgroup file read, no engine call (not what the agent does)', r.cgroupFile, r) : []),
    ],
    notes: [
      `bench/cpu-sampling.ts: ${r.instances} busybox sleep containers (16M, 10m..100m, bridge network) created through the Engine API in ${Math.round(r.createMs / 1000)} s; after a 10 s settle, the podman service's CPU over ${r.windowMs / 1000} s with nothing sampled, then the agent's CpuSampler at its default ${r.sampleMs / 1000} s period for ${r.windowMs / 1000} s with the libpod batch endpoint, then ${r.windowMs / 1000} s with one Docker-API stats call per container (4 at a time)${r.cgroupFile ? `, then ${r.windowMs / 1000} s reading each container's cpuacct.usage from the host's cgroup v1 tree instead of asking the engine (a comparison: the agent does not do this)` : ''}; each publishes through ClusterStore.publishNodeCpu to etcd (counting driver). podman CPU is utime + stime of the service process the bench started (/proc/<pid>/stat); "added" subtracts the idle window's rate. The sampling process's CPU is process.cpuUsage of the bench process over the window (stats calls, JSON, pairing, the etcd put).`,
    ],
    durationMs,
    raw: r,
  };
}

if (require.main === module) {
  const t0 = Date.now();
  runCpuSamplingBench().then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      for (const [what, v] of [['batch', r.batch], ['per container', r.perContainer], ['cgroup file', r.cgroupFile]] as const) {
        if (v === undefined) continue;
        console.log(`${what}: sampler ${v.sampler.percentPer100}% of a core per 100 instances; podman +${v.podman.addedPercentPer100}% per 100; round p50 ${v.roundMs.p50} ms`);
      }
      console.log(`(${Math.round((Date.now() - t0) / 1000)} s)`);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
