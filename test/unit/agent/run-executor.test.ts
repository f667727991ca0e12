// RunExecutor against an in-memory engine and pod runtime: idempotence,
// attempts, unassignment in the middle of a start, start failures, and
// leftovers that are only removed once an assignment is known.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { RunExecutor, type RunAssignment, type RunReporter } from '../../../src/agent/run-executor';
import type { InstanceExit } from '../../../src/model/cron';
import { DEFAULT_CRON, type JobSpec } from '../../../src/model/job';
import {
  ContainerNotFoundError,
  EngineUnavailableError,
  LABEL,
  PodStartError,
  PullError,
  type EngineEventHandlers,
  type EngineEventStream,
  type InspectedContainer,
  type ManagedFilter,
  type PodSpec,
  type StartedPod,
} from '../../../src/runtime';
import { waitFor } from '../../harness/wait';

const NODE = 'n1';

class FakeEngineAndPods {
  readonly containers = new Map<string, InspectedContainer>();
  readonly output = new Map<string, string>();
  readonly ops: string[] = [];
  private handlers: EngineEventHandlers[] = [];
  private next = 1;
  /** While set, startPod waits for it. */
  gate: Promise<void> | undefined;
  /** The next startPod fails with it. */
  startError: Error | undefined;

  async listManaged(node: string, f: ManagedFilter = {}): Promise<InspectedContainer[]> {
    return [...this.containers.values()].filter(
      (c) =>
        c.labels[LABEL.node] === node &&
        (f.instance === undefined || c.labels[LABEL.instance] === f.instance) &&
        (f.hasLabel === undefined || c.labels[f.hasLabel] !== undefined),
    );
  }
  async inspect(id: string): Promise<InspectedContainer> {
    const c = this.containers.get(id);
    if (!c) throw new ContainerNotFoundError(`no container ${id}`);
    return { ...c };
  }
  async outputTail(id: string): Promise<Buffer> {
    return Buffer.from(this.output.get(id) ?? '');
  }
  async events(_o: unknown, h: EngineEventHandlers): Promise<EngineEventStream> {
    this.handlers.push(h);
    return { close: () => (this.handlers = this.handlers.filter((x) => x !== h)) };
  }

  async startPod(pod: PodSpec): Promise<StartedPod> {
    this.ops.push(`start ${pod.instance}#${pod.labels?.[LABEL.attempt]}`);
    await this.gate;
    const err = this.startError;
    this.startError = undefined;
    if (err) throw err;
    const started = pod.containers.map((c, i) => {
      const id = `c${this.next++}`;
      const labels = { ...pod.labels, [LABEL.node]: NODE, [LABEL.instance]: pod.instance, [LABEL.job]: pod.job, [LABEL.container]: c.name, [LABEL.owner]: String(i === 0) };
      this.containers.set(id, { id, name: id, labels, state: 'running', exitCode: 0, oomKilledReported: false, memoryLimit: 0, stoppedByUs: false, oomKilled: false });
      return { name: c.name, id, owner: i === 0 };
    });
    return { instance: pod.instance, containers: started };
  }
  async stopPod(instance: string): Promise<void> {
    this.ops.push(`remove ${instance}`);
    for (const [id, c] of this.containers) if (c.labels[LABEL.instance] === instance) this.containers.delete(id);
  }
  /** A finished pod is removed container by container, the owner (first) last: logged once per pod, as stopPod is. */
  async remove(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    if (c.labels[LABEL.owner] === 'true') this.ops.push(`remove ${c.labels[LABEL.instance]}`);
    this.containers.delete(id);
  }
  async haltPod(instance: string): Promise<void> {
    this.ops.push(`halt ${instance}`);
    for (const c of this.containers.values()) if (c.labels[LABEL.instance] === instance) this.exit(c.id, 137);
  }
  async cleanupVolumes(): Promise<void> {}

  /** The container exits with `code` and the engine says so. */
  exit(id: string, code: number, output = ''): void {
    const c = this.containers.get(id)!;
    Object.assign(c, { state: 'exited', exitCode: code, finishedAt: new Date().toISOString() });
    this.output.set(id, output);
    for (const h of this.handlers) h.onEvent({ action: 'die', rawAction: 'die', id, labels: c.labels, exitCode: code, timeNano: 0n });
  }
  idsOf(instance: string): string[] {
    return [...this.containers.values()].filter((c) => c.labels[LABEL.instance] === instance).map((c) => c.id);
  }
}

class Reporter implements RunReporter {
  readonly reports: Array<{ a: RunAssignment; exit: InstanceExit }> = [];
  async reportExit(a: RunAssignment, exit: InstanceExit): Promise<void> {
    this.reports.push({ a, exit });
  }
}

const spec: JobSpec = {
  name: 'job',
  type: 'cron',
  numInstances: 0,
  cron: { ...DEFAULT_CRON, schedule: '* * * * *', instances: 1 },
  containers: [{ name: 'main', image: 'img', restart: 'never', environment: [], ports: [], dependsOn: [], memory: 0, cpu: 0, volumes: [] }],
};

function assignment(extra: Partial<RunAssignment> = {}): RunAssignment {
  return { job: 'job', run: 'job-100', instance: 'job-100-0', attempt: 0, spec, startedAt: new Date().toISOString(), ...extra };
}

function setup(): { fake: FakeEngineAndPods; reporter: Reporter; ex: RunExecutor } {
  const fake = new FakeEngineAndPods();
  const reporter = new Reporter();
  const ex = new RunExecutor({ node: NODE, engine: fake, pods: fake, reporter, log: pino({ level: 'silent' }), retry: { baseMs: 5, maxMs: 20 } });
  return { fake, reporter, ex };
}

const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('RunExecutor', () => {
  test('the same assignment again starts nothing new and reports once', async () => {
    const { fake, reporter, ex } = setup();
    await ex.start();
    const a = assignment();
    ex.assign([a]);
    ex.assign([a]);
    await waitFor('running', () => fake.idsOf(a.instance).length === 1);
    ex.assign([a]);
    fake.exit(fake.idsOf(a.instance)[0]!, 0, 'hi\n');
    await waitFor('reported and removed', () => reporter.reports.length === 1 && fake.idsOf(a.instance).length === 0);
    ex.assign([a]);
    await tick();
    assert.deepEqual(fake.ops, ['start job-100-0#0', 'remove job-100-0']);
    assert.deepEqual(reporter.reports[0]!.exit.output, { main: 'hi\n' });
    assert.deepEqual(ex.phases(), [{ instance: 'job-100-0', run: 'job-100', attempt: 0, phase: 'done' }]);
    await ex.stop();
  });

  test('a new attempt under the same instance name starts again and is reported as that attempt', async () => {
    const { fake, reporter, ex } = setup();
    await ex.start();
    ex.assign([assignment()]);
    await waitFor('attempt 0 running', () => fake.idsOf('job-100-0').length === 1);
    fake.exit(fake.idsOf('job-100-0')[0]!, 1);
    await waitFor('attempt 0 reported', () => reporter.reports.length === 1);
    ex.assign([assignment({ attempt: 1 })]);
    await waitFor('attempt 1 running', () => fake.idsOf('job-100-0').length === 1);
    fake.exit(fake.idsOf('job-100-0')[0]!, 0);
    await waitFor('attempt 1 reported', () => reporter.reports.length === 2);
    assert.deepEqual(reporter.reports.map((r) => [r.a.attempt, r.exit.reason]), [[0, 'container "main": exit code 1'], [1, undefined]]);
    await ex.stop();
  });

  test('unassigned while its start is under way: removed once the start returns, no report', async () => {
    const { fake, reporter, ex } = setup();
    let open!: () => void;
    fake.gate = new Promise((r) => (open = r));
    await ex.start();
    ex.assign([assignment()]);
    await waitFor('start begun', () => fake.ops.length === 1);
    ex.assign([]);
    open();
    await waitFor('removed', () => fake.ops.includes('remove job-100-0') && fake.idsOf('job-100-0').length === 0);
    await tick();
    assert.equal(reporter.reports.length, 0);
    await ex.stop();
  });

  test('a pull failure is reported at once; an unreachable engine is retried instead', async () => {
    const { fake, reporter, ex } = setup();
    await ex.start();
    fake.startError = new PodStartError('job-100-0', 'main', 'pull', new PullError('img', 'manifest unknown'));
    ex.assign([assignment()]);
    await waitFor('reported', () => reporter.reports.length === 1);
    assert.equal(reporter.reports[0]!.exit.reason, 'image pull: manifest unknown');
    assert.deepEqual(reporter.reports[0]!.exit.exitCodes, { main: -1 });
    assert.equal(fake.ops.filter((o) => o.startsWith('start')).length, 1);
    // The engine away: not the run's fault, the start is tried again.
    fake.startError = new PodStartError('job-200-0', 'main', 'pull', new EngineUnavailableError('socket gone'));
    ex.assign([assignment({ run: 'job-200', instance: 'job-200-0' })]);
    await waitFor('started on the second try', () => fake.idsOf('job-200-0').length === 1);
    assert.equal(fake.ops.filter((o) => o.startsWith('start job-200-0')).length, 2);
    assert.equal(reporter.reports.length, 1);
    await ex.stop();
  });

  test('activeDeadline: halted, then reported with the codes as they ended', async () => {
    const { fake, reporter, ex } = setup();
    await ex.start();
    ex.assign([assignment({ activeDeadlineMs: 50 })]);
    await waitFor('reported', () => reporter.reports.length === 1);
    assert.deepEqual(reporter.reports[0]!.exit.exitCodes, { main: 137 });
    assert.equal(reporter.reports[0]!.exit.reason, 'activeDeadline');
    assert.deepEqual(fake.ops, ['start job-100-0#0', 'halt job-100-0', 'remove job-100-0']);
    await ex.stop();
  });

  test('leftovers are kept until an assignment is known, then removed without a report; assigned ones are adopted', async () => {
    const { fake, reporter, ex } = setup();
    // An earlier executor's pods: one still assigned, one not.
    await fake.startPod({ job: 'job', instance: 'job-100-0', specHash: 'h', containers: spec.containers, labels: { [LABEL.run]: 'job-100', [LABEL.attempt]: '0' } });
    await fake.startPod({ job: 'job', instance: 'job-50-0', specHash: 'h', containers: spec.containers, labels: { [LABEL.run]: 'job-50', [LABEL.attempt]: '0' } });
    fake.ops.length = 0;
    await ex.start();
    await tick();
    assert.deepEqual(fake.ops, [], 'nothing touched before the first assignment');
    ex.assign([assignment()]);
    await waitFor('leftover removed', () => fake.idsOf('job-50-0').length === 0);
    assert.deepEqual(fake.ops, ['remove job-50-0'], 'the assigned pod is adopted, not started again');
    fake.exit(fake.idsOf('job-100-0')[0]!, 0);
    await waitFor('adopted pod reported', () => reporter.reports.length === 1);
    assert.equal(reporter.reports[0]!.a.instance, 'job-100-0');
    await ex.stop();
  });
});
