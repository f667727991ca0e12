// Property tests of the safe order, on seeded random clusters:
//  - rounds decided by decide() (hundreds of jobs resized, scaled, deleted,
//    created, some nodes dead): after every write no node is over capacity;
//    cut short anywhere, the next decide() finishes the round;
//  - arbitrary rounds between two random packings (hundreds of jobs moving
//    between full nodes, resized, deleted, created): after every write no
//    node is over capacity.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeInfo, Rejection } from '../../../src/model/cluster';
import type { DesiredJob } from '../../../src/model/job';
import { decide, safeWriteOrder, type ClusterView, type Decision, type DecideInput } from '../../../src/plan';
import { Gi, Mi, applyDecision, desired, node, pick, prng, type PodShape } from '../schedule/fixtures';
import { randomRound, type Shape } from '../../harness/packing';
import { applyWrite, checkEveryPrefix, naiveOrder, overCapacity, portClashes, somePrefixOverCapacity } from './round-check';

const NOW = new Date('2024-06-01T12:00:00.000Z');

/** Pods small enough that 450 jobs nearly fill 24 nodes. */
function smallShape(rand: () => number): Shape {
  return {
    memory: pick(rand, [128 * Mi, 256 * Mi, 512 * Mi, 1 * Gi]),
    cpu: pick(rand, [50, 100, 250]),
    disk: pick(rand, [0, 0, 1 * Gi]),
    hostPorts: rand() < 0.03 ? [pick(rand, [80, 443])] : [],
  };
}

function randomShape(rand: () => number): PodShape {
  return {
    memory: pick(rand, [256 * Mi, 512 * Mi, 1 * Gi, 2 * Gi, 3 * Gi]),
    cpu: pick(rand, [100, 250, 500, 1000]),
    disk: pick(rand, [0, 0, 1 * Gi, 5 * Gi]),
    hostPorts: rand() < 0.05 ? [pick(rand, [80, 443])] : [],
  };
}

function randomNodes(rand: () => number, seed: number, count = 6 + Math.floor(rand() * 6)): NodeInfo[] {
  return Array.from({ length: count }, (_, i) =>
    node(`n${seed}-${i}`, { memory: pick(rand, [8, 16]) * Gi, cpu: pick(rand, [4000, 8000]), disk: pick(rand, [40, 100]) * Gi }),
  );
}

function inputOf(wanted: readonly DesiredJob[], cluster: ClusterView, commit: string): DecideInput {
  return { desired: [...wanted], invalid: [], cluster, commit, now: NOW, deletionGuard: { maxDeleteShare: 1, allowDeleteAll: true } };
}

function rejected(d: Decision, cluster: ClusterView): Set<string> {
  const out = new Set<string>(cluster.rejections.keys());
  for (const r of d.putRejections) out.add(r.key);
  for (const k of d.deleteRejections) out.delete(k);
  return out;
}

describe('safe order of rounds decided by decide()', () => {
  test('every prefix within capacity; cut short anywhere, the next round completes it', (t) => {
    let leaves = 0;
    let writes = 0;
    let naiveFails = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const rand = prng(seed);
      const nodes = randomNodes(rand, seed);
      // A full-ish cluster: create many jobs, keep what was accepted.
      let wanted = Array.from({ length: 400 }, (_, i) => desired(`job-${i}`, 1 + Math.floor(rand() * 4), randomShape(rand)));
      let cluster: ClusterView = { nodes, jobs: new Map(), rejections: new Map() };
      const first = decide(inputOf(wanted, cluster, 'c0'));
      cluster = { ...applyDecision(cluster, first), rejections: new Map() };
      wanted = wanted.filter((d) => cluster.jobs.has(d.spec.name));

      // One big commit: resize, scale, delete, create; sometimes a node dies.
      const live = rand() < 0.3 ? nodes.filter((_, i) => i !== 0) : nodes;
      const next: DesiredJob[] = [];
      for (const d of wanted) {
        const roll = rand();
        if (roll < 0.35) next.push(desired(d.spec.name, d.spec.numInstances, randomShape(rand)));
        else if (roll < 0.45) continue;
        else if (roll < 0.6) next.push({ ...desired(d.spec.name, 1 + Math.floor(rand() * 4), shapeOf(d)) });
        else next.push(d);
      }
      for (let i = 0; i < 30; i++) next.push(desired(`new-${i}`, 1 + Math.floor(rand() * 3), randomShape(rand)));
      const before: ClusterView = { ...cluster, nodes: live };
      const decision = decide(inputOf(next, before, 'c1'));
      const order = safeWriteOrder(before.jobs, decision, NOW.toISOString());
      leaves += order.leaves;
      writes += order.writes.length;
      const where = `seed ${seed}`;
      assert.deepEqual(overCapacity(live, before.jobs.values()), [], `${where}: valid start`);
      checkEveryPrefix(where, live, before.jobs, decision, order.writes);
      if (somePrefixOverCapacity(live, before.jobs, naiveOrder(decision))) naiveFails++;

      // The committing agent dies after k writes; another agent decides again.
      const k = Math.floor(rand() * (order.writes.length + 1));
      const cut = new Map(before.jobs);
      for (const w of order.writes.slice(0, k)) applyWrite(cut, w);
      const rejections = new Map<string, Rejection>();
      for (const w of order.writes.slice(0, k)) if (w.kind === 'put-rejection') rejections.set(w.rejection.key, w.rejection);
      const cutView: ClusterView = { nodes: live, jobs: cut, rejections };
      const again = decide(inputOf(next, cutView, 'c1'));
      const done = applyDecision(cutView, again);
      const w2 = `${where} cut after ${k}/${order.writes.length}`;
      assert.deepEqual(overCapacity(live, done.jobs.values()), [], `${w2}: completion over capacity`);
      assert.deepEqual(portClashes(done.jobs.values()), [], `${w2}: completion port clash`);
      const refused = rejected(again, cutView);
      for (const d of next) {
        const got = done.jobs.get(d.spec.name);
        if (refused.has(d.spec.name)) continue;
        assert.equal(got?.specHash, d.specHash, `${w2}: ${d.spec.name} at its desired spec`);
        assert.equal(got?.instances.length, d.spec.numInstances, `${w2}: ${d.spec.name} count`);
      }
      for (const name of done.jobs.keys()) assert.ok(next.some((d) => d.spec.name === name), `${w2}: deleted job ${name} gone`);
      // And it is finished: a third round has nothing left to write.
      const third = decide(inputOf(next, done, 'c1'));
      assert.deepEqual([third.putJobs.length, third.deleteJobs.length], [0, 0], `${w2}: a third round still writes`);
    }
    t.diagnostic(`${leaves} leave writes in ${writes} writes; the old order overfilled a node in ${naiveFails}/30 rounds`);
    assert.ok(leaves > 0, `some rounds needed leave writes (${leaves} of ${writes} writes)`);
    assert.ok(naiveFails > 0, 'the old order (deletes, then puts by name) overfills some node in some round');
  });
});

function shapeOf(d: DesiredJob): PodShape {
  const c = d.spec.containers[0]!;
  return {
    memory: c.memory,
    cpu: c.cpu,
    disk: c.volumes.filter((v) => v.type === 'local').reduce((s, v) => s + v.space, 0),
    hostPorts: c.ports.flatMap((p) => (p.host === undefined ? [] : [p.host])),
  };
}

describe('safe order of arbitrary rounds between two packings', () => {
  test('hundreds of jobs moving between full nodes: every prefix within capacity', (t) => {
    let leaves = 0;
    let naiveFails = 0;
    let puts = 0;
    for (let seed = 100; seed < 140; seed++) {
      const rand = prng(seed);
      const nodes = randomNodes(rand, seed, 24);
      const { read, putJobs, deleteJobs } = randomRound(rand, nodes, 450, () => smallShape(rand));
      puts += putJobs.length;
      const round = { putJobs, deleteJobs, putRejections: [], deleteRejections: [] };
      const order = safeWriteOrder(read, round, NOW.toISOString());
      leaves += order.leaves;
      assert.ok(putJobs.length > 150, `seed ${seed}: a large round (${putJobs.length} puts)`);
      checkEveryPrefix(`seed ${seed}`, nodes, read, round, order.writes);
      if (somePrefixOverCapacity(nodes, read, naiveOrder(round))) naiveFails++;
    }
    t.diagnostic(`${leaves} leave writes for ${puts} job puts; the old order overfilled a node in ${naiveFails}/40 rounds`);
    assert.ok(leaves > 0, 'cycles occurred and were broken by leave writes');
    assert.ok(naiveFails > 20, `the old order overfills a node in most rounds (${naiveFails}/40)`);
  });
});
