// Cron jobs end to end: three agent processes, real etcd, podman and git.
// Each scheduled time starts at most one run (counted from what the run
// pods themselves wrote, not from our records), ≥ 95 % of times get a run,
// also while agents are SIGKILLed; forbid / replace / allow; missed after
// startingDeadline; catch-up after every agent was down; activeDeadline;
// retries; exit codes and output in `ozy runs`; bounded history; time zones.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunRecord } from '../../../src/model/cron';
import { merge, shellJob, startClusterWithAgents, type TestCluster } from '../../harness/cluster';
import { waitFor } from '../../harness/wait';
import { createEngine } from '../../../src/runtime';
import { runCli } from '../../unit/cli/run-cli';

function cronJob(name: string, script: string, top: string[], container: string[] = []): string {
  return shellJob({ name, script, memory: '16M', cpu: '10m', top: ['type: cron', ...top], container });
}

interface RunsJson {
  job: string;
  nextRunAt: string | null;
  runs: RunRecord[];
}

async function runs(c: TestCluster, job: string): Promise<RunsJson> {
  const r = await runCli(['runs', job, '--etcd', c.etcd.endpoint, '--json'], process.cwd());
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as RunsJson;
}

const secOf = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/** Lines the run pods appended to the shared log of `job`: one per execution. */
function executions(c: TestCluster, job: string): string[] {
  const root = path.join(path.dirname(c.agents[0]!.dataDir), 'shared', job);
  if (!fs.existsSync(root)) return [];
  const lines: string[] = [];
  for (const dir of fs.readdirSync(root)) {
    const file = path.join(root, dir, 'runs.log');
    if (fs.existsSync(file)) lines.push(...fs.readFileSync(file, 'utf8').split('\n').filter(Boolean));
  }
  return lines;
}

/** Every run container of the cluster's nodes, from the engine. */
async function runContainers(c: TestCluster): Promise<Array<{ labels: Record<string, string> }>> {
  const engine = createEngine({ socketPath: c.podman.socketPath, registryAuth: [] });
  const all = await Promise.all(c.agents.map((a) => engine.listManaged(a.node, { hasLabel: 'ozy.run' })));
  return all.flat();
}

const SHARED = ['volumes:', '  - type: shared', '    path: /shared', '    space: 1M'];

describe('cron jobs end to end (3 agents on podman)', () => {
  let c: TestCluster;

  before(async () => {
    c = await startClusterWithAgents(['a', 'b', 'c'], { memory: '256M' });
  });
  after(async () => {
    await c?.stop();
  });

  test('every second: each scheduled time has at most one run and ≥ 95 % have one, also while agents are SIGKILLed', async (t) => {
    await merge(
      c.user,
      {
        'jobs/tick.yaml': cronJob('tick', 'echo "$OZY_RUN" >> /shared/runs.log; echo hello', [
          'schedule: "* * * * * *"',
          'concurrency: allow',
          'startingDeadline: 20s',
          'history: {succeeded: 100, failed: 100}',
        ], SHARED),
      },
      'every second',
    );
    await waitFor('the first run of tick', async () => executions(c, 'tick').length > 0, { timeoutMs: 60_000 });
    const from = Math.floor(Date.now() / 1000) + 1;
    await new Promise((r) => setTimeout(r, 15_000));
    const mid = Math.floor(Date.now() / 1000);
    // Phase 2: SIGKILL an agent every ~5 s and start it again on its data dir (within its lease).
    for (const victim of [c.agents[1]!, c.agents[0]!, c.agents[2]!]) {
      await victim.kill();
      await new Promise((r) => setTimeout(r, 1_000));
      await c.startAgent({ name: victim.node.slice(victim.node.lastIndexOf('-') + 1), memory: '256M', dataDir: victim.dataDir });
      await new Promise((r) => setTimeout(r, 4_000));
    }
    const to = Math.floor(Date.now() / 1000) - 1;
    // Let the last runs finish and report.
    await new Promise((r) => setTimeout(r, 6_000));
    const lines = executions(c, 'tick');
    const perRun = new Map<string, number>();
    for (const l of lines) perRun.set(l, (perRun.get(l) ?? 0) + 1);
    const duplicates = [...perRun.values()].filter((n) => n > 1).length;
    const recorded = new Map((await runs(c, 'tick')).runs.map((r) => [secOf(r.scheduledAt), r]));
    const figures = (lo: number, hi: number): { times: number; withRun: number; executed: number } => {
      let withRun = 0;
      let executed = 0;
      for (let s = lo; s <= hi; s++) {
        const r = recorded.get(s);
        if (r && r.result !== 'missed' && r.result !== 'skipped') withRun++;
        if (perRun.has(`tick-${s}`)) executed++;
      }
      return { times: hi - lo + 1, withRun, executed };
    };
    const quiet = figures(from, mid);
    const killed = figures(mid + 1, to);
    t.diagnostic(`quiet: ${quiet.withRun}/${quiet.times} times with a run, ${quiet.executed} executed; with SIGKILLs: ${killed.withRun}/${killed.times}, ${killed.executed} executed; duplicated executions: ${duplicates} of ${perRun.size} runs`);
    assert.equal(duplicates, 0, 'no scheduled time ran twice');
    assert.ok(quiet.withRun >= 0.95 * quiet.times, `quiet: ${quiet.withRun}/${quiet.times}`);
    assert.ok(killed.withRun >= 0.95 * killed.times, `with kills: ${killed.withRun}/${killed.times}`);
    await merge(c.user, { 'jobs/tick.yaml': null }, 'stop ticking');
  });

  test('forbid skips a time while a run is active; replace stops it; allow overlaps', async () => {
    const every2 = 'schedule: "*/2 * * * * *"';
    await merge(
      c.user,
      {
        'jobs/forbid.yaml': cronJob('forbid', 'sleep 5', [every2, 'concurrency: forbid']),
        'jobs/replace.yaml': cronJob('replace', "trap 'exit 0' TERM; sleep 60 & wait", [every2, 'concurrency: replace', 'stopGrace: 1s']),
        'jobs/allow.yaml': cronJob('allow', 'sleep 5', [every2, 'concurrency: allow']),
      },
      'three policies',
    );
    const skipped = await waitFor('forbid: a skipped record', async () => (await runs(c, 'forbid')).runs.find((r) => r.result === 'skipped'), { timeoutMs: 60_000 });
    assert.match(skipped.reason ?? '', /still active \(concurrency: forbid\)/);
    const f = await runs(c, 'forbid');
    const started = f.runs.filter((r) => r.startedAt !== null).sort((a, b) => (a.startedAt! < b.startedAt! ? -1 : 1));
    for (let i = 1; i < started.length; i++) {
      if (started[i - 1]!.finishedAt) assert.ok(started[i]!.startedAt! >= started[i - 1]!.finishedAt!, 'forbid: runs never overlap');
    }
    const replaced = await waitFor('replace: a replaced record', async () => (await runs(c, 'replace')).runs.find((r) => r.result === 'replaced'), { timeoutMs: 60_000 });
    assert.match(replaced.reason ?? '', /replaced by replace-\d+/);
    await waitFor('replace: the replaced pod is gone', async () => {
      return (await runContainers(c)).every((x) => x.labels['ozy.run'] !== replaced.run);
    }, { timeoutMs: 30_000 });
    await waitFor('allow: two runs active at once', async () => (await runs(c, 'allow')).runs.filter((r) => r.result === 'running').length >= 2, { timeoutMs: 60_000 });
    await merge(c.user, { 'jobs/forbid.yaml': null, 'jobs/replace.yaml': null, 'jobs/allow.yaml': null }, 'policies done');
  });

  test('no room: missed after startingDeadline, with the reason', async () => {
    await merge(c.user, { 'jobs/huge.yaml': shellJob({ name: 'huge', script: 'true', memory: '512M', cpu: '10m', top: ['type: cron', 'schedule: "*/5 * * * * *"', 'startingDeadline: 3s'] }) }, 'too big');
    const missed = await waitFor('a missed record', async () => (await runs(c, 'huge')).runs.find((r) => r.result === 'missed'), { timeoutMs: 40_000 });
    assert.match(missed.reason ?? '', /not started within startingDeadline 3s: .*memory/);
    assert.equal(missed.startedAt, null);
    await merge(c.user, { 'jobs/huge.yaml': null }, 'remove huge');
  });

  test('activeDeadline stops a run; retries restart a failed one; exit codes and output in ozy runs; history is bounded', async () => {
    await merge(
      c.user,
      {
        'jobs/slow.yaml': cronJob('slow', "trap 'exit 0' TERM; sleep 60 & wait", ['schedule: "*/10 * * * * *"', 'activeDeadline: 2s', 'stopGrace: 1s']),
        'jobs/fails.yaml': cronJob('fails', 'echo "attempt $OZY_RUN_ATTEMPT"; exit 3', ['schedule: "*/10 * * * * *"', 'retries: 1']),
        'jobs/often.yaml': cronJob('often', 'echo ok', ['schedule: "*/2 * * * * *"', 'history: {succeeded: 2, failed: 1}']),
      },
      'deadline, retries, history',
    );
    const slow = await waitFor('slow: failed by activeDeadline', async () => (await runs(c, 'slow')).runs.find((r) => r.result === 'failed'), { timeoutMs: 60_000 });
    assert.equal(slow.reason, 'activeDeadline');
    const took = Date.parse(slow.finishedAt!) - Date.parse(slow.startedAt!);
    assert.ok(took < 15_000, `stopped soon after its 2 s deadline (took ${took} ms)`);

    const failed = await waitFor('fails: failed after its retry', async () => (await runs(c, 'fails')).runs.find((r) => r.result === 'failed'), { timeoutMs: 60_000 });
    assert.deepEqual(failed.exitCodes, { app: 3 }, JSON.stringify(failed) + '\n' + c.agents.flatMap((a) => a.logs().split('\n').filter((l) => l.includes('"fails-'))).join('\n'));
    assert.match(failed.reason ?? '', /container "app": exit code 3 \(attempt 2 of 2\)/);
    assert.equal(failed.output.app, 'attempt 1\n', 'the output of the last attempt');

    await waitFor('often: more succeeded runs than kept', async () => {
      const r = await runs(c, 'often');
      return r.runs.some((x) => secOf(x.scheduledAt) > Math.floor(Date.now() / 1000) - 60) && r.runs.filter((x) => x.result === 'succeeded').length >= 2;
    }, { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 6_000));
    // Records beyond the bounds are deleted right after the round that added them
    // (cron-driver.ts trim), not in its transaction: a read between the two sees one
    // too many (CI did once), so the bounds must hold again within a few seconds.
    const ended = (x: { result: string }): boolean => x.result !== 'running' && x.result !== 'pending';
    const often = await waitFor('often: history within its bounds', async () => {
      const r = await runs(c, 'often');
      return r.runs.filter((x) => x.result === 'succeeded').length <= 2 && r.runs.filter((x) => ended(x) && x.result !== 'succeeded').length <= 1 ? r : undefined;
    }, { timeoutMs: 10_000, intervalMs: 200 }).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify((await runs(c, 'often')).runs.map((x) => [x.scheduledAt, x.result, x.reason]))}`);
    });
    assert.ok(often.nextRunAt && Date.parse(often.nextRunAt) > Date.now() - 2_000);
    assert.equal(often.runs[0]!.output.app ?? 'ok\n', 'ok\n');
    await merge(c.user, { 'jobs/slow.yaml': null, 'jobs/fails.yaml': null, 'jobs/often.yaml': null }, 'done');
  });

  test('a run on a node that dies fails with "node lost"', async () => {
    const doomed = await c.startAgent({ name: 'doomed', memory: '256M', extraArgs: ['--label', 'role=doomed'] });
    await merge(
      c.user,
      { 'jobs/lost.yaml': cronJob('lost', "trap 'exit 0' TERM; sleep 120 & wait", ['schedule: "*/2 * * * * *"', 'placement: {nodeLabels: {role: doomed}}', 'startingDeadline: 1s']) },
      'a run on the doomed node',
    );
    const running = await waitFor('a run of lost running on the doomed node', async () => (await runs(c, 'lost')).runs.find((r) => r.result === 'running' && r.node === doomed.node), { timeoutMs: 60_000 });
    await doomed.kill();
    const lost = await waitFor('its record: failed, node lost', async () => (await runs(c, 'lost')).runs.find((r) => r.run === running.run && r.result === 'failed'), { timeoutMs: 30_000 });
    assert.equal(lost.reason, 'node lost');
    assert.equal(lost.node, doomed.node);
    await merge(c.user, { 'jobs/lost.yaml': null }, 'lost done');
  });

  test('a timeZone other than UTC shifts the run times', async () => {
    // Asia/Kolkata is UTC+5:30: its minute differs from UTC's by 30.
    const at = new Date(Date.now() + 25_000);
    const minute = Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Kolkata', minute: '2-digit' }).format(at));
    await merge(c.user, { 'jobs/kolkata.yaml': cronJob('kolkata', 'echo namaste', [`schedule: "*/3 ${minute} * * * *"`, 'timeZone: Asia/Kolkata']) }, 'zone');
    const first = await waitFor('a run in that Kolkata minute', async () => (await runs(c, 'kolkata')).runs.find((r) => r.startedAt !== null), { timeoutMs: 100_000 });
    const d = new Date(first.scheduledAt);
    assert.equal(d.getUTCMinutes(), (minute + 30) % 60, 'the UTC minute is the Kolkata minute shifted by 30');
    assert.equal(d.getUTCSeconds() % 3, 0);
    await merge(c.user, { 'jobs/kolkata.yaml': null }, 'zone done');
  });

  test('every agent down for several periods: catchUp one runs once, none not at all', async () => {
    await merge(
      c.user,
      {
        'jobs/one.yaml': cronJob('one', 'echo caught up', ['schedule: "*/5 * * * * *"', 'startingDeadline: 2s', 'catchUp: one']),
        'jobs/none.yaml': cronJob('none', 'echo hi', ['schedule: "*/5 * * * * *"', 'startingDeadline: 2s', 'catchUp: none']),
      },
      'catch-up jobs',
    );
    await waitFor('both have run once', async () => (await runs(c, 'one')).runs.length > 0 && (await runs(c, 'none')).runs.length > 0, { timeoutMs: 60_000 });
    const agents = c.agents.filter((a) => !a.exited());
    await Promise.all(agents.map((a) => a.kill()));
    const down = Math.floor(Date.now() / 1000);
    await new Promise((r) => setTimeout(r, 17_000));
    const up = Math.floor(Date.now() / 1000);
    for (const a of agents) await c.startAgent({ name: a.node.slice(a.node.lastIndexOf('-') + 1), memory: '256M', dataDir: a.dataDir });
    // The first round after the outage stands for every time missed: one catch-up run, or one missed record.
    // Found once it has started: on a loaded machine the catch-up run can still be pending when first listed.
    const caught = await waitFor('one: the catch-up run, started', async () => (await runs(c, 'one')).runs.find((r) => r.catchUp === true && secOf(r.scheduledAt) > down && r.startedAt !== null), { timeoutMs: 60_000 }).catch((err: unknown) => {
      for (const a of c.agents) fs.writeFileSync(path.join(os.tmpdir(), `cron-catchup-${a.node}.log`), a.logs());
      throw err;
    });
    assert.ok(secOf(caught.scheduledAt) < up + 60, 'named after a time missed during the outage');
    const missed = await waitFor('none: the missed record', async () => (await runs(c, 'none')).runs.find((r) => r.result === 'missed' && secOf(r.scheduledAt) > down), { timeoutMs: 60_000 });
    assert.match(missed.reason ?? '', /\d+ scheduled times? passed while no agent was up \(catchUp: none\)/);
    const o = await runs(c, 'one');
    const n = await runs(c, 'none');
    // Times up to the catch-up's (or the missed record's) came while no agent was up: nothing else ran for them.
    const ranOne = o.runs.filter((r) => secOf(r.scheduledAt) > down && secOf(r.scheduledAt) <= secOf(caught.scheduledAt) && r.startedAt !== null);
    assert.deepEqual(ranOne.map((r) => r.run), [caught.run], 'catchUp one: exactly one run for the outage');
    const ranNone = n.runs.filter((r) => secOf(r.scheduledAt) > down && secOf(r.scheduledAt) <= secOf(missed.scheduledAt) && r.startedAt !== null);
    assert.deepEqual(ranNone, [], 'catchUp none: no run for the outage');
    assert.equal(n.runs.filter((r) => r.result === 'missed' && secOf(r.scheduledAt) > down).length, 1, 'one missed record, however many times passed');
    assert.ok(n.runs.every((r) => r.catchUp === undefined));
    await merge(c.user, { 'jobs/one.yaml': null, 'jobs/none.yaml': null }, 'catch-up done');
  });
});
