// The cron round (pure): claiming due times once, the concurrency policies,
// startingDeadline, catch-up after an outage, node loss and retries, and
// placement that counts what services and other runs hold.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AcceptedJob, NodeInfo } from '../../../src/model/cluster';
import type { CronState, InstanceExit } from '../../../src/model/cron';
import { DEFAULT_CRON, type CronPolicy, type JobSpec } from '../../../src/model/job';
import { podTemplateHash } from '../../../src/model/hash';
import { cronRound, type CronRound, type ScheduleTimes } from '../../../src/cron/round';
import { applyExit } from '../../../src/cron/run-state';
import { runSlotsFor } from '../../../src/cron/assignments';
import { Gi, accepted, container, desired, node } from '../schedule/fixtures';

/** Every `period` seconds (aligned to the epoch): the arithmetic cron/times.ts does, for a simple schedule. */
function every(period: number): ScheduleTimes {
  return {
    next: (after) => (Math.floor(after / period) + 1) * period,
    prev: (at) => Math.floor(at / period) * period,
  };
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const sec = (ms: number): number => Math.floor(ms / 1000);

function cronJob(name: string, cron: Partial<CronPolicy> = {}, memory = 1 * Gi, acceptedAt = new Date(T0 - 1000).toISOString()): AcceptedJob {
  const policy: CronPolicy = { ...DEFAULT_CRON, schedule: '*/10 * * * * *', instances: 1, ...cron };
  const spec: JobSpec = { name, type: 'cron', numInstances: 0, containers: [container({ memory })], cron: policy };
  return { spec, specHash: podTemplateHash(spec), commit: 'c1', file: `jobs/${name}.yaml`, acceptedAt, instances: [] };
}

interface World {
  nodes: NodeInfo[];
  jobs: Map<string, AcceptedJob>;
  runs: Map<string, CronState>;
}

function world(jobs: AcceptedJob[], nodes: NodeInfo[] = [node('n1', { memory: 4 * Gi })]): World {
  return { nodes, jobs: new Map(jobs.map((j) => [j.spec.name, j])), runs: new Map() };
}

/** One round at `nowMs`, its writes applied to `w`. */
function step(w: World, nowMs: number, period = 10): CronRound {
  const r = cronRound({ nowMs, nodes: w.nodes, jobs: w.jobs, runs: w.runs, times: () => every(period) });
  for (const job of r.deleteRuns) w.runs.delete(job);
  for (const s of r.putRuns) w.runs.set(s.job, s);
  return r;
}

function exitOk(at: number): InstanceExit {
  return { exitCodes: { app: 0 }, output: { app: 'hello\n' }, finishedAt: new Date(at).toISOString() };
}

/** The node of run instance 0 reports its exit. */
function finish(w: World, job: string, run: string, exit: InstanceExit, at: number): ReturnType<typeof applyExit> {
  const state = w.runs.get(job)!;
  const r = state.runs.find((x) => x.run === run)!;
  const res = applyExit(state, run, 0, r.attempt, r.instances[0]!.node!, exit, w.jobs.get(job)!.spec.cron!, new Date(at).toISOString());
  if (res.kind === 'applied') w.runs.set(job, res.state);
  return res;
}

describe('cron round', () => {
  test('a due time is claimed and placed once; the same round again writes nothing', () => {
    const w = world([cronJob('tick')]);
    assert.equal(step(w, T0 - 500).putRuns.length, 0, 'nothing due before the first time');
    const r = step(w, T0 + 200);
    assert.deepEqual(
      r.events.map((e) => e.what),
      ['claimed', 'placed'],
    );
    const s = w.runs.get('tick')!;
    assert.equal(s.cursor, sec(T0));
    assert.equal(s.runs.length, 1);
    assert.equal(s.runs[0]!.run, `tick-${sec(T0)}`);
    assert.deepEqual(s.runs[0]!.instances, [{ node: 'n1', lease: '1' }]);
    assert.ok(s.runs[0]!.startedAt);
    const again = step(w, T0 + 300);
    assert.equal(again.putRuns.length + again.history.length, 0, 'a fixed point: racing agents find nothing left to claim');
  });

  test('forbid: a time that comes while the run is active is skipped; replace stops it; allow overlaps', () => {
    const forbid = world([cronJob('f', { concurrency: 'forbid' })]);
    step(forbid, T0 + 100);
    const r = step(forbid, T0 + 10_100);
    assert.equal(r.history.length, 1);
    assert.equal(r.history[0]!.record.result, 'skipped');
    assert.equal(r.history[0]!.record.run, `f-${sec(T0) + 10}`);
    assert.match(r.history[0]!.record.reason!, /still active/);
    assert.equal(forbid.runs.get('f')!.runs.length, 1);

    const replace = world([cronJob('r', { concurrency: 'replace' })]);
    step(replace, T0 + 100);
    const rr = step(replace, T0 + 10_100);
    assert.deepEqual(
      rr.history.map((h) => [h.record.run, h.record.result]),
      [[`r-${sec(T0)}`, 'replaced']],
    );
    assert.deepEqual(
      replace.runs.get('r')!.runs.map((x) => x.run),
      [`r-${sec(T0) + 10}`],
    );

    const allow = world([cronJob('a', { concurrency: 'allow' })]);
    step(allow, T0 + 100);
    step(allow, T0 + 10_100);
    assert.equal(allow.runs.get('a')!.runs.length, 2);
  });

  test('a run that cannot be placed waits with its reason, then is missed after startingDeadline', () => {
    const w = world([cronJob('big', { startingDeadlineMs: 5_000 }, 8 * Gi)]);
    const r = step(w, T0 + 100);
    assert.equal(r.events.filter((e) => e.what === 'placed').length, 0);
    const run = w.runs.get('big')!.runs[0]!;
    assert.equal(run.startedAt, undefined);
    assert.match(run.waiting!, /memory/);
    assert.equal(r.wakeAt, T0 + 5_001, 'a round must come back at the deadline');
    assert.equal(step(w, T0 + 3_000).putRuns.length, 0, 'same reason: nothing rewritten');
    const late = step(w, T0 + 5_100);
    assert.deepEqual(
      late.history.map((h) => h.record.result),
      ['missed'],
    );
    assert.match(late.history[0]!.record.reason!, /startingDeadline 5s.*memory/);
    assert.equal(w.runs.get('big')!.runs.length, 0);
  });

  test('runs hold capacity: services and other active runs leave room for only what fits', () => {
    const svc = accepted(desired('web', 3, { memory: 1 * Gi }), ['n1', 'n1', 'n1']);
    const w = world([svc, cronJob('a', { concurrency: 'allow' }), cronJob('b', { concurrency: 'allow' })]);
    step(w, T0 + 100);
    const placed = [...w.runs.values()].flatMap((s) => s.runs).filter((r) => r.startedAt);
    assert.equal(placed.length, 1, 'the node has 1 GiB left after the service: one of two runs fits');
    const waiting = [...w.runs.values()].flatMap((s) => s.runs).filter((r) => !r.startedAt);
    assert.equal(waiting.length, 1);
    // The placed run ends: the waiting one gets its room.
    const done = placed[0]!;
    const job = done.run.startsWith('a-') ? 'a' : 'b';
    finish(w, job, done.run, exitOk(T0 + 1_000), T0 + 1_000);
    const r = step(w, T0 + 1_100);
    assert.equal(r.events.filter((e) => e.what === 'placed').length, 1);
  });

  test('an exit settles the run: success into history; failure retried while retries remain', () => {
    const w = world([cronJob('ok'), cronJob('flaky', { retries: 1 })]);
    step(w, T0 + 100);
    const okRun = w.runs.get('ok')!.runs[0]!;
    const res = finish(w, 'ok', okRun.run, exitOk(T0 + 900), T0 + 900);
    assert.equal(res.kind, 'applied');
    if (res.kind !== 'applied' || res.settled.kind !== 'done') throw new Error('expected a finished run');
    assert.equal(res.settled.record.result, 'succeeded');
    assert.deepEqual(res.settled.record.exitCodes, { app: 0 });
    assert.equal(res.settled.record.output.app, 'hello\n');
    assert.equal(w.runs.get('ok')!.runs.length, 0);

    const flaky = w.runs.get('flaky')!.runs[0]!;
    const fail: InstanceExit = { exitCodes: { app: 3 }, reason: 'container "app": exit code 3', output: {}, finishedAt: new Date(T0 + 900).toISOString() };
    const r1 = finish(w, 'flaky', flaky.run, fail, T0 + 900);
    assert.ok(r1.kind === 'applied' && r1.settled.kind === 'retry');
    assert.equal(w.runs.get('flaky')!.runs[0]!.attempt, 1);
    assert.equal(w.runs.get('flaky')!.runs[0]!.instances[0]!.node, null);
    const stale = applyExit(w.runs.get('flaky')!, flaky.run, 0, 0, flaky.instances[0]!.node!, fail, w.jobs.get('flaky')!.spec.cron!, new Date(T0 + 950).toISOString());
    assert.equal(stale.kind, 'stale', 'the old attempt cannot report again');
    step(w, T0 + 1_000);
    const r2 = finish(w, 'flaky', flaky.run, fail, T0 + 1_500);
    assert.ok(r2.kind === 'applied' && r2.settled.kind === 'done');
    assert.equal(r2.settled.record.result, 'failed');
    assert.match(r2.settled.record.reason!, /exit code 3 \(attempt 2 of 2\)/);
  });

  test('a run on a node that died fails with "node lost", or is retried elsewhere', () => {
    const nodes = [node('n1', { memory: 4 * Gi }), node('n2', { memory: 4 * Gi })];
    const w = world([cronJob('once'), cronJob('again', { retries: 2 })], nodes);
    step(w, T0 + 100);
    const lostNode = w.runs.get('once')!.runs[0]!.instances[0]!.node!;
    const again0 = w.runs.get('again')!.runs[0]!.instances[0]!.node!;
    w.nodes = nodes.filter((n) => n.name !== lostNode);
    const r = step(w, T0 + 2_000);
    const lost = r.history.find((h) => h.job === 'once');
    assert.equal(lost?.record.result, 'failed');
    assert.equal(lost?.record.reason, 'node lost');
    if (again0 === lostNode) {
      const run = w.runs.get('again')!.runs[0]!;
      assert.equal(run.attempt, 1);
      assert.notEqual(run.instances[0]!.node, lostNode, 'retried on a live node');
    }
  });

  test('catchUp one: a single run for all the times missed while no agent was up; none: one missed record', () => {
    const policy = { startingDeadlineMs: 5_000 };
    const one = world([cronJob('one', { ...policy, catchUp: 'one' })]);
    const none = world([cronJob('none', { ...policy, catchUp: 'none' })]);
    step(one, T0 + 100);
    step(none, T0 + 100);
    // Finish the first runs, then every agent is down for ~65 s.
    finish(one, 'one', one.runs.get('one')!.runs[0]!.run, exitOk(T0 + 500), T0 + 500);
    finish(none, 'none', none.runs.get('none')!.runs[0]!.run, exitOk(T0 + 500), T0 + 500);
    const back = T0 + 65_000;
    const r1 = step(one, back);
    const claimed = r1.events.filter((e) => e.what === 'claimed' || e.what === 'caught-up' || e.what === 'skipped');
    assert.deepEqual(
      claimed.map((e) => e.what),
      ['claimed', 'caught-up', 'skipped'],
      'the catch-up run, then the live time 60 s (within the deadline), which forbid skips',
    );
    const runs = one.runs.get('one')!.runs;
    // forbid (default): the catch-up run is active when the live time is claimed, so that one is skipped.
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.run, `one-${sec(T0) + 50}`, 'named after the latest missed time');
    assert.equal(runs[0]!.catchUp, true);
    assert.deepEqual(
      r1.history.map((h) => h.record.result),
      ['skipped'],
    );

    const r2 = step(none, back);
    assert.deepEqual(
      r2.history.map((h) => [h.record.result, h.record.run]),
      [['missed', `none-${sec(T0) + 50}`]],
    );
    assert.match(r2.history[0]!.record.reason!, /5 scheduled times passed while no agent was up \(catchUp: none\)/);
    assert.deepEqual(
      none.runs.get('none')!.runs.map((r) => r.run),
      [`none-${sec(T0) + 60}`],
      'the live time still runs',
    );
    assert.equal(none.runs.get('none')!.cursor, sec(T0) + 60);
  });

  test('a job that is no longer a cron job loses its run state', () => {
    const w = world([cronJob('gone')]);
    step(w, T0 + 100);
    w.jobs.delete('gone');
    const r = step(w, T0 + 200);
    assert.deepEqual(r.deleteRuns, ['gone']);
  });

  test('several pods per run are placed whole or not at all', () => {
    const nodes = [node('n1', { memory: 4 * Gi }), node('n2', { memory: 4 * Gi })];
    const three = world([cronJob('gang', { instances: 3 }, 3 * Gi)], nodes);
    step(three, T0 + 100);
    const run = three.runs.get('gang')!.runs[0]!;
    assert.equal(run.startedAt, undefined, 'two nodes hold one 3 GiB pod each: not three');
    assert.deepEqual(run.instances, [{ node: null }, { node: null }, { node: null }], 'none placed, none held');
    const two = world([cronJob('pair', { instances: 2 }, 3 * Gi)], nodes);
    step(two, T0 + 100);
    assert.deepEqual(two.runs.get('pair')!.runs[0]!.instances.map((i) => i.node).sort(), ['n1', 'n2']);
  });

  test('run pods spread over the nodes (each engine starts its share), not packed onto one', () => {
    const nodes = [node('n1', { memory: 8 * Gi }), node('n2', { memory: 8 * Gi }), node('n3', { memory: 8 * Gi })];
    const w = world(Array.from({ length: 6 }, (_, i) => cronJob(`j${i}`, {}, 64 * 1024 * 1024)), nodes);
    step(w, T0 + 100);
    const perNode = new Map<string, number>();
    for (const s of w.runs.values()) for (const r of s.runs) for (const i of r.instances) perNode.set(i.node!, (perNode.get(i.node!) ?? 0) + 1);
    assert.deepEqual([...perNode.values()], [2, 2, 2]);
  });

  test('a node back under a new lease lost its run pods: "node lost", never run again under the new lease', () => {
    const w = world([cronJob('once')], [node('n1', { memory: 4 * Gi })]);
    step(w, T0 + 100);
    const placed = w.runs.get('once')!.runs[0]!;
    assert.equal(placed.instances[0]!.lease, w.nodes[0]!.leaseId, 'the pod remembers the lease it was placed under');
    assert.equal(runSlotsFor('n1', w.nodes[0]!.leaseId, w.runs.values(), (n) => w.jobs.get(n)).length, 1);
    assert.equal(runSlotsFor('n1', 'another-lease', w.runs.values(), (n) => w.jobs.get(n)).length, 0, 'the node under its new lease does not start it again');
    w.nodes = [{ ...w.nodes[0]!, leaseId: 'another-lease' }];
    const r = step(w, T0 + 2_000);
    assert.deepEqual(
      r.history.map((h) => [h.record.result, h.record.reason]),
      [['failed', 'node lost']],
    );
  });
});
