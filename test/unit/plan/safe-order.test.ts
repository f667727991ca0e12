// The order of a multi-transaction round's writes: small cases whose right
// order is known, then decide() finishing a round cut short after a leave.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AcceptedJob } from '../../../src/model/cluster';
import { decide, leaveVersion, safeWriteOrder, type RoundWrite, type RoundWrites } from '../../../src/plan';
import { Gi, NOW, accepted, applyDecision, desired, input, node, view } from '../schedule/fixtures';
import { applyRound, applyWrite, checkEveryPrefix } from './round-check';

const T1 = '2024-06-01T12:00:00.000Z';
const nodes = [node('a', { memory: 4 * Gi }), node('b', { memory: 4 * Gi }), node('c', { memory: 4 * Gi })];

function jobs(...list: AcceptedJob[]): Map<string, AcceptedJob> {
  return new Map(list.map((j) => [j.spec.name, j]));
}

function round(putJobs: AcceptedJob[], deleteJobs: string[] = []): RoundWrites {
  return { putJobs, deleteJobs, putRejections: [], deleteRejections: [] };
}

const describeWrite = (w: RoundWrite): string =>
  w.kind === 'delete-job' ? `delete ${w.name}` : w.kind === 'put-job' || w.kind === 'leave-job' ? `${w.kind === 'put-job' ? 'put' : 'leave'} ${w.job.spec.name}` : w.kind;

describe('safeWriteOrder', () => {
  test('a job moving onto a node waits for the job leaving it, without a leave write', () => {
    // a-job moves b → a (full); z-job leaves a for c. Name order would put a-job first.
    const aJob = desired('a-job', 1, { memory: 3 * Gi });
    const zJob = desired('z-job', 1, { memory: 3 * Gi });
    const read = jobs(accepted(aJob, ['b']), accepted(zJob, ['a']));
    const r = round([accepted(aJob, ['a']), accepted(zJob, ['c'])]);
    const out = safeWriteOrder(read, r, T1);
    assert.deepEqual(out.writes.map(describeWrite), ['put z-job', 'put a-job']);
    assert.equal(out.leaves, 0);
    checkEveryPrefix('move', nodes, read, r, out.writes);
  });

  test('deletes and shrinking jobs go before the jobs that need their room', () => {
    const big = desired('big', 1, { memory: 3 * Gi });
    const old = desired('old', 1, { memory: 3 * Gi });
    const shrink = desired('shrink', 1, { memory: 1 * Gi });
    const read = jobs(accepted(old, ['a']), accepted(desired('shrink', 1, { memory: 4 * Gi }), ['b']));
    const r = round([accepted(big, ['a']), accepted(desired('new', 1, { memory: 3 * Gi }), ['b']), accepted(shrink, ['b'])], ['old']);
    const out = safeWriteOrder(read, r, T1);
    assert.deepEqual(out.writes.map(describeWrite), ['delete old', 'put shrink', 'put big', 'put new']);
    checkEveryPrefix('free first', nodes, read, r, out.writes);
  });

  test('two jobs swapping full nodes: one leaves first, then both arrive', () => {
    const x = desired('x', 2, { memory: 2 * Gi });
    const y = desired('y', 2, { memory: 2 * Gi });
    const read = jobs(accepted(x, ['a', 'a']), accepted(y, ['b', 'b']));
    const r = round([accepted(x, ['b', 'b']), accepted(y, ['a', 'a'])]);
    const out = safeWriteOrder(read, r, T1);
    assert.deepEqual(out.writes.map(describeWrite), ['leave x', 'put y', 'put x']);
    assert.equal(out.leaves, 1);
    const leave = out.writes[0] as { job: AcceptedJob };
    assert.deepEqual(leave.job.instances, [{ node: null, since: T1 }, { node: null, since: T1 }]);
    assert.equal(leave.job.specHash, x.specHash, 'a leave keeps the old spec');
    checkEveryPrefix('swap', nodes, read, r, out.writes);
  });

  test('a job growing in place waits for the job leaving its node', () => {
    // On a (4G): x grows 2G → 3G and z (1G) arrives from b, once y (2G) has left for c.
    const x0 = desired('x', 1, { memory: 2 * Gi });
    const x1 = desired('x', 1, { memory: 3 * Gi });
    const y = desired('y', 1, { memory: 2 * Gi });
    const z = desired('z', 1, { memory: 1 * Gi });
    const read = jobs(accepted(x0, ['a']), accepted(y, ['a']), accepted(z, ['b']), accepted(desired('w', 1, { memory: 3 * Gi }), ['b']));
    const r = round([accepted(x1, ['a']), accepted(y, ['c']), accepted(z, ['a'])]);
    const out = safeWriteOrder(read, r, T1);
    assert.deepEqual(out.writes.map(describeWrite), ['put y', 'put z', 'put x']);
    assert.equal(out.leaves, 0);
    checkEveryPrefix('grow', nodes, read, r, out.writes);
  });

  test('reports are written after the jobs; a round of reports alone keeps its order', () => {
    const rej = { key: 'r', commit: 'c', desiredHash: '', problem: { type: 't', title: 't', detail: 'd' }, at: T1 };
    const r: RoundWrites = { putJobs: [], deleteJobs: ['gone'], putRejections: [rej], deleteRejections: ['old'] };
    const out = safeWriteOrder(jobs(accepted(desired('gone', 1, { memory: 1 * Gi }), ['a'])), r, T1);
    assert.deepEqual(out.writes.map((w) => w.kind), ['delete-job', 'delete-rejection', 'put-rejection']);
  });
});

describe('leaveVersion', () => {
  test('instances that stay on their node with at least their demand are kept; the others pend', () => {
    const before = accepted(desired('j', 4, { memory: 1 * Gi, hostPorts: [80] }), ['a', 'b', null, 'c']);
    const grown = accepted(desired('j', 3, { memory: 2 * Gi, hostPorts: [80] }), ['a', 'c', 'a']);
    const leave = leaveVersion(before, grown, T1);
    assert.deepEqual(leave.instances.map((p) => p.node), ['a', null, null, null]);
    assert.equal(leave.instances[0], before.instances[0], 'a kept placement keeps its since');
    assert.equal(leave.instances[2], before.instances[2], 'an already pending instance is unchanged');
    assert.equal(leave.spec, before.spec);
  });

  test('a smaller demand, or a host port dropped, frees every instance (the old one would not fit under the new)', () => {
    const before = accepted(desired('j', 2, { memory: 2 * Gi }), ['a', 'b']);
    const smaller = accepted(desired('j', 2, { memory: 1 * Gi }), ['a', 'b']);
    assert.deepEqual(leaveVersion(before, smaller, T1).instances.map((p) => p.node), [null, null]);
    const withPort = accepted(desired('j', 1, { memory: 1 * Gi, hostPorts: [80] }), ['a']);
    const noPort = accepted(desired('j', 1, { memory: 1 * Gi }), ['a']);
    assert.deepEqual(leaveVersion(withPort, noPort, T1).instances, [{ node: null, since: T1 }]);
  });
});

describe('a round cut short after a leave is completed by the next decide()', () => {
  test('update and moves: the next round places the pending instances, with the new spec', () => {
    const cluster = [node('a', { memory: 4 * Gi }), node('b', { memory: 4 * Gi }), node('c', { memory: 2 * Gi })];
    // web grows 1G → 2G and moves to b while db moves from b to a: a cycle on full nodes.
    const web0 = desired('web', 2, { memory: 1 * Gi });
    const web1 = desired('web', 2, { memory: 2 * Gi });
    const db = desired('db', 1, { memory: 4 * Gi });
    const cache = desired('cache', 1, { memory: 2 * Gi });
    const read = jobs(accepted(web0, ['a', 'a']), accepted(db, ['b']), accepted(cache, ['a']));
    const r = round([accepted(cache, ['c']), accepted(db, ['a']), accepted(web1, ['b', 'b'])]);
    const out = safeWriteOrder(read, r, T1);
    checkEveryPrefix('cut', cluster, read, r, out.writes);
    assert.ok(out.leaves > 0, 'this round needs a leave');

    for (let k = 0; k < out.writes.length; k++) {
      const cut = new Map(read);
      for (const w of out.writes.slice(0, k)) applyWrite(cut, w);
      const d = decide(input([web1, db, cache], view(cluster, [...cut.values()]), { now: NOW }));
      const done = applyDecision(view(cluster, [...cut.values()]), d).jobs;
      assert.deepEqual(d.putRejections, [], `cut after ${k}: nothing rejected`);
      for (const want of [web1, db, cache]) {
        const got = done.get(want.spec.name);
        assert.equal(got?.specHash, want.specHash, `cut after ${k}: ${want.spec.name} at its new spec`);
        assert.ok(got?.instances.every((p) => p.node !== null), `cut after ${k}: ${want.spec.name} fully placed`);
      }
    }
    assert.deepEqual(applyRound(read, r).get('web')?.specHash, web1.specHash);
  });
});
