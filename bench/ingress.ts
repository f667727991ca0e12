// Ingress throughput and latency (issue 11's figures): requests/s and
// p50/p99 through `ozy ingress`, through HAProxy 2.6 configured to the same
// two backends, and to one backend directly, all with keep-alive.
//
//   max rate   wrk -t1 -c32 for MEASURE_S seconds after a warm-up: requests/s, p50, p99
//   half rate  a fixed-rate load (bench/lib/fixed-rate.ts, µs latencies) at half of
//              the ingress's max rate through the ingress, HAProxy and directly:
//              the ingress's added p99 at that load
//   profile    the ingress again under wrk with --cpu-prof: what bounds it
//
// Everything runs on this machine (2 cores shared by load generator, proxy
// and backends), so the ratios mean more than the absolute figures. HAProxy
// runs with one thread, like the single-threaded ingress.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../src/paths';
import type { AcceptedJob, InstanceStatus } from '../src/model/cluster';
import { ClusterStore } from '../src/store';
import { startEtcd, type EtcdServer } from '../test/harness/etcd';
import { freePort } from '../test/harness/net';
import { startOzy, type OzyProcess } from '../test/harness/ozy-process';
import { tempDir } from '../test/harness/tmp';
import { waitFor } from '../test/harness/wait';
import { goalAtLeast, goalAtMost, missText, type Figure, type Section } from './lib/figures';
import { fixedRate } from './lib/fixed-rate';
import { hotspotText, summarize } from './lib/profile';

const run = promisify(execFile);
const HOST = 'bench.example.com';
const WARMUP_S = 2;
const MEASURE_S = 8;
const CONNECTIONS = 32;
const PROFILE_S = 5;

export interface LoadFigures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface IngressBenchRaw {
  max: { direct: LoadFigures; haproxy: LoadFigures; ingress: LoadFigures; haproxy2: LoadFigures; ingress2: LoadFigures };
  half: { rate: number; direct: LoadFigures; haproxy: LoadFigures; ingress: LoadFigures };
  profile: ReturnType<typeof summarize> | undefined;
  haproxyVersion: string;
  wrkVersion: string;
}

/** One small HTTP server per process, like a real instance (each with its own event loop). */
const BACKEND_SRC = `
const http = require('node:http');
const body = Buffer.from('x'.repeat(64));
const s = http.createServer((req, res) => { res.writeHead(200, {'content-type': 'text/plain', 'content-length': body.length}); res.end(body); });
s.keepAliveTimeout = 65000;
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

async function startBackend(): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['-e', BACKEND_SRC], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    proc.once('exit', (c) => reject(new Error(`backend exited with ${c}`)));
  });
  return { port, proc };
}

function haproxyConfig(listenPort: number, backends: number[], threads: number): string {
  return [
    'global',
    `  nbthread ${threads}`,
    // Well above the load's connections, within this machine's open-file limit.
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  option http-keep-alive',
    'frontend fe',
    `  bind 127.0.0.1:${listenPort}`,
    '  default_backend be',
    'backend be',
    '  balance roundrobin',
    '  http-reuse always',
    ...backends.map((p, i) => `  server b${i} 127.0.0.1:${p}`),
    '',
  ].join('\n');
}

function waitListening(port: number): Promise<true> {
  return waitFor(`127.0.0.1:${port} accepting`, () =>
    new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    }),
  );
}

/** Writes the raw figures to bench/results/ingress.json (besides the run's own results file). */
export function writeIngressResults(raw: IngressBenchRaw, section: Section): string {
  const file = path.join(projectRoot(), 'bench', 'results', 'ingress.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), figures: section.figures, notes: section.notes, raw }, null, 2)}\n`);
  return file;
}

/** wrk's "1.23ms" / "850.00us" / "1.02s" → milliseconds. */
function wrkMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

async function wrk(port: number, seconds: number): Promise<LoadFigures> {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-H', `Host: ${HOST}`, `http://127.0.0.1:${port}/`];
  const { stdout } = await run('wrk', args, { timeout: (seconds + 30) * 1000 });
  const rps = Number(/Requests\/sec:\s*([\d.]+)/.exec(stdout)?.[1]);
  const p50 = wrkMs(/^\s*50%\s+(\S+)/m.exec(stdout)?.[1] ?? '');
  const p99 = wrkMs(/^\s*99%\s+(\S+)/m.exec(stdout)?.[1] ?? '');
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const errors = (errs ? errs.slice(1).reduce((n, x) => n + Number(x), 0) : 0) + non2xx;
  if (!Number.isFinite(rps)) throw new Error(`cannot read wrk's output:\n${stdout}`);
  return { rps: Math.round(rps), p50Ms: p50, p99Ms: p99, errors };
}

const RATE_CONNECTIONS = 16;

/** A fixed overall rate: latency at a load the target can sustain. */
function atRate(port: number, rate: number, seconds: number): Promise<LoadFigures> {
  return fixedRate({ port, host: HOST, rate, seconds, connections: RATE_CONNECTIONS });
}

async function measureMax(port: number): Promise<LoadFigures> {
  await wrk(port, WARMUP_S);
  return wrk(port, MEASURE_S);
}

export async function runIngressBench(): Promise<IngressBenchRaw> {
  const tmp = tempDir('ozy-bench-ingress-');
  const procs: ChildProcess[] = [];
  let etcd: EtcdServer | undefined;
  let store: ClusterStore | undefined;
  let ingress: OzyProcess | undefined;
  try {
    etcd = await startEtcd();
    const backends = [await startBackend(), await startBackend()];
    procs.push(...backends.map((b) => b.proc));

    // The routes, written as the scheduler and the agents will.
    store = ClusterStore.connect({ endpoints: [etcd.endpoint] });
    const nodes = ['bench-n1', 'bench-n2'];
    const sessions = [];
    for (const name of nodes) {
      sessions.push(await store.registerNode({ name, address: '127.0.0.1', labels: {}, capacity: { memory: 1 << 30, disk: 1 << 30, cpu: 2000 } }, { ttlSeconds: 60, agentId: name }));
    }
    const job: AcceptedJob = {
      spec: {
        name: 'bench',
        numInstances: 2,
        containers: [{ name: 'app', image: 'localhost/ozy-test:1', restart: 'always', environment: [], ports: [], dependsOn: [], memory: 1 << 26, cpu: 100, volumes: [] }],
        ingress: [{ host: HOST, path: '/', port: 8080 }],
      },
      specHash: 'bench',
      commit: 'bench',
      file: 'jobs/bench.yaml',
      acceptedAt: new Date().toISOString(),
      instances: nodes.map((node) => ({ node, since: new Date().toISOString() })),
    };
    const snap = await store.snapshot();
    await store.commitSchedule(snap.scheduleRevision, { putJobs: [job], deleteJobs: [], putRejections: [], deleteRejections: [], readJobs: snap.jobs }, { commit: 'bench', by: 'bench' });
    for (let i = 0; i < 2; i++) {
      const status: InstanceStatus = {
        instance: `bench-${i}`,
        job: 'bench',
        node: nodes[i]!,
        specHash: 'bench',
        state: 'healthy',
        restarts: 0,
        containers: { app: { state: 'running' } },
        updatedAt: new Date().toISOString(),
        endpoints: { '8080': { host: '127.0.0.1', port: backends[i]!.port } },
      };
      await store.putInstanceStatus(sessions[i]!, status);
    }

    const startIngress = async (nodeArgs: string[] = [], workers = 1): Promise<{ proc: OzyProcess; port: number }> => {
      const proc = startOzy(['ingress', '--etcd', etcd!.endpoint, '--listen', '127.0.0.1:0', '--workers', String(workers)], nodeArgs);
      const port = Number((await proc.address('ingress listening')).split(':').pop());
      await waitFor('the route in every worker', () => (proc.logs().match(/"backends":2/g) ?? []).length >= workers);
      return { proc, port };
    };
    const started = await startIngress();
    ingress = started.proc;
    const ingressPort = started.port;

    const startHaproxy = async (threads: number): Promise<{ proc: ChildProcess; port: number }> => {
      const haPort = await freePort();
      const cfg = path.join(tmp.dir, `haproxy-${threads}.cfg`);
      fs.writeFileSync(cfg, haproxyConfig(haPort, backends.map((b) => b.port), threads));
      const haproxy = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
      procs.push(haproxy);
      let haLog = '';
      haproxy.stderr!.setEncoding('utf8').on('data', (d: string) => (haLog += d));
      let haExited = false;
      haproxy.once('exit', () => (haExited = true));
      await Promise.race([
        waitListening(haPort),
        waitFor('haproxy to exit', () => haExited).then(() => {
          throw new Error(`haproxy exited:\n${haLog}`);
        }),
      ]);
      return { proc: haproxy, port: haPort };
    };
    const ha1 = await startHaproxy(1);
    const haPort = ha1.port;

    // Max rate: each target in turn, so they never compete with each other.
    const direct = await measureMax(backends[0]!.port);
    const haproxyMax = await measureMax(haPort);
    const ingressMax = await measureMax(ingressPort);
    // Both with two threads / processes (the machine's cores): HAProxy's default, ozy's --workers 2.
    const ha2 = await startHaproxy(2);
    const haproxy2 = await measureMax(ha2.port);
    ha2.proc.kill('SIGKILL');
    const two = await startIngress([], 2);
    const ingress2 = await measureMax(two.port);
    await two.proc.stop();

    // Half of the ingress's max: the latency it adds when not saturated.
    const rate = Math.max(100, Math.round(ingressMax.rps / 2));
    await atRate(ingressPort, rate, WARMUP_S);
    const half = {
      rate,
      direct: await atRate(backends[0]!.port, rate, MEASURE_S),
      haproxy: await atRate(haPort, rate, MEASURE_S),
      ingress: await atRate(ingressPort, rate, MEASURE_S),
    };

    // Profile: the ingress at max rate under the V8 sampling profiler.
    await ingress.stop();
    const profDir = path.join(tmp.dir, 'prof');
    const profiled = await startIngress(['--cpu-prof', '--cpu-prof-dir', profDir]);
    ingress = profiled.proc;
    await wrk(profiled.port, PROFILE_S);
    await ingress.stop();
    ingress = undefined;
    const profFile = fs.existsSync(profDir) ? fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) : undefined;
    let profile: IngressBenchRaw['profile'];
    if (profFile) {
      const kept = path.join(projectRoot(), 'bench', 'results', 'ingress.cpuprofile');
      fs.mkdirSync(path.dirname(kept), { recursive: true });
      fs.copyFileSync(path.join(profDir, profFile), kept);
      profile = summarize([JSON.parse(fs.readFileSync(kept, 'utf8'))], 10);
    }

    const version = async (cmd: string, args: string[], re: RegExp): Promise<string> => {
      const out = await run(cmd, args).then((r) => r.stdout + r.stderr, (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`);
      return re.exec(out)?.[1] ?? 'unknown';
    };
    for (const s of sessions) await s.revoke().catch(() => undefined);
    return {
      max: { direct, haproxy: haproxyMax, ingress: ingressMax, haproxy2, ingress2 },
      half,
      profile,
      haproxyVersion: await version('haproxy', ['-v'], /version (\S+)/),
      wrkVersion: await version('wrk', ['-v'], /wrk (\S+)/),
    };
  } finally {
    await ingress?.stop();
    for (const p of procs) p.kill('SIGKILL');
    await store?.close();
    await etcd?.stop();
    tmp.cleanup();
  }
}

const r1 = (v: number): number => Math.round(v * 100) / 100;

export function ingressSection(raw: IngressBenchRaw, durationMs: number): Section {
  const { max, half } = raw;
  const ha = `HAProxy ${raw.haproxyVersion} (1 thread)`;
  const addedP99 = half.ingress.p99Ms - half.direct.p99Ms;
  const figures: Figure[] = [
    {
      id: 'ingress.max.rps',
      label: 'requests/s through ozy ingress (max, keep-alive)',
      value: max.ingress.rps,
      unit: 'req/s',
      vs: { kind: 'peer', label: `${ha}, same backends`, value: max.haproxy.rps, unit: 'req/s', measured: true },
      goal: goalAtLeast(max.ingress.rps, 0.5 * max.haproxy.rps, '≥ 0.5× HAProxy'),
      detail: `wrk ${raw.wrkVersion} -t1 -c${CONNECTIONS} ${MEASURE_S}s; p50 ${r1(max.ingress.p50Ms)} ms, p99 ${r1(max.ingress.p99Ms)} ms; errors ${max.ingress.errors}`,
    },
    {
      id: 'ingress.max.rps.2',
      label: 'requests/s through ozy ingress --workers 2 (max)',
      value: max.ingress2.rps,
      unit: 'req/s',
      vs: { kind: 'peer', label: `HAProxy ${raw.haproxyVersion} (2 threads)`, value: max.haproxy2.rps, unit: 'req/s', measured: true },
      goal: goalAtLeast(max.ingress2.rps, 0.5 * max.haproxy2.rps, '≥ 0.5× HAProxy'),
      detail: `p50 ${r1(max.ingress2.p50Ms)} ms, p99 ${r1(max.ingress2.p99Ms)} ms; HAProxy p50 ${r1(max.haproxy2.p50Ms)} ms, p99 ${r1(max.haproxy2.p99Ms)} ms; errors ${max.ingress2.errors + max.haproxy2.errors}`,
    },
    {
      id: 'ingress.max.haproxy.rps',
      label: `requests/s through ${ha} (max)`,
      value: max.haproxy.rps,
      unit: 'req/s',
      vs: { kind: 'floor', label: 'one backend directly', value: max.direct.rps, unit: 'req/s', measured: true },
      detail: `p50 ${r1(max.haproxy.p50Ms)} ms, p99 ${r1(max.haproxy.p99Ms)} ms; direct p50 ${r1(max.direct.p50Ms)} ms, p99 ${r1(max.direct.p99Ms)} ms; errors ${max.haproxy.errors}`,
    },
    {
      id: 'ingress.max.p99',
      label: 'p99 latency through ozy ingress at max rate',
      value: r1(max.ingress.p99Ms),
      unit: 'ms',
      vs: { kind: 'peer', label: ha, value: r1(max.haproxy.p99Ms), unit: 'ms', measured: true },
      detail: `p50 ${r1(max.ingress.p50Ms)} ms against HAProxy's ${r1(max.haproxy.p50Ms)} ms`,
    },
    {
      id: 'ingress.half.addedP99',
      label: `p99 added by ozy ingress at half its max rate (${half.rate} req/s)`,
      value: r1(addedP99),
      unit: 'ms',
      vs: { kind: 'bound', label: 'goal', value: 2, unit: 'ms', measured: false },
      goal: goalAtMost(addedP99, 2, 'added p99 ≤ 2 ms'),
      detail: `fixed rate over ${RATE_CONNECTIONS} connections at ${half.rate} req/s: ingress p50 ${r1(half.ingress.p50Ms)} / p99 ${r1(half.ingress.p99Ms)} ms; direct ${r1(half.direct.p50Ms)} / ${r1(half.direct.p99Ms)} ms; HAProxy ${r1(half.haproxy.p50Ms)} / ${r1(half.haproxy.p99Ms)} ms`,
    },
  ];
  const notes: string[] = [];
  const ratio = max.ingress.rps / max.haproxy.rps;
  notes.push(`ozy ingress reaches ${(ratio * 100).toFixed(0)}% of HAProxy's requests/s with one process against one thread, ${((max.ingress2.rps / max.haproxy2.rps) * 100).toFixed(0)}% with two against two (goal 50%).`);
  if (!figures[0]!.goal!.met) notes.push(`requests/s goal missed: ${max.ingress.rps} req/s against the ${Math.round(0.5 * max.haproxy.rps)} req/s wanted`);
  if (!figures.find((f) => f.id === 'ingress.half.addedP99')!.goal!.met) notes.push(`added p99 goal missed: ${missText(addedP99, 2, 'ms')}`);
  notes.push(
    `at the same rate HAProxy adds ${r1(half.haproxy.p99Ms - half.direct.p99Ms)} ms of p99 (the noise floor of this shared machine: load average at the start in the machine line).`,
  );
  if (raw.profile) {
    notes.push(`profile of the ingress at max rate (${raw.profile.busyMs} ms busy of ${raw.profile.totalMs} ms): by file ${hotspotText(raw.profile.files, 6)}`);
    notes.push(`top functions: ${hotspotText(raw.profile.functions, 6)}`);
  }
  return { id: 'ingress', title: 'Ingress: requests/s and latency vs HAProxy and direct', figures, notes, durationMs, raw };
}
