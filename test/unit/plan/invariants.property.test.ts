// Property test: many seeded random sequences of commits and node deaths.
// After every decision, applied as the transaction would apply it: no node
// beyond capacity, no host port twice on a node, no instance on a dead
// node, every accepted job with exactly numInstances placements, live
// placements of untouched jobs never moved, rejected changes leave the old
// version, and the decision is deterministic.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AcceptedJob, NodeInfo } from '../../../src/model/cluster';
import type { DesiredJob } from '../../../src/model/job';
import { decide, type ClusterView, type DecideInput } from '../../../src/plan';
import { Gi, Mi, applyDecision, checkCluster, desired, node, pick, prng, type PodShape } from '../schedule/fixtures';

const MEMORY = [256 * Mi, 512 * Mi, 1 * Gi, 2 * Gi, 3 * Gi, 6 * Gi];
const CPU = [0, 100, 250, 500, 1000, 2000];
const DISK = [0, 0, 1 * Gi, 5 * Gi, 20 * Gi];

function randomShape(rand: () => number): PodShape {
  return {
    memory: pick(rand, MEMORY),
    cpu: pick(rand, CPU),
    disk: pick(rand, DISK),
    hostPorts: rand() < 0.15 ? [pick(rand, [80, 443, 8080])] : [],
  };
}

function randomNode(rand: () => number, name: string): NodeInfo {
  return node(name, { memory: pick(rand, [4, 8, 16]) * Gi, cpu: pick(rand, [2000, 4000, 8000]), disk: pick(rand, [20, 50, 100]) * Gi });
}

/** One random commit: create, delete, scale or update some jobs. */
function mutate(rand: () => number, jobs: Map<string, { shape: PodShape; count: number }>, step: number): void {
  const changes = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < changes; i++) {
    const roll = rand();
    const names = [...jobs.keys()].sort();
    const name = names.length > 0 ? pick(rand, names) : undefined;
    const job = name === undefined ? undefined : jobs.get(name);
    if (roll < 0.35 || name === undefined || job === undefined) jobs.set(`job-${step}-${i}`, { shape: randomShape(rand), count: 1 + Math.floor(rand() * 6) });
    else if (roll < 0.5) jobs.delete(name);
    else if (roll < 0.75) jobs.set(name, { ...job, count: Math.floor(rand() * 8) });
    else jobs.set(name, { ...job, shape: randomShape(rand) });
  }
}

function desiredSet(jobs: Map<string, { shape: PodShape; count: number }>): DesiredJob[] {
  return [...jobs].map(([name, j]) => desired(name, j.count, j.shape));
}

describe('invariants over random commit sequences', () => {
  test('capacity, ports, one node per instance, stable placements, whole rejections, determinism', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rand = prng(seed);
      let nodes: NodeInfo[] = Array.from({ length: 2 + Math.floor(rand() * 6) }, (_, i) => randomNode(rand, `n${seed}-${i}`));
      let cluster: ClusterView = { nodes, jobs: new Map(), rejections: new Map() };
      const wanted = new Map<string, { shape: PodShape; count: number }>();
      let nextNode = nodes.length;
      for (let step = 0; step < 25; step++) {
        const where = `seed ${seed} step ${step}`;
        mutate(rand, wanted, step);
        // Sometimes a node dies or a new one joins.
        if (rand() < 0.2 && nodes.length > 1) nodes = nodes.filter((_, i) => i !== Math.floor(rand() * nodes.length));
        if (rand() < 0.2) nodes = [...nodes, randomNode(rand, `n${seed}-${nextNode++}`)];
        cluster = { ...cluster, nodes };
        const inputOf = (): DecideInput => ({
          desired: desiredSet(wanted),
          invalid: [],
          cluster,
          commit: `c${step}`,
          now: new Date(Date.UTC(2024, 0, 1, 0, step)),
          deletionGuard: { maxDeleteShare: 1, allowDeleteAll: true },
        });
        const decision = decide(inputOf());
        assert.deepEqual(decide(inputOf()), decision, `${where}: deterministic`);

        const before = cluster.jobs;
        cluster = applyDecision(cluster, decision);
        const { overCapacity, portClashes, onDeadNodes } = checkCluster(nodes, cluster.jobs.values());
        assert.deepEqual(overCapacity, [], `${where}: over capacity`);
        assert.deepEqual(portClashes, [], `${where}: host port twice on a node`);
        assert.deepEqual(onDeadNodes, [], `${where}: instance left on a dead node`);

        const alive = new Set(nodes.map((n) => n.name));
        for (const job of cluster.jobs.values()) {
          assert.equal(job.instances.length, job.spec.numInstances, `${where}: ${job.spec.name} has one placement per ordinal`);
        }
        for (const o of decision.outcomes) {
          const old: AcceptedJob | undefined = before.get(o.job);
          const now = cluster.jobs.get(o.job);
          if (o.bucket === 'rejected') {
            if (!old) assert.equal(now, undefined, `${where}: rejected create wrote a job`);
            else assert.equal(now?.specHash, old.specHash, `${where}: rejected change replaced the accepted version`);
          }
          if (old && now && (o.bucket === 'unchanged' || o.bucket === 'reschedule' || o.bucket === 'rejected' || o.bucket === 'scale-up' || o.bucket === 'scale-down')) {
            // Live placements of jobs whose spec did not change never move.
            for (let i = 0; i < Math.min(old.instances.length, now.instances.length); i++) {
              const was = old.instances[i].node;
              if (was !== null && alive.has(was)) assert.deepEqual(now.instances[i], old.instances[i], `${where}: ${o.job}-${i} moved`);
            }
          }
        }
      }
    }
  });
});
