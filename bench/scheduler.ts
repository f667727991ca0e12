// Scheduler benchmark: placements per second of the pure decide() and how
// tight its packing is, on seeded random job sets with mixed memory, disk
// and CPU sizes. `node dist/bench/scheduler.js` prints the figures;
// runSchedulerBench() returns them for a harness.
import type { AcceptedJob, NodeInfo } from '../src/model/cluster';
import { specHash } from '../src/model/hash';
import type { DesiredJob, JobSpec } from '../src/model/job';
import { decide, type DecideInput } from '../src/plan';
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

export interface SchedulerScenarioResult {
  /** 'rules': nodes in 3 zones, half labelled; 30% of jobs spread over zones, 10% over nodes, 10% need a label. */
  variant?: 'rules';
  instances: number;
  nodes: number;
  jobs: number;
  placed: number;
  rejectedJobs: number;
  totalMs: number;
  placementsPerSecond: number;
  nodesUsed: number;
  /** ceil(total demand / node capacity), per resource. */
  lowerBound: { memory: number; cpu: number; disk: number };
  /** nodesUsed / max(lowerBound) - 1, e.g. 0.03 = 3% above the bound. */
  overLowerBound: number;
  capacityRespected: boolean;
  failover?: { nodesKilled: number; instancesLost: number; rescheduled: number; totalMs: number; placementsPerSecond: number };
}


function makeNodes(count: number, rules = false): NodeInfo[] {
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
function makeJobs(instances: number, nodes: number, seed: number, rules = false): DesiredJob[] {
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
          volumes: disk > 0 ? [{ type: 'local', path: '/data', space: disk }] : [],
        },
      ],
    };
    if (rules) {
      // By job index: 30% spread over zones, 10% over nodes (one per node), 10% need disk=ssd.
      const kind = i % 10;
      if (kind < 3) spec.placement = { spread: 'zones' };
      else if (kind === 3 && j.count <= nodes) spec.placement = { spread: 'nodes' };
      else if (kind === 4) spec.placement = { nodeLabels: { disk: 'ssd' } };
    }
    return { spec, specHash: specHash(spec), file: `jobs/${spec.name}.yaml` };
  });
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

export function runScenario(instances: number, nodeCount: number, seed = 1, withFailover = false, rules = false): SchedulerScenarioResult {
  const nodes = makeNodes(nodeCount, rules);
  const desired = makeJobs(instances, nodeCount, seed, rules);
  const t0 = process.hrtime.bigint();
  const decision = decide(baseInput(desired, nodes, new Map()));
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
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
    ...(rules ? { variant: 'rules' as const } : {}),
    instances,
    nodes: nodeCount,
    jobs: desired.length,
    placed,
    rejectedJobs: decision.counts.rejected,
    totalMs: round(totalMs),
    placementsPerSecond: Math.round(placed / (totalMs / 1000)),
    nodesUsed: used.size,
    lowerBound,
    overLowerBound: round(used.size / bound - 1, 4),
    capacityRespected: respected,
  };
  if (withFailover) result.failover = failover(nodes, desired, decision.putJobs);
  return result;
}

/** Kill 5% of the used nodes and time the round that re-places their instances. */
function failover(nodes: NodeInfo[], desired: DesiredJob[], accepted: AcceptedJob[]): SchedulerScenarioResult['failover'] {
  const usedNames = [...new Set(accepted.flatMap((j) => j.instances.map((p) => p.node)))].filter((n): n is string => n !== null).sort();
  const killed = new Set(usedNames.filter((_, i) => i % 20 === 0));
  const alive = nodes.filter((n) => !killed.has(n.name));
  const lost = accepted.reduce((s, j) => s + j.instances.filter((p) => p.node !== null && killed.has(p.node)).length, 0);
  const t0 = process.hrtime.bigint();
  const decision = decide(baseInput(desired, alive, new Map(accepted.map((j) => [j.spec.name, j]))));
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const rescheduled = lost - decision.counts.pending;
  return { nodesKilled: killed.size, instancesLost: lost, rescheduled, totalMs: round(totalMs), placementsPerSecond: Math.round(rescheduled / (totalMs / 1000)) };
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export async function runSchedulerBench(): Promise<{ scenarios: SchedulerScenarioResult[] }> {
  const scenarios: SchedulerScenarioResult[] = [];
  runScenario(1_000, 100, 7); // warm up the JIT so the first figure is not a compile-time figure
  for (const [instances, nodes, failoverToo, rules] of [
    [1_000, 100, false, false],
    [10_000, 1_000, true, false],
    [100_000, 5_000, false, false],
    [10_000, 1_000, true, true],
    [100_000, 5_000, false, true],
  ] as const) {
    scenarios.push(runScenario(instances, nodes, 1, failoverToo, rules));
    await new Promise((r) => setImmediate(r)); // let a harness breathe between scenarios
  }
  return { scenarios };
}

function print(result: { scenarios: SchedulerScenarioResult[] }): void {
  for (const s of result.scenarios) {
    const lb = s.lowerBound;
    console.log(
      `${s.variant ? `[${s.variant}] ` : ''}${s.instances} instances / ${s.nodes} nodes (${s.jobs} jobs): ${s.placementsPerSecond} placements/s, ${s.totalMs} ms total; ` +
        `placed ${s.placed}, rejected jobs ${s.rejectedJobs}; nodes used ${s.nodesUsed} vs lower bound memory ${lb.memory}, cpu ${lb.cpu}, disk ${lb.disk} ` +
        `(+${(s.overLowerBound * 100).toFixed(2)}%); capacity respected: ${s.capacityRespected}`,
    );
    if (s.failover) {
      const f = s.failover;
      console.log(`  failover: ${f.nodesKilled} nodes killed, ${f.instancesLost} instances lost, ${f.rescheduled} re-placed; the whole round took ${f.totalMs} ms`);
    }
  }
}

if (require.main === module) {
  runSchedulerBench().then(print, (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
