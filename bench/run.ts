// `npm run bench [-- NAME...]`: the benchmark harness (figures, never
// assertions). It runs the benchmarks named on the command line (all when
// none), prints each figure next to its floor, bound or peer with the
// machine and the command, writes bench/results/<timestamp>.json and
// rewrites the generated blocks of docs/benchmarks.md for what it ran.
//
//   node dist/bench/run.js                    everything (< 10 minutes)
//   node dist/bench/run.js scheduler poll     a subset, by name
//   node dist/bench/run.js --no-docs latency  leave docs/benchmarks.md alone
//   node dist/bench/run.js node-idle          Engine API requests/min on an idle node (50 instances)
//   node dist/bench/run.js cpu-sampling       CPU sampling for autoscaling: CPU per 100 instances
//   node dist/bench/run.js autoscale          load step → added instance healthy; flapping at a steady load (~17 min)
//   node dist/bench/run.js dashboard          ozy dashboard at 5,000 jobs in Chromium: first paint, update latency
//   node dist/bench/run.js metrics            one /metrics scrape of an agent with 5,000 jobs (ms, bytes)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../src/paths';
import { failoverSection } from './adapters/failover';
import { genericSection, optionalBench } from './adapters/generic';
import { nodeSection } from './adapters/node';
import { schedulerSection } from './adapters/scheduler';
import { runFootprintBench } from './footprint';
import { ingressSection, runIngressBench, writeIngressResults } from './ingress';
import { runLatencyBench, type LatencyRaw } from './latency';
import { nodeIdleSection, runNodeIdleBench } from './node-idle';
import type { Section } from './lib/figures';
import { describeMachine, machineLine } from './lib/machine';
import { sectionMarkdown, sectionText, updateDoc } from './lib/markdown';
import { runPollCostBench } from './poll-cost';
import { cronSection, runCronBench } from './cron';
import { cpuSamplingSection, runCpuSamplingBench } from './cpu-sampling';
import { dashboardSection, runDashboardBench } from './dashboard';
import { autoscaleSection } from './adapters/autoscale';
import { runAutoscaleBench } from './autoscale';
import { runScaleBench, writeScaleJson } from './scale';
import { runSchedulerBench } from './scheduler';
import { runSecretsBench, secretsSection } from './secrets';
import { runMetricsScrapeBench } from './metrics-scrape';

/** What one benchmark may hand to a later one in the same run. */
interface RunShared {
  latency?: LatencyRaw;
}

interface Bench {
  id: string;
  title: string;
  run(shared: RunShared): Promise<Section>;
}

const BENCHES: Bench[] = [
  {
    id: 'scheduler',
    title: 'Scheduler throughput and packing',
    async run() {
      const t0 = Date.now();
      const result = await runSchedulerBench();
      return schedulerSection(result, Date.now() - t0);
    },
  },
  {
    id: 'latency',
    title: 'Merge-to-healthy latency',
    async run(shared) {
      const { section, raw } = await runLatencyBench();
      shared.latency = raw;
      return section;
    },
  },
  {
    id: 'failover',
    title: 'Failover time',
    async run() {
      const t0 = Date.now();
      const fn = optionalBench('failover', 'runFailoverBench');
      if (!fn) throw new MissingBench('bench/failover.ts (runFailoverBench) does not exist yet');
      const result = await fn();
      return failoverSection(result, Date.now() - t0) ?? genericSection('failover', 'Failover time', result, Date.now() - t0);
    },
  },
  {
    id: 'node',
    title: 'Node runtime: assignment to healthy',
    async run() {
      const t0 = Date.now();
      const fn = optionalBench('node', 'runNodeBench');
      if (!fn) throw new MissingBench('bench/node.ts (runNodeBench) does not exist yet');
      const result = await fn();
      return nodeSection(result, Date.now() - t0) ?? genericSection('node', 'Node runtime: assignment to healthy', result, Date.now() - t0);
    },
  },
  {
    id: 'node-idle',
    title: 'Idle node: Engine API requests per minute',
    async run() {
      const t0 = Date.now();
      return nodeIdleSection(await runNodeIdleBench(), Date.now() - t0);
    },
  },
  {
    id: 'cpu-sampling',
    title: 'CPU sampling for autoscaling: cost per node',
    async run() {
      const t0 = Date.now();
      return cpuSamplingSection(await runCpuSamplingBench(), Date.now() - t0);
    },
  },
  { id: 'poll', title: 'Poll cost at scale', run: () => runPollCostBench() },
  {
    id: 'cron',
    title: 'Cron at scale: 1,000 jobs every minute',
    async run() {
      const t0 = Date.now();
      return cronSection(await runCronBench(), Date.now() - t0);
    },
  },
  {
    id: 'secrets',
    title: 'Secrets: decryption per container start',
    async run() {
      const t0 = Date.now();
      return secretsSection(await runSecretsBench(), Date.now() - t0);
    },
  },
  {
    id: 'autoscale',
    title: 'Autoscaling on CPU: reaction to a load step, and flapping at a steady load',
    async run() {
      const t0 = Date.now();
      return autoscaleSection(await runAutoscaleBench(), Date.now() - t0);
    },
  },
  {
    id: 'dashboard',
    title: 'Dashboard at 5,000 jobs: first paint and update latency',
    async run() {
      const t0 = Date.now();
      return dashboardSection(await runDashboardBench(), Date.now() - t0);
    },
  },
  { id: 'metrics', title: 'Metrics: one /metrics scrape of an agent with 5,000 jobs', run: () => runMetricsScrapeBench() },
  { id: 'footprint', title: 'etcd footprint', run: (shared) => runFootprintBench({ latency: shared.latency }) },
  { id: 'scale', title: 'Scale simulation', run: () => runScaleBench() },
  {
    id: 'ingress',
    title: 'Ingress: requests/s and latency vs HAProxy and direct',
    async run() {
      const t0 = Date.now();
      const raw = await runIngressBench();
      const section = ingressSection(raw, Date.now() - t0);
      writeIngressResults(raw, section);
      return section;
    },
  },
];

class MissingBench extends Error {}

function usage(): string {
  return `usage: node dist/bench/run.js [--no-docs] [${BENCHES.map((b) => b.id).join('|')} ...]`;
}

function commandLine(args: readonly string[]): string {
  if (process.env.npm_lifecycle_event === 'bench') return ['npm run bench', ...(args.length ? ['--', ...args] : [])].join(' ');
  const script = path.relative(process.cwd(), process.argv[1] ?? 'dist/bench/run.js') || 'run.js';
  return ['node', script, ...args].join(' ');
}

function timestamp(d: Date): string {
  return d.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage());
    return 0;
  }
  const writeDocs = !args.includes('--no-docs');
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !BENCHES.some((b) => b.id === n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}\n${usage()}`);
    return 2;
  }
  const selected = names.length === 0 ? BENCHES : BENCHES.filter((b) => names.includes(b.id));
  const startedAt = new Date();
  const machine = describeMachine();
  const command = commandLine(args);
  const ctx = { date: startedAt.toISOString().replace(/\.\d+Z$/, 'Z'), machine: machineLine(machine), command };
  console.log(`Ozymandias benchmarks · ${ctx.date}\nmachine: ${ctx.machine}\ncommand: ${command}\n`);

  const shared: RunShared = {};
  const sections: Section[] = [];
  for (const bench of selected) {
    const t0 = Date.now();
    let section: Section;
    try {
      section = await bench.run(shared);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof MissingBench) {
        console.log(`== ${bench.title}: skipped (${message})\n`);
        continue;
      }
      section = { id: bench.id, title: bench.title, figures: [], notes: [], durationMs: Date.now() - t0, error: message };
      if (err instanceof Error && err.stack) console.error(err.stack);
    }
    sections.push(section);
    console.log([...sectionText(section), `   (machine: ${machine.cpuModel}, ${machine.cores} cores; command: ${command})`, ''].join('\n'));
  }

  const root = projectRoot();
  const resultsDir = path.join(root, 'bench', 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const jsonFile = path.join(resultsDir, `${timestamp(startedAt)}.json`);
  fs.writeFileSync(jsonFile, `${JSON.stringify({ startedAt: ctx.date, durationMs: Date.now() - startedAt.getTime(), command, machine, sections }, null, 2)}\n`);
  console.log(`results: ${path.relative(process.cwd(), jsonFile)}`);
  const scale = sections.find((s) => s.id === 'scale');
  if (scale) console.log(`results: ${path.relative(process.cwd(), writeScaleJson(scale, { startedAt: ctx.date, command, machine }))}`);

  if (writeDocs && sections.length > 0) {
    const docFile = path.join(root, 'docs', 'benchmarks.md');
    const doc = fs.existsSync(docFile) ? fs.readFileSync(docFile, 'utf8') : '# Benchmarks\n';
    const fresh = new Map(sections.map((s) => [s.id, sectionMarkdown(s, ctx)]));
    fs.writeFileSync(docFile, updateDoc(doc, fresh, BENCHES.map((b) => b.id)));
    console.log(`updated: ${path.relative(process.cwd(), docFile)} (${[...fresh.keys()].join(', ')})`);
  }
  console.log(`total: ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`);
  return sections.some((s) => s.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
