// The node side of cron runs against a real podman service: a run pod runs
// to completion, its exit (codes, reason, 4 KiB output tail) is reported,
// and only then are its containers removed; activeDeadline stops it; an
// unassigned run is removed without a report; a restarted executor adopts a
// running pod and reports one that exited while it was away; a failing
// reporter is retried while the containers stay.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import pino from 'pino';
import { RunExecutor, type RunAssignment, type RunReporter } from '../../../src/agent/run-executor';
import { OUTPUT_TAIL_BYTES, runInstanceName, runName, type InstanceExit } from '../../../src/model/cron';
import { DEFAULT_CRON, type ContainerSpec, type JobSpec } from '../../../src/model/job';
import { LABEL, PodRuntime, createEngine, type ContainerEngine, type InspectedContainer } from '../../../src/runtime';
import { tempDir } from '../../harness/tmp';
import { waitFor } from '../../harness/wait';
import { spec as container, startRuntimeFixture, type RuntimeFixture } from '../runtime/fixtures';

const log = pino({ level: process.env.OZY_TEST_LOG ?? 'silent' }, pino.destination(2));

let fx: RuntimeFixture;
let tmp: { dir: string; cleanup: () => void };
const executors: RunExecutor[] = [];
before(async () => {
  fx = await startRuntimeFixture();
  tmp = tempDir('ozy-runs-');
});
after(async () => {
  await Promise.all(executors.map((e) => e.stop()));
  // Removes every container labelled with this test's node prefix.
  await fx?.podman.stop();
  tmp?.cleanup();
});

/** Records every report; `failures` makes the first N calls reject; the calls after them go through once `gate` resolves. */
class RecordingReporter implements RunReporter {
  readonly reports: Array<{ a: RunAssignment; exit: InstanceExit }> = [];
  calls = 0;
  constructor(
    private failures = 0,
    private readonly gate: Promise<void> = Promise.resolve(),
  ) {}
  async reportExit(a: RunAssignment, exit: InstanceExit): Promise<void> {
    this.calls++;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('etcd unavailable (test)');
    }
    await this.gate;
    this.reports.push({ a, exit });
  }
  exitOf(instance: string): Promise<InstanceExit> {
    return waitFor(`the exit of ${instance}`, () => this.reports.find((r) => r.a.instance === instance)?.exit, { timeoutMs: 30_000 });
  }
}

function cronJob(name: string, containers: ContainerSpec[], extra: Partial<JobSpec> = {}): JobSpec {
  return { name, type: 'cron', numInstances: 0, containers, cron: { ...DEFAULT_CRON, schedule: '* * * * *', instances: 1 }, stopGraceMs: 1000, ...extra };
}

let seq = 1_700_000_000;
function assignment(spec: JobSpec, extra: Partial<RunAssignment> = {}): RunAssignment {
  const run = runName(spec.name, seq++);
  return { job: spec.name, run, instance: runInstanceName(run, 0), attempt: 0, spec, startedAt: new Date().toISOString(), ...extra };
}

function sh(script: string): string[] {
  return ['/bin/sh', '-c', script];
}

interface Node {
  name: string;
  executor: RunExecutor;
  reporter: RecordingReporter;
  /** A new executor for the same node: a new engine client, as after an agent restart. */
  restart(reporter: RecordingReporter): RunExecutor;
}

async function startNode(suffix: string, reporter = new RecordingReporter()): Promise<Node> {
  const name = fx.podman.node(suffix);
  const make = (engine: ContainerEngine, rep: RecordingReporter): RunExecutor => {
    const pods = new PodRuntime({
      engine,
      node: name,
      volumes: { dataDir: path.join(tmp.dir, name, 'data'), sharedRoot: path.join(tmp.dir, name, 'shared') },
      ownerNetwork: 'none',
      stopTimeoutSec: 1,
    });
    const ex = new RunExecutor({ node: name, engine, pods, reporter: rep, log: log.child({ node: name }), retry: { baseMs: 300, maxMs: 1000 } });
    executors.push(ex);
    return ex;
  };
  const executor = make(fx.engine, reporter);
  await executor.start();
  return { name, executor, reporter, restart: (rep) => make(createEngine({ socketPath: fx.podman.socketPath, registryAuth: [] }), rep) };
}

function containersOf(node: string, instance: string): Promise<InspectedContainer[]> {
  return fx.engine.listManaged(node, { instance });
}

function running(node: string, instance: string, count = 1): Promise<InspectedContainer[]> {
  return waitFor(`${instance} running`, async () => {
    const list = await containersOf(node, instance);
    return list.length === count && list.every((c) => c.state === 'running') ? list : undefined;
  });
}

function removed(node: string, instance: string): Promise<true> {
  return waitFor(`${instance} removed`, async () => (await containersOf(node, instance)).length === 0);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('RunExecutor (podman)', () => {
  test('a run that echoes and exits 0: exit and output reported, then its containers removed', async () => {
    const n = await startNode('ok');
    const a = assignment(cronJob('hello', [container('main', { command: sh('echo hello; echo oops >&2') })]));
    n.executor.assign([a]);
    const exit = await n.reporter.exitOf(a.instance);
    assert.deepEqual(exit.exitCodes, { main: 0 });
    assert.equal(exit.reason, undefined);
    assert.equal(exit.output.main, 'hello\noops\n');
    assert.ok(!Number.isNaN(Date.parse(exit.finishedAt)));
    await removed(n.name, a.instance);
    // Idempotent: the same assignment again neither starts nor reports anything.
    n.executor.assign([a]);
    await sleep(500);
    assert.equal(n.reporter.calls, 1);
    assert.equal((await containersOf(n.name, a.instance)).length, 0);
  });

  test('a two-container run whose second container exits 3: the reason names it', async () => {
    const n = await startNode('fail');
    // The first container holds the pod's network namespace: it must still run when the others start (see run-executor.ts).
    const a = assignment(cronJob('fails', [container('main', { command: sh('echo ok; sleep 1') }), container('check', { command: sh('echo bad; exit 3') })]));
    n.executor.assign([a]);
    const exit = await n.reporter.exitOf(a.instance);
    assert.deepEqual(exit.exitCodes, { main: 0, check: 3 }, exit.reason);
    assert.equal(exit.reason, 'container "check": exit code 3');
    assert.equal(exit.output.check, 'bad\n');
    await removed(n.name, a.instance);
  });

  test('output longer than 4 KiB: only the tail is kept', async () => {
    const n = await startNode('long');
    const a = assignment(cronJob('chatty', [container('main', { command: sh('i=1; while [ $i -le 2000 ]; do echo "line $i"; i=$((i+1)); done') })]));
    n.executor.assign([a]);
    const out = (await n.reporter.exitOf(a.instance)).output.main ?? '';
    assert.ok(Buffer.byteLength(out) <= OUTPUT_TAIL_BYTES, `${Buffer.byteLength(out)} bytes`);
    assert.ok(Buffer.byteLength(out) > OUTPUT_TAIL_BYTES - 20, `${Buffer.byteLength(out)} bytes`);
    assert.ok(out.endsWith('line 1999\nline 2000\n'));
    assert.ok(!out.includes('line 1\n'));
  });

  test('activeDeadline: the pod is stopped and reported as activeDeadline', async () => {
    const n = await startNode('deadline');
    const a = assignment(cronJob('slow', [container('main', { command: sh('echo started; exec /bin/sleep 600') })]), { activeDeadlineMs: 1500 });
    const t0 = Date.now();
    n.executor.assign([a]);
    const exit = await n.reporter.exitOf(a.instance);
    const took = Date.now() - t0;
    assert.equal(exit.reason, 'activeDeadline');
    // busybox sleep ignores SIGTERM: the job's 1 s stopGrace ends in SIGKILL.
    assert.equal(exit.exitCodes.main, 137);
    assert.equal(exit.output.main, 'started\n');
    assert.ok(took >= 1500 && took < 8000, `reported after ${took} ms`);
    await removed(n.name, a.instance);
  });

  test('unassigned while running: stopped and removed, no report', async () => {
    const n = await startNode('unassign');
    const a = assignment(cronJob('gone', [container('main', { command: ['/bin/sleep', '600'] })]));
    n.executor.assign([a]);
    await running(n.name, a.instance);
    n.executor.assign([]);
    await removed(n.name, a.instance);
    await sleep(1000);
    assert.equal(n.reporter.calls, 0);
  });

  test('restarted executor: a running pod is adopted (no second container), one that exited meanwhile is reported, one not assigned is removed', async () => {
    const first = new RecordingReporter();
    const n = await startNode('restart', first);
    // Runs until the test lets it finish (a file in its /tmp): still running once the restarted
    // executor has reported `exits` and removed `stale`, however loaded the machine, and no longer.
    const keeps = assignment(cronJob('keeps', [container('main', { command: sh('while [ ! -e /tmp/go ]; do sleep 0.1; done; echo done') })]));
    const exits = assignment(cronJob('exits', [container('main', { command: sh('sleep 1; echo bye; exit 7') })]));
    const stale = assignment(cronJob('stale', [container('main', { command: ['/bin/sleep', '600'] })]));
    n.executor.assign([keeps, exits, stale]);
    const [before] = await running(n.name, keeps.instance);
    await running(n.name, exits.instance);
    await running(n.name, stale.instance);
    assert.equal(before!.labels[LABEL.run], keeps.run);
    assert.equal(before!.labels[LABEL.attempt], '0');
    assert.equal(before!.labels[LABEL.job], 'keeps');
    assert.equal(before!.labels[LABEL.node], n.name);
    assert.equal(before!.labels[LABEL.container], 'main');
    // The agent goes away; `exits` ends while nobody watches.
    await n.executor.stop();
    await waitFor('exits to exit', async () => (await containersOf(n.name, exits.instance)).every((c) => c.state === 'exited'));
    assert.equal(first.calls, 0);

    const second = new RecordingReporter();
    const again = n.restart(second);
    await again.start();
    again.assign([keeps, exits]);
    const e = await second.exitOf(exits.instance);
    assert.deepEqual(e.exitCodes, { main: 7 });
    assert.equal(e.reason, 'container "main": exit code 7');
    assert.equal(e.output.main, 'bye\n');
    await removed(n.name, stale.instance);
    const now = await containersOf(n.name, keeps.instance);
    assert.deepEqual(now.map((c) => c.id), [before!.id], 'adopted: the same container, no second one');
    assert.equal((await fx.engine.exec(before!.id, ['/bin/touch', '/tmp/go'], 10_000)).exitCode, 0, 'keeps let go');
    const k = await second.exitOf(keeps.instance);
    assert.deepEqual(k.exitCodes, { main: 0 });
    assert.equal(k.output.main, 'done\n');
    await removed(n.name, keeps.instance);
    await removed(n.name, exits.instance);
    assert.equal(second.reports.filter((r) => r.a.instance === stale.instance).length, 0);
    assert.equal(first.calls, 0);
  });

  test('a reporter that rejects once is retried; the containers stay until the report went through', async () => {
    // The retry is held until the containers were looked at: a quick retry (300 ms back-off)
    // must not let the report through, and the containers go, before the test looks.
    let release = (): void => undefined;
    const reporter = new RecordingReporter(1, new Promise<void>((r) => (release = r)));
    const n = await startNode('retry', reporter);
    const a = assignment(cronJob('flaky', [container('main', { command: sh('echo once') })]));
    n.executor.assign([a]);
    await waitFor('the retry of the failed report', () => reporter.calls >= 2);
    const kept = await containersOf(n.name, a.instance);
    assert.equal(kept.length, 1, 'containers kept while the report failed');
    assert.equal(kept[0]!.state, 'exited');
    release();
    const exit = await reporter.exitOf(a.instance);
    assert.equal(reporter.calls, 2);
    assert.equal(exit.output.main, 'once\n');
    await removed(n.name, a.instance);
  });

  test('an image that cannot be pulled: reported at once with the pull error, nothing left behind', async () => {
    const n = await startNode('pull');
    const a = assignment(cronJob('nopull', [container('main', { image: 'localhost:1/ozy-missing:1', command: sh('true') })]));
    n.executor.assign([a]);
    const exit = await n.reporter.exitOf(a.instance);
    assert.match(exit.reason ?? '', /^image pull: /);
    assert.deepEqual(exit.exitCodes, { main: -1 });
    assert.equal((await containersOf(n.name, a.instance)).length, 0);
  });
});
