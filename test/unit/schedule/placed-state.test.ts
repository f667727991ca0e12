import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AcceptedJob } from '../../../src/model/cluster';
import { ClusterState, MEMORY, placementDemand } from '../../../src/schedule';
import { forgetPlacedState, placedState, placedStats } from '../../../src/schedule/placed-state';
import { Gi, accepted, desired, node, pick, prng } from './fixtures';

/** What decide() did before placedState: account every instance on a fresh state. */
function fresh(nodes: ReturnType<typeof node>[], jobs: ReadonlyMap<string, AcceptedJob>): ClusterState {
  const state = new ClusterState(nodes);
  state.addAll((add) => {
    for (const [name, job] of jobs) {
      for (const p of job.instances) {
        const id = p.node === null ? undefined : state.idOf(p.node);
        if (id !== undefined) add(id, name, placementDemand(job, p));
      }
    }
  });
  return state;
}

function sameState(a: ClusterState, b: ClusterState, names: Iterable<string>): void {
  assert.deepEqual(a.free, b.free);
  assert.deepEqual(a.indexes.map((x) => [...x.order]), b.indexes.map((x) => [...x.order]));
  for (let id = 0; id < a.size; id++) {
    for (const port of ['80/tcp', '81/tcp', '82/tcp']) assert.equal(a.portTaken(id, port), b.portTaken(id, port), `port ${port} on ${id}`);
    for (const name of names) assert.equal(a.jobInstancesOn(name, id), b.jobInstancesOn(name, id), `${name} on ${id}`);
  }
}

test('placedState equals a fresh accounting over random edit sequences, and patches only the jobs that changed', () => {
  forgetPlacedState();
  const rand = prng(7);
  const nodes = ['a', 'b', 'c', 'd', 'e'].map((n, i) => node(n, { memory: (8 + i) * Gi, cpu: 4000 }));
  const names = Array.from({ length: 80 }, (_, i) => `j${i}`);
  const randomJob = (name: string): AcceptedJob => {
    const shape = { memory: (1 + Math.floor(rand() * 3)) * Gi, cpu: 100 * Math.floor(rand() * 5), ...(rand() < 0.2 ? { hostPorts: [80 + Math.floor(rand() * 3)] } : {}) };
    const on = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => (rand() < 0.15 ? null : rand() < 0.1 ? 'gone' : pick(rand, ['a', 'b', 'c', 'd', 'e'])));
    return accepted(desired(name, on.length, shape), on);
  };
  let jobs = new Map(names.slice(0, 60).map((n) => [n, randomJob(n)]));
  sameState(placedState(nodes, jobs), fresh(nodes, jobs), names);
  for (let round = 0; round < 60; round++) {
    // Now and then the same jobs come listed in another order (placedState walks them in step with the last order).
    let next = rand() < 0.2 ? new Map([...jobs].reverse()) : new Map(jobs);
    const edits = rand() < 0.1 ? 0 : 1 + Math.floor(rand() * 4);
    for (let e = 0; e < edits; e++) {
      const name = pick(rand, names);
      if (next.has(name) && rand() < 0.3) next.delete(name);
      else next.set(name, randomJob(name));
    }
    if (rand() < 0.1) next = new Map([...next].sort(() => rand() - 0.5));
    const built = placedStats.built;
    const patched = placedStats.patched;
    const state = placedState(nodes, next);
    sameState(state, fresh(nodes, next), names);
    assert.equal(placedStats.built, built, 'the remembered accounting was patched, not rebuilt');
    assert.ok(placedStats.patched - patched <= edits, 'only the edited jobs were accounted again');
    // The caller owns its fork: what it does never shows in the next round's state.
    state.add(0, 'j0', placementDemand(randomJob('j0'), { node: 'a', since: '' }), 3);
    jobs = next;
  }
  // Another cluster (different node objects): built afresh.
  const other = nodes.map((n) => ({ ...n }));
  const built = placedStats.built;
  sameState(placedState(other, jobs), fresh(other, jobs), names);
  assert.equal(placedStats.built, built + 1);
});

test('forks are independent of each other and of the remembered state', () => {
  forgetPlacedState();
  const nodes = [node('a', { memory: 8 * Gi })];
  const web = accepted(desired('web', 1, { memory: 1 * Gi, hostPorts: [80] }), ['a']);
  const jobs = new Map([['web', web]]);
  const one = placedState(nodes, jobs);
  const two = placedState(nodes, jobs);
  one.remove(0, 'web', placementDemand(web, web.instances[0]));
  assert.equal(one.jobInstancesOn('web', 0), 0);
  assert.equal(two.jobInstancesOn('web', 0), 1);
  assert.ok(two.portTaken(0, '80/tcp'));
  assert.equal(two.free[MEMORY][0], 7 * Gi);
  assert.equal(placedState(nodes, jobs).jobInstancesOn('web', 0), 1);
});
