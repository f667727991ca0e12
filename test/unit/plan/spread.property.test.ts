// Property test: seeded random sequences of commits (create, scale, update)
// and node deaths/returns for jobs with placement rules. After every
// decision, applied: no two instances of a spread: nodes job on one node,
// no instance on a node without the job's labels, every instance of a
// spread: zones job in its home zone unless the decision names it away,
// and, once every node is back and healthy rounds have passed, every
// zone-spread instance is home.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeInfo } from '../../../src/model/cluster';
import { podTemplateHash } from '../../../src/model/hash';
import { DEFAULT_UPDATE, type DesiredJob, type JobSpec, type Placement } from '../../../src/model/job';
import { decide, type ClusterView, type Decision } from '../../../src/plan';
import type { InstanceHealth } from '../../../src/plan/rollout';
import { Gi, applyDecision, checkCluster, container, node, pick, prng } from '../schedule/fixtures';

const ZONES = ['a', 'b', 'c'];
const PLACEMENTS: Placement[] = [{ spread: 'zones' }, { spread: 'nodes' }, { nodeLabels: { disk: 'ssd' } }, { spread: 'zones', zones: ['c', 'a'] }, { spread: 'nodes', nodeLabels: { disk: 'ssd' } }];

function job(name: string, n: number, placement: Placement, memory: number): DesiredJob {
  const spec: JobSpec = { name, numInstances: n, containers: [container({ memory })], placement, update: { ...DEFAULT_UPDATE, minHealthyMs: 1000, maxParallel: 2 } };
  return { spec, specHash: podTemplateHash(spec), file: `jobs/${name}.yaml` };
}

const healthy: InstanceHealth = { waitedMs: 5000, healthyMs: 5000, state: 'healthy', restarts: 0 };

function allHealthy(c: ClusterView): Map<string, InstanceHealth> {
  const out = new Map<string, InstanceHealth>();
  for (const j of c.jobs.values()) j.instances.forEach((_, i) => out.set(`${j.spec.name}-${i}`, healthy));
  return out;
}

function check(c: ClusterView, d: Decision, all: readonly NodeInfo[], seed: number, step: number): void {
  const at = `seed ${seed} step ${step}`;
  const byName = new Map(all.map((n) => [n.name, n]));
  const cl = checkCluster(c.nodes, c.jobs.values());
  assert.deepEqual(cl.overCapacity, [], at);
  for (const j of c.jobs.values()) {
    const p = j.spec.placement ?? {};
    const nodes = j.instances.flatMap((x) => (x.node === null ? [] : [x.node]));
    if (p.spread === 'nodes') assert.equal(new Set(nodes).size, nodes.length, `${at}: ${j.spec.name} twice on a node: ${nodes.join(',')}`);
    for (const [k, v] of Object.entries(p.nodeLabels ?? {})) for (const n of nodes) assert.equal(byName.get(n)!.labels[k], v, `${at}: ${j.spec.name} on ${n} without ${k}=${v}`);
    if (p.spread === 'zones') {
      const zones = p.zones ?? ZONES;
      const away = d.outcomes.find((o) => o.job === j.spec.name)?.away ?? {};
      j.instances.forEach((x, i) => {
        if (x.node === null) return;
        const home = zones[i % zones.length];
        if (byName.get(x.node)!.zone !== home) assert.ok(away[`${j.spec.name}-${i}`], `${at}: ${j.spec.name}-${i} outside zone ${home} and not named away: ${JSON.stringify(d.outcomes.find((o) => o.job === j.spec.name))} ${JSON.stringify(j)}`);
      });
    }
  }
}

describe('placement rules hold through random commits and node loss', () => {
  for (let seed = 1; seed <= 40; seed++) {
    test(`seed ${seed}`, () => {
      const rand = prng(seed);
      const all = ZONES.flatMap((z, zi) => [0, 1, 2].map((k) => ({ ...node(`${z}${k}`, { memory: pick(rand, [4, 8, 16]) * Gi }, z), labels: ((zi + k) % 2 === 0 ? { disk: 'ssd' } : {}) as Record<string, string> })));
      const jobs = new Map<string, DesiredJob>();
      let c: ClusterView = { nodes: all, jobs: new Map(), rejections: new Map(), zones: ZONES };
      for (let step = 0; step < 25; step++) {
        const roll = rand();
        if (roll < 0.3 || jobs.size === 0) {
          const name = `j${step}`;
          jobs.set(name, job(name, 1 + Math.floor(rand() * 7), pick(rand, PLACEMENTS), pick(rand, [512, 1024, 2048]) * 1024 * 1024));
        } else if (roll < 0.6) {
          const name = pick(rand, [...jobs.keys()].sort());
          const d = jobs.get(name)!;
          jobs.set(name, job(name, Math.floor(rand() * 8), d.spec.placement!, d.spec.containers[0]!.memory));
        } else if (roll < 0.8) {
          const zone = pick(rand, ZONES); // a zone dies or comes back
          const down = c.nodes.some((n) => n.zone === zone);
          c = { ...c, nodes: down ? c.nodes.filter((n) => n.zone !== zone) : all.filter((n) => n.zone === zone || c.nodes.includes(n)) };
        }
        const d = decide({ desired: [...jobs.values()], invalid: [], cluster: c, commit: `c${step}`, now: new Date(1_700_000_000_000 + step * 1000), deletionGuard: { maxDeleteShare: 1, allowDeleteAll: true }, health: allHealthy(c) });
        c = applyDecision(c, d);
        check(c, d, all, seed, step);
      }
      // Every node back, enough healthy rounds: every zone-spread instance whose home has room is home.
      c = { ...c, nodes: all };
      let last: Decision | undefined;
      for (let r = 0; r < 30; r++) {
        last = decide({ desired: [...jobs.values()], invalid: [], cluster: c, commit: 'end', now: new Date(1_800_000_000_000 + r * 1000), deletionGuard: { maxDeleteShare: 1, allowDeleteAll: true }, health: allHealthy(c) });
        c = applyDecision(c, last);
        check(c, last, all, seed, 100 + r);
      }
      for (const o of last!.outcomes) for (const [inst, why] of Object.entries(o.away ?? {})) assert.doesNotMatch(why, /room now/, `seed ${seed}: ${inst} could go home but did not`);
    });
  }
});
