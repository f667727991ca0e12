// Flapping at a steady load near the target (the second figure).
// The load is a fixed token rate handed out round-robin over the healthy
// instances (lib/round-robin-load.ts), as `ozy ingress` spreads requests: the
// cluster's CPU use is the same whatever the count, and every instance
// carries load ÷ count.
//
// Calibration: one instance (`qcal`, min = max = 1) first idles (its idle
// cost: polling for tokens, the health checks), then works through a
// backlog of tokens that never runs dry; its tokens/s divided by the CPU
// share it measured is S, tokens/s at 100 % of its limit. The measured job
// (`steady`) starts at c = 3 instances with min 1, max 6, the target and
// the default scaleDownAfter (5m), and gets R = c × S × (target × k − idle)
// tokens/s: an average of target × k with three instances, inside the
// ±10 % band (k = 0.97) but not at its edge. The job first runs pinned
// at c while R is corrected from the measured average (trim()); then its
// policy becomes min 1, max 6 (no restart) and R is held fixed. Once the
// job has settled (its count unchanged
// for a minute and `ozy status` saying steady), every change of its count
// in etcd during the window is a flap; `ozy status --json`'s measured
// average is sampled every 5 s to show where the load really sat, and
// every second the instances' own figures (CPU records) and the tokens
// waiting, so a change can be explained by what preceded it.
import { setTimeout as delay } from 'node:timers/promises';
import Docker from 'dockerode';
import type { AutoscaleRow } from '../src/agent/cluster-status';
import { readClusterStatus } from '../src/cli/commands/status';
import { merge, type TestCluster } from '../test/harness/cluster';
import { autoscaledJob, sharedDir } from './lib/autoscaled-job';
import type { ClusterWatch } from './lib/cluster-watch';
import { AutoscaleLog, type AutoscaleDecision } from './lib/autoscale-log';
import { median } from './lib/stats';
import { consumerScript, RoundRobinLoad } from './lib/round-robin-load';

const MINUTES = Number(process.env.OZY_BENCH_FLAP_MINUTES ?? 10);
const C = 3;
const K = 0.97;
const MAX = 6;
/** The count must stay unchanged this long (and `ozy status` say steady) before the window opens. */
const QUIET_MS = 60_000;
const SETTLE_MAX_MS = 10 * 60_000;
const SAMPLE_MS = 5_000;
const TRACE_MS = 1_000;
/** The average may sit this many points off target × k before the rate is corrected. */
const TRIM_WITHIN = 1.5;
const TRIMS = 3;

export interface Calibration {
  /** Median measured CPU of the idle instance (no tokens), percent of its limit. */
  idlePercent: number;
  /** Median measured CPU while it worked through a backlog. */
  saturatedPercent: number;
  /** Tokens it took per second meanwhile. */
  tokensPerSecond: number;
  /** S: tokensPerSecond ÷ saturatedPercent × 100. */
  perSecondAt100: number;
  windowMs: number;
}

export interface Spread {
  samples: number;
  min: number;
  median: number;
  max: number;
}

/** `ozy status --json`'s view of the job, every SAMPLE_MS. */
export interface FlapSample {
  atMs: number;
  count: number;
  measuredPercent: number;
}

/** Every TRACE_MS: the job's count, each ordinal's latest figure in its node's CPU record, the tokens waiting. */
export interface TracePoint {
  atMs: number;
  count: number;
  percents: Array<number | null>;
  backlog: number;
}

/** A correction of the token rate before the window (see trim()). */
export interface Trim {
  measuredPercent: number;
  from: number;
  to: number;
}

export interface FlapResult {
  calibration: Calibration;
  c: number;
  k: number;
  /** Tokens produced per second during the window. */
  rate: number;
  trims: Trim[];
  targetPercent: number;
  min: number;
  max: number;
  startCount: number;
  settled: boolean;
  settleMs: number;
  /** Count changes while settling: ms after the policy became min 1, max 6, new count. */
  settleChanges: Array<{ atMs: number; count: number }>;
  windowMs: number;
  countAtStart: number;
  /** Count changes in the window: ms after it opened, new count, and the trace of the 6 s before. */
  changes: Array<{ atMs: number; count: number; before: TracePoint[] }>;
  /** The measured average while the job ran at the count it settled at. */
  measuredPercent: Spread;
  measuredByCount: Record<number, Spread>;
  samples: FlapSample[];
  /** Tokens waiting, every TRACE_MS: ~0 when the instances keep up. */
  backlog: Spread;
  produced: number;
  taken: number;
  /** The poller's `autoscale: scaling …` log lines for the job, ms after the window opened (negative: while settling). */
  decisions: AutoscaleDecision[];
}

function spread(xs: number[]): Spread {
  return { samples: xs.length, min: Math.min(...xs), median: median(xs), max: Math.max(...xs) };
}

function byCount(samples: readonly FlapSample[]): Record<number, Spread> {
  const out: Record<number, Spread> = {};
  for (const n of new Set(samples.map((x) => x.count))) out[n] = spread(samples.filter((x) => x.count === n).map((x) => x.measuredPercent));
  return out;
}

async function row(c: TestCluster, job: string): Promise<AutoscaleRow | undefined> {
  return (await readClusterStatus(c.store)).jobs.find((j) => j.name === job)?.autoscale;
}

/** Measured averages of `job` every 2 s for `ms` (nulls skipped), running `each` at every sample. */
async function sampleMeasured(c: TestCluster, job: string, ms: number, each: () => void = () => undefined): Promise<number[]> {
  const out: number[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    each();
    const m = (await row(c, job))?.measuredPercent;
    if (m !== null && m !== undefined) out.push(m);
    await delay(2000);
  }
  return out;
}

/**
 * The hostnames of a job's healthy instances: what the consumer script
 * names its directory after. Asked of the engine once per container.
 */
class Hostnames {
  private readonly known = new Map<string, string | null>();
  private readonly docker: Docker;

  constructor(socketPath: string, private readonly watch: ClusterWatch) {
    this.docker = new Docker({ socketPath });
  }

  healthy(job: string): string[] {
    const out: string[] = [];
    for (const id of this.watch.healthyContainerIds(job, 'app')) {
      const host = this.known.get(id);
      if (host) out.push(host);
      else if (host === undefined) this.ask(id);
    }
    return out.sort();
  }

  private ask(id: string): void {
    this.known.set(id, null);
    this.docker.getContainer(id).inspect().then(
      (info) => this.known.set(id, info.Config.Hostname),
      () => this.known.delete(id), // asked again next time
    );
  }
}

async function calibrate(c: TestCluster, watch: ClusterWatch, hosts: Hostnames, target: number): Promise<Calibration> {
  const job = 'qcal';
  await merge(c.user, { [`jobs/${job}.yaml`]: autoscaledJob({ name: job, script: consumerScript(), instances: 1, min: 1, max: 1, cpuPercent: target }) }, 'qcal: calibration');
  const load = new RoundRobinLoad(sharedDir(c, job), () => hosts.healthy(job));
  await watch.when(`${job}-0 healthy and its hostname known`, () => hosts.healthy(job).length === 1, 90_000);
  await delay(5000); // two sample periods, so the first figures are of the idle loop
  const idle = await sampleMeasured(c, job, 12_000);
  const topUp = (): void => {
    if (load.backlog() < 1500) load.fill(3000);
  };
  topUp();
  await delay(6000); // the figures now cover whole periods of draining
  const taken0 = load.taken();
  const t0 = performance.now();
  const busy = await sampleMeasured(c, job, 30_000, topUp);
  const windowMs = performance.now() - t0;
  const tokensPerSecond = ((load.taken() - taken0) * 1000) / windowMs;
  await merge(c.user, { [`jobs/${job}.yaml`]: null }, 'qcal: removed');
  await watch.when(`${job} gone`, () => watch.job(job) === undefined, 60_000);
  if (idle.length === 0 || busy.length === 0) throw new Error(`calibration: ozy status gave no measured CPU for ${job} (idle samples ${idle.length}, busy ${busy.length})`);
  if (tokensPerSecond <= 0) throw new Error(`calibration: the instance took no token (does its hostname match ${hosts.healthy(job).join(', ')}?)`);
  const saturatedPercent = median(busy);
  return { idlePercent: median(idle), saturatedPercent, tokensPerSecond, perSecondAt100: (tokensPerSecond * 100) / saturatedPercent, windowMs };
}

/**
 * The CPU a token costs moves with the machine's other work (S was 34.8,
 * 43.9 and 50.1 tokens/s in three runs here), so a rate from the
 * calibration alone can put the average well off target × k — and, above
 * the band, rightly scale the job up before anything is measured. So the
 * job first runs pinned at c (min = max = c): the average is measured for
 * 30 s and the rate corrected, until within TRIM_WITHIN points (at most
 * TRIMS times). During the window the rate is fixed.
 */
async function trim(c: TestCluster, watch: ClusterWatch, job: string, want: number, idle: number, rate: number, setRate: (r: number) => void): Promise<Trim[]> {
  const trims: Trim[] = [];
  for (let i = 0; i < TRIMS; i++) {
    await delay(6000); // the records now cover whole periods at this rate
    const count = watch.count(job);
    const ms = await sampleMeasured(c, job, 30_000);
    if (count !== C || watch.count(job) !== C || ms.length === 0) break; // not at c (cannot happen pinned): nothing to correct against
    const measured = median(ms);
    if (Math.abs(measured - want) <= TRIM_WITHIN) break;
    const next = (rate * (want - idle)) / Math.max(1, measured - idle);
    console.log(`   autoscale trim: measured ${measured.toFixed(1)} % at ${rate.toFixed(1)} tokens/s, now ${next.toFixed(1)} tokens/s`);
    trims.push({ measuredPercent: measured, from: rate, to: next });
    setRate(next);
    rate = next;
  }
  return trims;
}

export async function runFlapBench(c: TestCluster, watch: ClusterWatch, target: number): Promise<FlapResult> {
  const hosts = new Hostnames(c.podman.socketPath, watch);
  const calibration = await calibrate(c, watch, hosts, target);
  console.log(`   autoscale calibration: ${JSON.stringify(calibration)}`);
  const job = 'steady';
  const file = (min: number, max: number): Record<string, string> => ({ [`jobs/${job}.yaml`]: autoscaledJob({ name: job, script: consumerScript(), instances: C, min, max, cpuPercent: target }) });
  // Pinned at c (min = max) while the rate is tuned: a count that moved then would be the bench's doing.
  await merge(c.user, file(C, C), `steady: pinned at ${C} while the load is tuned`);
  const load = new RoundRobinLoad(sharedDir(c, job), () => hosts.healthy(job));
  await watch.when(`${C} instances healthy and their hostnames known`, () => hosts.healthy(job).length === C, 120_000);
  const log = new AutoscaleLog(c, job);
  const written0 = load.written();
  const taken0 = load.taken();
  let rate = C * calibration.perSecondAt100 * ((target * K - calibration.idlePercent) / 100);
  let stop = load.produce(rate);
  try {
    const trims = await trim(c, watch, job, target * K, calibration.idlePercent, rate, (next) => {
      stop();
      rate = next;
      stop = load.produce(rate);
    });
    // Free to scale: changing `autoscale` alone restarts nothing (docs/autoscaling.md), the load goes on.
    await merge(c.user, file(1, MAX), `steady: min 1, max ${MAX}`);
    const freeAt = await watch.when(`${job} accepted with min 1`, () => watch.job(job)?.spec.autoscale?.min === 1, 60_000);
    let settled = false;
    for (;;) {
      await delay(2000);
      log.scan();
      const last = watch.counts.get(job)!.at(-1)!.at;
      const r = await row(c, job);
      if (Date.now() - Math.max(last, freeAt) >= QUIET_MS && r?.state === 'steady') {
        settled = true;
        break;
      }
      if (Date.now() - freeAt > SETTLE_MAX_MS) break;
    }
    const opened = Date.now();
    const countAtStart = watch.count(job);
    const samples: FlapSample[] = [];
    const trace: TracePoint[] = [];
    const until = opened + MINUTES * 60_000;
    for (let tick = 0; Date.now() < until; tick++) {
      const t = Date.now();
      const count = watch.count(job);
      const percents = Array.from({ length: count }, (_, o) => {
        const p = watch.cpuPercent(`${job}-${o}`);
        return p === undefined ? null : Math.round(p * 10) / 10;
      });
      trace.push({ atMs: t - opened, count, percents, backlog: load.backlog() });
      if (tick % (SAMPLE_MS / TRACE_MS) === 0) {
        log.scan();
        const r = await row(c, job);
        if (r?.measuredPercent !== null && r?.measuredPercent !== undefined) samples.push({ atMs: t - opened, count: r.count, measuredPercent: r.measuredPercent });
      }
      await delay(Math.max(0, Math.min(TRACE_MS - (Date.now() - t), until - Date.now())));
    }
    const closed = Date.now();
    log.scan();
    const history = watch.counts.get(job)!;
    stop();
    return {
      calibration,
      c: C,
      k: K,
      rate,
      targetPercent: target,
      min: 1,
      max: MAX,
      startCount: C,
      settled,
      settleMs: opened - freeAt,
      settleChanges: history.filter((h) => h.at > freeAt && h.at <= opened).map((h) => ({ atMs: h.at - freeAt, count: h.count })),
      windowMs: closed - opened,
      countAtStart,
      changes: history
        .filter((h) => h.at > opened && h.at <= closed)
        .map((h) => ({ atMs: h.at - opened, count: h.count, before: trace.filter((x) => x.atMs > h.at - opened - 6000 && x.atMs <= h.at - opened) })),
      measuredPercent: spread(samples.filter((x) => x.count === countAtStart).map((x) => x.measuredPercent)),
      measuredByCount: byCount(samples),
      samples,
      backlog: spread(trace.map((x) => x.backlog)),
      trims,
      produced: load.written() - written0,
      taken: load.taken() - taken0,
      decisions: log.decisions(opened),
    };
  } finally {
    stop(); // again after a failure: nothing more is handed out
  }
}
