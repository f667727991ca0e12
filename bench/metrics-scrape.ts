// `node dist/bench/run.js metrics`: what one scrape of an agent's /metrics
// costs when the cluster holds 5,000 jobs (issue 17).
//
// Setup: a real etcd; 5,000 jobs rendered from job files and decided by the
// real scheduler (decide) onto 50 registered nodes, committed with the
// store's guarded transactions, with 100 instances then marked pending;
// one `ozy agent` process whose --repo does not answer (a git outage never
// changes the schedule, so the 5,000 jobs stay as written) and whose node
// runs nothing. It takes the poll claim (the only agent), so it exports the
// cluster-wide series computed over its watch-fed schedule of 5,000 jobs:
// the most expensive scrape any agent serves.
// Measured: wall time of GET /metrics from this process (sequential, after
// warm-up), the body's bytes, and the agent's CPU per scrape (from
// /proc/<pid>/stat over the run); floor: GET /healthz on the same server.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decide } from '../src/plan';
import { ozyEntry } from '../src/paths';
import { renderRepo } from '../src/render';
import { ClusterStore, type NodeSession } from '../src/store';
import { startEtcd, type EtcdServer } from '../test/harness/etcd';
import { startPodman, type PodmanService } from '../test/harness/podman';
import { tempDir } from '../test/harness/tmp';
import { waitFor } from '../test/harness/wait';
import { goalAtMost, type Section } from './lib/figures';
import { percentile, round } from './lib/stats';

const JOBS = 5000;
const NODES = 50;
const PENDING = 100;
const WARMUP = 20;
const SCRAPES = 300;
const GiB = 1024 ** 3;

function jobYaml(name: string, instances: number): string {
  return [
    `name: ${name}`,
    `numInstances: ${instances}`,
    'containers:',
    '  main:',
    '    image: localhost/absent:1',
    '    command: ["/bin/sleep", "3600"]',
    '    memory: 64M',
    '    cpu: 50m',
    '',
  ].join('\n');
}

/** CPU time (user + system) of a process so far, ms. */
function cpuMsOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}

async function timedGet(url: string): Promise<{ ms: number; bytes: number; status: number }> {
  const t0 = process.hrtime.bigint();
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes: body.length, status: res.status };
}

export async function runMetricsScrapeBench(): Promise<Section> {
  const started = Date.now();
  const tmp = tempDir('ozy-bench-metrics-');
  let etcd: EtcdServer | undefined;
  let podman: PodmanService | undefined;
  const sessions: NodeSession[] = [];
  let store: ClusterStore | undefined;
  let agent: ReturnType<typeof spawn> | undefined;
  try {
    // A real engine: the agent lists its node's containers at start (there are none).
    [etcd, podman] = await Promise.all([startEtcd(), startPodman()]);
    const agentNode = podman.node('metrics');
    store = ClusterStore.connect({ endpoints: [etcd.endpoint] });
    // 1. 50 nodes under leases kept alive from here.
    for (let i = 0; i < NODES; i++) {
      sessions.push(
        await store.registerNode(
          { name: `node-${String(i).padStart(2, '0')}`, address: `10.0.0.${i + 1}`, labels: {}, capacity: { memory: 64 * GiB, disk: 100 * GiB, cpu: 64_000 } },
          { ttlSeconds: 120, agentId: randomUUID() },
        ),
      );
    }
    // 2. 5,000 jobs (1-3 instances), decided by the real scheduler, committed; then some made pending.
    const files = Array.from({ length: JOBS }, (_, i) => ({ path: `jobs/job-${String(i).padStart(4, '0')}.yaml`, content: jobYaml(`job-${String(i).padStart(4, '0')}`, 1 + (i % 3)) }));
    const render = renderRepo(files, { commit: 'bench' });
    if (render.jobs.length !== JOBS) throw new Error(`rendered ${render.jobs.length} of ${JOBS} jobs: ${JSON.stringify(render.problems.slice(0, 2))}`);
    const snap = await store.snapshot();
    const decision = decide({
      desired: render.jobs,
      invalid: render.problems,
      cluster: { nodes: snap.nodes, jobs: snap.jobs, rejections: snap.rejections },
      commit: 'bench',
      now: new Date(),
      deletionGuard: render.settings.deletionGuard,
      rebalance: false,
    });
    const pendingSince = new Date(Date.now() - 10 * 60_000).toISOString();
    for (const job of decision.putJobs.slice(0, PENDING)) job.instances[0] = { node: null, since: pendingSince };
    const committed = await store.commitSchedule(snap.scheduleRevision, { ...decision, readJobs: snap.jobs }, { commit: 'bench', by: 'bench' });
    if (!committed.ok) throw new Error('the schedule commit lost its guard');
    const instances = decision.putJobs.reduce((n, j) => n + j.instances.length, 0);

    // 3. One agent; its git never answers, so its rounds never touch the schedule.
    agent = spawn(
      process.execPath,
      [
        ozyEntry(), 'agent',
        '--node', agentNode,
        '--repo', 'http://127.0.0.1:9/absent.git',
        '--etcd', etcd.endpoint,
        '--data-dir', path.join(tmp.dir, 'agent'),
        '--memory', '1G', '--disk', '1G', '--cpus', '1',
        '--docker-socket', podman.socketPath,
        '--address', '127.0.0.1',
        '--poll', '5s',
        '--http', '127.0.0.1:0',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OZY_LOG_LEVEL: 'warn' } },
    );
    let log = '';
    agent.stderr!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-100_000)));
    const address = await waitFor(
      'the agent records its HTTP address',
      async () => {
        if (agent!.exitCode !== null) throw new Error(`agent exited: ${log.slice(-2000)}`);
        const http = (await store!.listAgentStatus()).get(agentNode)?.http;
        return typeof http === 'string' ? http : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const url = `http://${address}`;
    // It has the claim and its schedule cache holds every job: the pending series is there with its figure.
    const sample = await waitFor(
      'the poller exports 5,000 jobs\' pending instances',
      async () => {
        const body = await (await fetch(`${url}/metrics`)).text();
        return new RegExp(`^ozy_instances_pending ${PENDING}$`, 'm').test(body) ? body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );

    // 4. Scrapes: warm-up, then sequential timed ones; the agent's CPU over the timed ones.
    for (let i = 0; i < WARMUP; i++) await timedGet(`${url}/metrics`);
    const cpu0 = cpuMsOf(agent.pid!);
    const scrapes: number[] = [];
    let bytes = 0;
    for (let i = 0; i < SCRAPES; i++) {
      const r = await timedGet(`${url}/metrics`);
      if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
      scrapes.push(r.ms);
      bytes = r.bytes;
    }
    const cpuPerScrape = (cpuMsOf(agent.pid!) - cpu0) / SCRAPES;
    const floor: number[] = [];
    for (let i = 0; i < SCRAPES; i++) floor.push((await timedGet(`${url}/healthz`)).ms);

    const p50 = percentile(scrapes, 50);
    const p99 = percentile(scrapes, 99);
    const floorP50 = percentile(floor, 50);
    const series = sample.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    return {
      id: 'metrics',
      title: 'Metrics: one /metrics scrape of an agent with 5,000 jobs',
      durationMs: Date.now() - started,
      figures: [
        {
          id: 'metrics.scrape.p50',
          label: `GET /metrics on the poller of ${JOBS.toLocaleString('en')} jobs (${instances} instances, ${PENDING} pending, ${NODES} nodes), wall time from the client`,
          value: round(p50, 2),
          unit: 'ms',
          vs: { kind: 'floor', label: 'GET /healthz on the same server', value: round(floorP50, 2), unit: 'ms', measured: true },
          goal: goalAtMost(p50, 50, '< 50 ms'),
          detail: `p99 ${round(p99, 2)} ms over ${SCRAPES} sequential scrapes after ${WARMUP} warm-up; /healthz p99 ${round(percentile(floor, 99), 2)} ms`,
        },
        {
          id: 'metrics.scrape.cpu',
          label: "the agent's CPU per scrape (user + system, /proc over the timed scrapes)",
          value: round(cpuPerScrape, 2),
          unit: 'ms',
          detail: `${SCRAPES} scrapes; includes the agent's own background work meanwhile (keepalives, the failing git fetch every 5 s)`,
        },
        {
          id: 'metrics.scrape.bytes',
          label: 'size of one scrape (text format)',
          value: bytes,
          unit: 'B',
          detail: `${series} samples: independent of the number of jobs (no per-job or per-instance series)`,
        },
      ],
      notes: [
        'bench/metrics-scrape.ts. Jobs decided by the real scheduler and committed in etcd; the agent is a real `ozy agent` process whose repository URL does not answer, so it keeps the 5,000-job schedule as written and runs nothing on its own node. Cluster-wide gauges are computed at scrape time from its watch-fed schedule (no etcd read per scrape).',
      ],
      raw: { jobs: JOBS, nodes: NODES, instances, pending: PENDING, scrapesMs: scrapes.map((x) => round(x, 3)), floorMs: floor.map((x) => round(x, 3)), bytes, cpuPerScrapeMs: cpuPerScrape },
    };
  } finally {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      await exited;
    }
    for (const s of sessions) await s.revoke().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await podman?.stop();
    await etcd?.stop();
    tmp.cleanup();
  }
}
