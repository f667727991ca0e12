// Cron at scale (issue 14's figures): Stripe's test here — 1,000 cron jobs,
// each `echo hello` every minute (all due at second 0), on 3 agents.
//
// (a) Control plane, engine excluded: three agents' real cron code in one
//     process (CronDriver with its node-cron tasks; agent 0 is the poller on
//     a watch-fed ScheduleCache, the others follow), each with its own etcd
//     client, and a stand-in node per agent that "runs" each placed pod for
//     50 ms and reports its exit through the agent's ExitBatcher (ClusterStore.cron.reportExits).
//     Figures: runs claimed and placed per minute, start delay (scheduled →
//     placed in etcd) p50 / p99.
// (b) End to end with podman: three `ozy agent` processes, the 1,000 job
//     files in git. Runs started (container start events from the engine)
//     and finished (history records) per minute, start delay (scheduled →
//     container started) p50 / p99, next to the engine's floor measured
//     right after in the same run: create + start + wait + remove of the same
//     busybox container, by as many workers as the agents start pods at once
//     (3 × RUN_ENGINE_CONCURRENCY).
//
//   node dist/bench/run.js cron
//   OZY_BENCH_CRON_JOBS=1000 OZY_BENCH_CRON_MINUTES=3 OZY_BENCH_CRON_PARTS=a,b node dist/bench/cron.js
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pino from 'pino';
import Docker from 'dockerode';
import { CronDriver } from '../src/agent/cron-driver';
import { NodeJobs } from '../src/agent/node-jobs';
import { ExitBatcher } from '../src/agent/exit-batcher';
import { RUN_ENGINE_CONCURRENCY } from '../src/agent/run-executor';
import { runSlotsFor } from '../src/cron/assignments';
import type { CronEvent } from '../src/cron/round';
import { scheduleTimes } from '../src/cron/next-run';
import type { AcceptedJob } from '../src/model/cluster';
import { DEFAULT_CRON, type JobSpec } from '../src/model/job';
import { podTemplateHash } from '../src/model/hash';
import { BUSYBOX_IMAGE, PodRuntime, buildBusyboxImage, createEngine, podOf } from '../src/runtime';
import { ClusterStore, type NodeSession } from '../src/store';
import { merge, startClusterWithAgents, type TestCluster } from '../test/harness/cluster';
import { startEtcd } from '../test/harness/etcd';
import type { Section } from './lib/figures';
import { median, percentile, round } from './lib/stats';

const JOBS = Number(process.env.OZY_BENCH_CRON_JOBS ?? 1000);
const MINUTES = Number(process.env.OZY_BENCH_CRON_MINUTES ?? 3);
const PARTS = (process.env.OZY_BENCH_CRON_PARTS ?? 'a,b').split(',');
const AGENTS = 3;
const silent = pino({ level: process.env.OZY_BENCH_LOG ?? 'silent' });

export interface ControlPlaneResult {
  jobs: number;
  minutes: number;
  /** Per measured minute. */
  claimedPerMinute: number[];
  placedPerMinute: number[];
  /** Scheduled → placed in etcd, ms. */
  delays: { p50: number; p99: number; max: number; samples: number };
  /** Which agent committed the claims (0 is the poller). */
  claimsByAgent: number[];
}

export interface EndToEndResult {
  jobs: number;
  minutes: number;
  startedPerMinute: number[];
  finishedPerMinute: number[];
  /** Scheduled → container started (engine event), ms. */
  delays: { p50: number; p99: number; samples: number };
  results: Record<string, number>;
  floor: { workers: number; perMinute: number; windowMs: number };
}

export interface CronBenchResult {
  controlPlane?: ControlPlaneResult;
  endToEnd?: EndToEndResult;
}

function cronSpec(name: string): JobSpec {
  return {
    name,
    type: 'cron',
    numInstances: 0,
    containers: [{ name: 'app', image: BUSYBOX_IMAGE, restart: 'never', command: ['/bin/echo', 'hello'], environment: [], ports: [], dependsOn: [], memory: 16 * 1024 ** 2, cpu: 10, volumes: [] }],
    cron: { ...DEFAULT_CRON, schedule: '* * * * *', instances: 1, history: { succeeded: 100, failed: 100 } },
  };
}

const jobName = (i: number): string => `c${String(i).padStart(4, '0')}`;

/** Waits until `ms` past the start of the next minute (wall clock). */
async function untilNextMinute(plusMs: number): Promise<number> {
  const next = Math.ceil((Date.now() + 1) / 60_000) * 60_000;
  await delay(next + plusMs - Date.now());
  return next;
}

// ── (a) ─────────────────────────────────────────────────────────────

export async function runControlPlane(): Promise<ControlPlaneResult> {
  const etcd = await startEtcd();
  const stores = Array.from({ length: AGENTS }, () => ClusterStore.connect({ endpoints: [etcd.endpoint] }));
  const sessions: NodeSession[] = [];
  const drivers: CronDriver[] = [];
  const views: NodeJobs[] = [];
  const events: Array<{ agent: number; at: number; e: CronEvent }> = [];
  /** run → when a node first saw it placed (the control plane's "start" for that run). */
  const seenPlaced = new Map<string, number>();
  try {
    for (let i = 0; i < AGENTS; i++) {
      const capacity = { memory: 64 * 1024 ** 3, disk: 100 * 1024 ** 3, cpu: 64_000 };
      sessions.push(await stores[i]!.registerNode({ name: `n${i}`, address: '127.0.0.1', labels: {}, capacity }, { ttlSeconds: 10, agentId: `bench-${i}` }));
    }
    // The accepted jobs, as a round would commit them.
    const now = new Date(Date.now() - 60_000).toISOString();
    const jobs: AcceptedJob[] = Array.from({ length: JOBS }, (_, i) => {
      const spec = cronSpec(jobName(i));
      return { spec, specHash: podTemplateHash(spec), commit: 'bench', file: `jobs/${spec.name}.yaml`, acceptedAt: now, instances: [] };
    });
    const snap = await stores[0]!.snapshot();
    const res = await stores[0]!.commitSchedule(snap.scheduleRevision, { putJobs: jobs, deleteJobs: [], putRejections: [], deleteRejections: [], readJobs: new Map() }, { commit: 'bench', by: 'bench' });
    if (!res.ok) throw new Error('could not commit the bench jobs');

    for (let i = 0; i < AGENTS; i++) {
      const store = stores[i]!;
      const node = `n${i}`;
      const driver = new CronDriver(store, { log: silent, compile: scheduleTimes, onEvents: (es) => { const at = Date.now(); for (const e of es) events.push({ agent: i, at, e }); } });
      drivers.push(driver);
      // The stand-in node: each placed pod "runs" 50 ms, then its exit is reported as a node does (batched).
      const exits = new ExitBatcher(store);
      const started = new Set<string>();
      let view: NodeJobs;
      // Coalesced per burst of watch events, as the agent does (agent.ts onCronChange).
      let queued = false;
      const onCron = (): void => {
        if (queued) return;
        queued = true;
        setImmediate(() => {
          queued = false;
          look();
        });
      };
      const look = (): void => {
        driver.setJobs(view.cronJobs());
        for (const slot of runSlotsFor(node, sessions[i]!.leaseId, view.runs(), (n) => view.cronJob(n))) {
          const key = `${slot.instance}/${slot.attempt}`;
          if (started.has(key)) continue;
          started.add(key);
          if (!seenPlaced.has(slot.run)) seenPlaced.set(slot.run, Date.now());
          setTimeout(() => {
            const exit = { exitCodes: { app: 0 }, output: { app: 'hello\n' }, finishedAt: new Date().toISOString() };
            void exits.report({ job: slot.job, run: slot.run, ordinal: slot.ordinal, attempt: slot.attempt, node, exit }).catch(() => started.delete(key));
          }, Number(process.env.OZY_BENCH_CRON_WORK_MS ?? 50)).unref();
        }
      };
      view = new NodeJobs(store, node, silent, () => undefined, onCron);
      views.push(view);
      await view.start();
      look();
    }
    const cache = await stores[0]!.openScheduleCache({ onChange: (what) => drivers[0]!.onScheduleChange(what) });
    drivers[0]!.attach(cache);

    const first = await untilNextMinute(-2_000);
    const end = first + MINUTES * 60_000;
    await delay(end + 30_000 - Date.now());
    const claimedPerMinute: number[] = [];
    const placedPerMinute: number[] = [];
    for (let m = 0; m < MINUTES; m++) {
      const lo = first + m * 60_000;
      const inMinute = (x: { at: number }) => x.at >= lo && x.at < lo + 60_000;
      claimedPerMinute.push(events.filter((x) => x.e.what === 'claimed' && inMinute(x)).length);
      placedPerMinute.push(events.filter((x) => x.e.what === 'placed' && inMinute(x)).length);
    }
    // Scheduled (in the run's name) → its node saw it placed (the watch delivered the commit).
    const delays: number[] = [];
    for (const [run, at] of seenPlaced) {
      const scheduled = Number(run.slice(run.lastIndexOf('-') + 1)) * 1000;
      if (scheduled >= first && scheduled < end) delays.push(at - scheduled);
    }
    const claimsByAgent = Array.from({ length: AGENTS }, (_, i) => events.filter((x) => x.agent === i && x.e.what === 'claimed').length);
    return {
      jobs: JOBS,
      minutes: MINUTES,
      claimedPerMinute,
      placedPerMinute,
      delays: { p50: median(delays), p99: percentile(delays, 99), max: Math.max(0, ...delays), samples: delays.length },
      claimsByAgent,
    };
  } finally {
    for (const d of drivers) await d.stop();
    for (const v of views) await v.stop();
    for (const s of sessions) await s.release().catch(() => undefined);
    for (const s of stores) await s.close().catch(() => undefined);
    await etcd.stop();
  }
}

// ── (b) ─────────────────────────────────────────────────────────────

function cronFile(name: string): string {
  return [
    `name: ${name}`,
    'type: cron',
    'schedule: "* * * * *"',
    'history: {succeeded: 100, failed: 100}',
    'containers:',
    '  app:',
    `    image: ${BUSYBOX_IMAGE}`,
    '    command: ["/bin/echo", "hello"]',
    '    memory: 16M',
    '    cpu: 10m',
    '',
  ].join('\n');
}

/** Container start events of run pods (ozy.run label) from the engine: run → first start (ms). */
function watchStarts(socketPath: string): { starts: Map<string, number>; stop: () => void } {
  const starts = new Map<string, number>();
  const req = http.request({ socketPath, path: `/events?filters=${encodeURIComponent(JSON.stringify({ type: ['container'], event: ['start'] }))}`, method: 'GET' });
  let buf = '';
  req.on('response', (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const ev = JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> }; timeNano?: number; time?: number };
          const run = ev.Actor?.Attributes?.['ozy.run'];
          const at = ev.timeNano ? ev.timeNano / 1e6 : (ev.time ?? 0) * 1000;
          if (run && !starts.has(run)) starts.set(run, at);
        } catch {
          // a partial or foreign line
        }
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return { starts, stop: () => req.destroy() };
}

/**
 * The engine's floor: create + start + wait + remove of the very container a
 * run pod is (the same runtime code builds its create options: labels,
 * limits, network), by `workers` in parallel, for `windowMs`. No events, no
 * output, no etcd: what the engine itself needs per run.
 */
async function engineFloor(socketPath: string, workers: number, windowMs: number, dataDir: string): Promise<number> {
  const engine = createEngine({ socketPath, registryAuth: [] });
  const docker = new Docker({ socketPath });
  const node = `floor-${process.pid}`;
  const pods = new PodRuntime({ engine, node, volumes: { dataDir, sharedRoot: dataDir }, hostIp: '127.0.0.1' });
  const spec = cronSpec('floor');
  const until = Date.now() + windowMs;
  let done = 0;
  let n = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < until) {
        const instance = `floor-${n++}-0`;
        const started = await pods.startPod({ ...podOf(spec, podTemplateHash(spec), instance), labels: { 'ozy.run': instance } });
        for (const c of started.containers) await docker.getContainer(c.id).wait();
        for (const c of started.containers) await engine.remove(c.id, { force: true });
        done++;
      }
    }),
  );
  return (done * 60_000) / windowMs;
}

export async function runEndToEnd(): Promise<EndToEndResult> {
  let c: TestCluster | undefined;
  try {
    c = await startClusterWithAgents(['a', 'b', 'c'], { memory: '12G' });
    await buildBusyboxImage(createEngine({ socketPath: c.podman.socketPath, registryAuth: [] }));
    const files: Record<string, string> = {};
    for (let i = 0; i < JOBS; i++) files[`jobs/${jobName(i)}.yaml`] = cronFile(jobName(i));
    await merge(c.user, files, `${JOBS} cron jobs`);
    const store = c.store;
    await waitFor(async () => (await store.snapshot()).jobs.size >= JOBS, 180_000);
    const watch = watchStarts(c.podman.socketPath);
    const first = await untilNextMinute(-1_000);
    const end = first + MINUTES * 60_000;
    await delay(end + 45_000 - Date.now());
    watch.stop();
    // Results: every record of every job.
    const records = (await Promise.all(Array.from({ length: JOBS }, (_, i) => store.cron.history(jobName(i))))).flat();
    const startedPerMinute: number[] = [];
    const finishedPerMinute: number[] = [];
    const delays: number[] = [];
    for (const [run, at] of watch.starts) {
      const scheduled = Number(run.slice(run.lastIndexOf('-') + 1)) * 1000;
      if (scheduled >= first && scheduled < end) delays.push(at - scheduled);
    }
    for (let m = 0; m < MINUTES; m++) {
      const lo = first + m * 60_000;
      startedPerMinute.push([...watch.starts.values()].filter((t) => t >= lo && t < lo + 60_000).length);
      finishedPerMinute.push(records.filter((r) => r.finishedAt && r.result === 'succeeded' && Date.parse(r.finishedAt) >= lo && Date.parse(r.finishedAt) < lo + 60_000).length);
    }
    const results: Record<string, number> = {};
    for (const r of records) if (Date.parse(r.scheduledAt) >= first && Date.parse(r.scheduledAt) < end) results[r.result] = (results[r.result] ?? 0) + 1;
    if (process.env.OZY_BENCH_CRON_LOGS) for (const a of c.agents) fs.writeFileSync(path.join(process.env.OZY_BENCH_CRON_LOGS, `${a.node}.log`), a.logs());
    // Stop the agents, then the floor on the same engine at the same concurrency.
    await merge(c.user, Object.fromEntries(Object.keys(files).map((f) => [f, null])), 'no more cron jobs');
    await Promise.all(c.agents.map((a) => a.kill()));
    const workers = AGENTS * RUN_ENGINE_CONCURRENCY;
    const windowMs = 60_000;
    const perMinute = await engineFloor(c.podman.socketPath, workers, windowMs, path.dirname(c.agents[0]!.dataDir));
    return {
      jobs: JOBS,
      minutes: MINUTES,
      startedPerMinute,
      finishedPerMinute,
      delays: { p50: median(delays), p99: percentile(delays, 99), samples: delays.length },
      results,
      floor: { workers, perMinute, windowMs },
    };
  } finally {
    await c?.stop();
  }
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('timed out');
    await delay(500);
  }
}

export async function runCronBench(): Promise<CronBenchResult> {
  const out: CronBenchResult = {};
  if (PARTS.includes('a')) out.controlPlane = await runControlPlane();
  if (PARTS.includes('b')) out.endToEnd = await runEndToEnd();
  return out;
}

export function cronSection(r: CronBenchResult, durationMs: number): Section {
  const figures: Section['figures'] = [];
  const notes: string[] = [];
  const a = r.controlPlane;
  if (a) {
    const placed = median(a.placedPerMinute);
    figures.push(
      {
        id: 'cron.controlPlane.placedPerMinute',
        label: `control plane: runs claimed and placed per minute (${a.jobs} jobs every minute, 3 agents, engine excluded; median of ${a.minutes} minutes)`,
        value: placed,
        unit: 'runs/min',
        vs: { kind: 'bound', label: 'runs due per minute', value: a.jobs, unit: 'runs/min', measured: false },
        goal: { text: `all ${a.jobs} runs/min`, met: placed >= a.jobs },
        detail: `claimed per minute ${a.claimedPerMinute.join(', ')}; placed ${a.placedPerMinute.join(', ')}; claims committed by agent 0 (poller) / 1 / 2: ${a.claimsByAgent.join(' / ')}`,
      },
      {
        id: 'cron.controlPlane.startDelayP99',
        label: 'control plane: start delay p99, scheduled → its node sees it placed (etcd watch)',
        value: round(a.delays.p99, 0),
        unit: 'ms',
        goal: { text: '< 1 s', met: a.delays.p99 < 1000 },
        detail: `p50 ${round(a.delays.p50, 0)} ms, max ${round(a.delays.max, 0)} ms, ${a.delays.samples} runs`,
      },
    );
  }
  const b = r.endToEnd;
  if (b) {
    const started = median(b.startedPerMinute);
    figures.push(
      {
        id: 'cron.endToEnd.startedPerMinute',
        label: `end to end (podman): run pods started per minute (${b.jobs} jobs every minute, 3 agents; median of ${b.minutes} minutes)`,
        value: started,
        unit: 'runs/min',
        vs: { kind: 'floor', label: `engine alone: create+start+wait+remove of the same container, ${b.floor.workers} workers`, value: round(b.floor.perMinute, 0), unit: 'runs/min', measured: true },
        goal: { text: "≥ 0.8× the engine's floor", met: started >= 0.8 * b.floor.perMinute },
        detail: `started per minute ${b.startedPerMinute.join(', ')}; finished (succeeded) ${b.finishedPerMinute.join(', ')}; results ${JSON.stringify(b.results)}`,
      },
      {
        id: 'cron.endToEnd.startDelayP99',
        label: 'end to end: start delay p99, scheduled → container started',
        value: round(b.delays.p99 / 1000, 1),
        unit: 's',
        detail: `p50 ${round(b.delays.p50 / 1000, 1)} s over ${b.delays.samples} started runs`,
      },
    );
  }
  notes.push(
    'bench/cron.ts. (a) three agents\' CronDriver (node-cron tasks, agent 0 the poller on a watch-fed cache) in one process with one etcd client each, real etcd; a stand-in node per agent reports each pod\'s exit 50 ms after placement through the agent\'s ExitBatcher (ClusterStore.cron.reportExits). (b) three `ozy agent` processes on one podman service; starts from the engine\'s event stream, results from the run records; the floor runs on the same engine right after, with the agents stopped.',
  );
  return { id: 'cron', title: 'Cron at scale: 1,000 jobs every minute', figures, notes, durationMs, raw: r };
}

if (require.main === module) {
  const t0 = Date.now();
  runCronBench().then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      console.log(cronSection(r, Date.now() - t0).figures.map((f) => `${f.label}: ${f.value} ${f.unit}${f.detail ? ` (${f.detail})` : ''}`).join('\n'));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
