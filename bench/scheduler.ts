// Scheduler benchmark: placements per second of the pure decide() and how
// tight its packing is, on seeded random job sets with mixed memory, disk
// and CPU sizes. `node dist/bench/scheduler.js` prints the figures;
// runSchedulerBench() returns them for a harness.
import type { AcceptedJob, NodeInfo } from '../src/model/cluster';
import { specHash } from '../src/model/hash';
import type { DesiredJob, JobSpec } from '../src/model/job';
import { decide, type DecideInput, type Decision } from '../src/plan';
import { instanceDemand } from '../src/schedule';
import { prng } from '../test/harness/random';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
/** Every node alike, so the lower bound is simply ceil(total demand / node capacity). */
const NODE = { memory: 64 * GiB, cpu: 16_000, disk: 1024 * GiB };
/** Share of the cluster each resource's total demand is scaled to. */
const LOAD = { memory: 0.7, cpu: 0.6, disk: 0.5 };

/** Relative per-instance shapes [memory, cpu, disk]; scaled to LOAD afterwards. */
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 0.2], // web
  [3, 1.5, 3], // database
  [0.6, 3, 0.3], // cpu batch
  [2.5, 0.4, 0], // cache
  [0.3, 0.3, 0.1], // sidecar-ish small service
];
const JITTER = [0.5, 0.75, 1, 1.5, 2];

/**
 * Placement rules on top of the plain job set (nodes in 3 zones, half of
 * them labelled disk=ssd, in every variant):
 *   rules       30% of jobs spread over zones, 10% over nodes, 10% need a label;
 *   zones       30% of jobs spread over zones;
 *   nodes       30% of jobs spread over nodes (one instance per node);
 *   persistent  30% of jobs keep their disk in a persistent volume (each
 *               instance pinned to its node once placed), and a second
 *               round scales those jobs 0 → N: every instance goes back
 *               to its volume's node (`pins`).
 */
export type SchedulerVariant = 'rules' | 'zones' | 'nodes' | 'persistent';

export interface SchedulerScenarioResult {
  variant?: SchedulerVariant;
  instances: number;
  nodes: number;
  jobs: number;
  placed: number;
  rejectedJobs: number;
  /** The median of REPEATS timed decide() calls (each on fresh copies of the input). */
  totalMs: number;
  /** Every timed call, in order. */
  runsMs: number[];
  placementsPerSecond: number;
  nodesUsed: number;
  /** ceil(total demand / node capacity), per resource. */
  lowerBound: { memory: number; cpu: number; disk: number };
  /** nodesUsed / max(lowerBound) - 1, e.g. 0.03 = 3% above the bound. */
  overLowerBound: number;
  capacityRespected: boolean;
  failover?: { nodesKilled: number; instancesLost: number; rescheduled: number; totalMs: number; placementsPerSecond: number };
  /** persistent: the round that scales every persistent job from 0 back to its count (each instance to its volume's node). */
  pins?: { instances: number; totalMs: number; placementsPerSecond: number; allHome: boolean };
}


function makeNodes(count: number, variant?: SchedulerVariant): NodeInfo[] {
  const rules = variant !== undefined;
  return Array.from({ length: count }, (_, i) => ({
    name: `node-${String(i).padStart(5, '0')}`,
    address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    ...(rules ? { zone: `z${i % 3}` } : {}),
    labels: (rules && i % 2 === 0 ? { disk: 'ssd' } : {}) as Record<string, string>,
    capacity: { ...NODE },
    agentId: `a${i}`,
    leaseId: String(i + 1),
    startedAt: '2024-01-01T00:00:00.000Z',
  }));
}

/** Jobs totalling exactly `instances` instances, demand scaled so each resource hits LOAD. */
function makeJobs(instances: number, nodes: number, seed: number, variant?: SchedulerVariant): DesiredJob[] {
  const rand = prng(seed);
  const raw: Array<{ count: number; shape: [number, number, number]; port?: number }> = [];
  let left = instances;
  while (left > 0) {
    const count = Math.min(left, 1 + Math.floor(rand() ** 2 * 40));
    const base = SHAPES[Math.floor(rand() * SHAPES.length)];
    const shape = base.map((v) => v * JITTER[Math.floor(rand() * JITTER.length)]) as [number, number, number];
    // A few jobs publish a host port: one instance per node for them.
    const port = rand() < 0.03 ? 8000 + Math.floor(rand() * 20) : undefined;
    raw.push({ count, shape, port });
    left -= count;
  }
  const total = [0, 0, 0];
  for (const j of raw) for (let r = 0; r < 3; r++) total[r] += j.count * j.shape[r];
  const scale = [
    (LOAD.memory * NODE.memory * nodes) / total[0],
    (LOAD.cpu * NODE.cpu * nodes) / total[1],
    (LOAD.disk * NODE.disk * nodes) / total[2],
  ];
  return raw.map((j, i) => {
    // No instance takes more than a quarter of a node in any resource: a
    // node runs many pods, and the ceil(total / capacity) bound is only
    // meaningful for items well below a node's size.
    const memory = Math.min(NODE.memory / 4, Math.max(64 * MiB, Math.round((j.shape[0] * scale[0]) / MiB) * MiB));
    const cpu = Math.min(NODE.cpu / 4, Math.max(10, Math.round((j.shape[1] * scale[1]) / 10) * 10));
    const disk = Math.min(NODE.disk / 4, Math.round((j.shape[2] * scale[2]) / MiB) * MiB);
    const spec: JobSpec = {
      name: `job-${String(i).padStart(5, '0')}`,
      numInstances: j.count,
      containers: [
        {
          name: 'main',
          image: 'example/app:1',
          restart: 'always',
          environment: [],
          ports: j.port ? [{ host: j.port, container: 80, protocol: 'tcp' }] : [],
          dependsOn: [],
          memory,
          cpu,
          volumes: disk > 0 ? [{ type: ruled(variant, i, 'persistent') ? 'persistent' : 'local', path: '/data', space: disk }] : [],
        },
      ],
    };
    // By job index, so every variant changes the same jobs of the same set.
    if (ruled(variant, i, 'zones')) spec.placement = { spread: 'zones' };
    else if (ruled(variant, i, 'nodes') && j.count <= nodes) spec.placement = { spread: 'nodes' };
    else if (variant === 'rules' && i % 10 === 4) spec.placement = { nodeLabels: { disk: 'ssd' } };
    return { spec, specHash: specHash(spec), file: `jobs/${spec.name}.yaml` };
  });
}

/** Does job `i` carry `rule` in `variant`? 30% of jobs in a single-rule variant; the mix of 'rules' otherwise. */
function ruled(variant: SchedulerVariant | undefined, i: number, rule: 'zones' | 'nodes' | 'persistent'): boolean {
  if (variant === 'rules') return rule === 'zones' ? i % 10 < 3 : rule === 'nodes' && i % 10 === 3;
  return variant === rule && i % 10 < 3;
}

function baseInput(desired: DesiredJob[], nodes: NodeInfo[], jobs: Map<string, AcceptedJob>): DecideInput {
  return {
    desired,
    invalid: [],
    cluster: { nodes, jobs, rejections: new Map() },
    commit: 'bench',
    now: new Date('2024-01-01T00:00:00.000Z'),
    deletionGuard: { maxDeleteShare: 0.5, allowDeleteAll: false },
  };
}

/** Sum per node of what the accepted jobs place there, checked against capacity. */
function usage(nodes: NodeInfo[], jobs: Iterable<AcceptedJob>): { used: Map<string, number[]>; respected: boolean } {
  const used = new Map<string, number[]>();
  for (const j of jobs) {
    const d = instanceDemand(j.spec).amounts;
    for (const p of j.instances) {
      if (p.node === null) continue;
      const u = used.get(p.node) ?? [0, 0, 0];
      for (let r = 0; r < 3; r++) u[r] += d[r];
      used.set(p.node, u);
    }
  }
  const respected = nodes.every((n) => {
    const u = used.get(n.name) ?? [0, 0, 0];
    return u[0] <= n.capacity.memory && u[1] <= n.capacity.disk && u[2] <= n.capacity.cpu;
  });
  return { used, respected };
}

export function runScenario(instances: number, nodeCount: number, seed = 1, withFailover = false, variant?: SchedulerVariant): SchedulerScenarioResult {
  const nodes = makeNodes(nodeCount, variant);
  const desired = makeJobs(instances, nodeCount, seed, variant);
  const { decision, totalMs, runsMs } = timed(() => baseInput(clone(desired), nodes, new Map()));
  const placed = decision.putJobs.reduce((s, j) => s + j.instances.length, 0);
  const { used, respected } = usage(nodes, decision.putJobs);
  const totals = [0, 0, 0];
  for (const j of decision.putJobs) {
    const d = instanceDemand(j.spec).amounts;
    for (let r = 0; r < 3; r++) totals[r] += d[r] * j.instances.length;
  }
  const lowerBound = {
    memory: Math.ceil(totals[0] / NODE.memory),
    disk: Math.ceil(totals[1] / NODE.disk),
    cpu: Math.ceil(totals[2] / NODE.cpu),
  };
  const bound = Math.max(lowerBound.memory, lowerBound.cpu, lowerBound.disk);
  const result: SchedulerScenarioResult = {
    ...(variant ? { variant } : {}),
    instances,
    nodes: nodeCount,
    jobs: desired.length,
    placed,
    rejectedJobs: decision.counts.rejected,
    totalMs: round(totalMs),
    runsMs: runsMs.map((ms) => round(ms)),
    placementsPerSecond: Math.round(placed / (totalMs / 1000)),
    nodesUsed: used.size,
    lowerBound,
    overLowerBound: round(used.size / bound - 1, 4),
    capacityRespected: respected,
  };
  if (withFailover) result.failover = failover(nodes, desired, decision.putJobs);
  if (variant === 'persistent') result.pins = pins(nodes, desired, decision.putJobs);
  return result;
}

/** Scale every job with persistent volumes to 0, then time the round that brings them back to their volumes' nodes. */
function pins(nodes: NodeInfo[], desired: DesiredJob[], accepted: AcceptedJob[]): SchedulerScenarioResult['pins'] {
  const scaledAway = accepted.map((j) => {
    if (j.volumes === undefined) return j;
    const spec = { ...j.spec, numInstances: 0 };
    return { ...j, spec, specHash: specHash(spec), instances: [] };
  });
  const before = new Map(accepted.map((j) => [j.spec.name, j]));
  const { decision, totalMs } = timed(() => baseInput(clone(desired), nodes, new Map(clone(scaledAway).map((j) => [j.spec.name, j]))));
  const back = decision.putJobs.filter((j) => j.volumes !== undefined);
  const count = back.reduce((s, j) => s + j.instances.length, 0);
  const allHome = back.every((j) => j.instances.every((p, i) => p.node === before.get(j.spec.name)?.instances[i]?.node));
  return { instances: count, totalMs: round(totalMs), placementsPerSecond: Math.round(count / (totalMs / 1000)), allHome };
}

/** Kill 5% of the used nodes and time the round that re-places their instances. */
function failover(nodes: NodeInfo[], desired: DesiredJob[], accepted: AcceptedJob[]): SchedulerScenarioResult['failover'] {
  const usedNames = [...new Set(accepted.flatMap((j) => j.instances.map((p) => p.node)))].filter((n): n is string => n !== null).sort();
  const killed = new Set(usedNames.filter((_, i) => i % 20 === 0));
  const alive = nodes.filter((n) => !killed.has(n.name));
  const lost = accepted.reduce((s, j) => s + j.instances.filter((p) => p.node !== null && killed.has(p.node)).length, 0);
  const { decision, totalMs } = timed(() => baseInput(clone(desired), alive, new Map(clone(accepted).map((j) => [j.spec.name, j]))));
  const rescheduled = lost - decision.counts.pending;
  return { nodesKilled: killed.size, instancesLost: lost, rescheduled, totalMs: round(totalMs), placementsPerSecond: Math.round(rescheduled / (totalMs / 1000)) };
}

/** Timed decide() calls per figure: the machine is shared, and one hiccup (a GC, another process) should not be the figure. */
const REPEATS = 3;

/**
 * The median of REPEATS decide() calls and its decision. `input` makes a
 * fresh copy each time (untimed), so no per-spec cache (demands, spec
 * comparisons) carries over from one call to the next.
 */
function timed(input: () => DecideInput): { decision: Decision; totalMs: number; runsMs: number[] } {
  const runs: Array<{ decision: Decision; ms: number }> = [];
  for (let i = 0; i < REPEATS; i++) {
    const fresh = input();
    const t0 = process.hrtime.bigint();
    const decision = decide(fresh);
    runs.push({ decision, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
  }
  const median = runs.slice().sort((a, b) => a.ms - b.ms)[REPEATS >> 1]!;
  return { decision: median.decision, totalMs: median.ms, runsMs: runs.map((r) => r.ms) };
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

const VARIANTS: readonly SchedulerVariant[] = ['rules', 'zones', 'nodes', 'persistent'];

export async function runSchedulerBench(): Promise<{ scenarios: SchedulerScenarioResult[] }> {
  const scenarios: SchedulerScenarioResult[] = [];
  // Warm up the JIT on every variant's code paths (rules, pins) at full
  // size: an agent's brain calls decide() every round, so the figure is
  // that of a warm process. A cold first call in a fresh process measures
  // V8 tiering up the candidate walk (about half these rates at 10,000/1,000).
  for (const variant of [undefined, ...VARIANTS]) runScenario(10_000, 1_000, 7, variant !== undefined, variant);
  // Every 10,000/1,000 scenario before the 100,000/5,000 ones: a small run
  // right after a big one pays for collecting the big one's garbage.
  const runs: Array<[number, number, boolean, SchedulerVariant | undefined]> = [
    [1_000, 100, false, undefined],
    [10_000, 1_000, true, undefined],
  ];
  for (const v of VARIANTS) runs.push([10_000, 1_000, v === 'rules', v]);
  runs.push([100_000, 5_000, false, undefined]);
  for (const v of VARIANTS) runs.push([100_000, 5_000, false, v]);
  for (const [instances, nodes, failoverToo, variant] of runs) {
    scenarios.push(runScenario(instances, nodes, 1, failoverToo, variant));
    await new Promise((r) => setImmediate(r)); // let a harness breathe between scenarios
  }
  return { scenarios };
}

function print(result: { scenarios: SchedulerScenarioResult[] }): void {
  for (const s of result.scenarios) {
    const lb = s.lowerBound;
    console.log(
      `${s.variant ? `[${s.variant}] ` : ''}${s.instances} instances / ${s.nodes} nodes (${s.jobs} jobs): ${s.placementsPerSecond} placements/s, ${s.totalMs} ms total (median of ${s.runsMs.join(', ')}); ` +
        `placed ${s.placed}, rejected jobs ${s.rejectedJobs}; nodes used ${s.nodesUsed} vs lower bound memory ${lb.memory}, cpu ${lb.cpu}, disk ${lb.disk} ` +
        `(+${(s.overLowerBound * 100).toFixed(2)}%); capacity respected: ${s.capacityRespected}`,
    );
    if (s.failover) {
      const f = s.failover;
      console.log(`  failover: ${f.nodesKilled} nodes killed, ${f.instancesLost} instances lost, ${f.rescheduled} re-placed; the whole round took ${f.totalMs} ms`);
    }
    if (s.pins) {
      const p = s.pins;
      console.log(`  pins: persistent jobs scaled 0 → N: ${p.instances} instances back on their volumes' nodes (all: ${p.allHome}) in ${p.totalMs} ms, ${p.placementsPerSecond} placements/s`);
    }
  }
}

if (require.main === module) {
  runSchedulerBench().then(print, (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
