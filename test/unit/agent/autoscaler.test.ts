// The poller's autoscaler with fakes for the CPU records and the jobs: stale
// records do not count, a figure from a node the instance left does not
// count, scale-up waits a short window and then kicks the brain, scale-down waits its window, a
// withdrawn wish does not kick; and the brain commits a wanted count even
// when git and etcd are quiet.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { Autoscaler, SCALE_UP_WINDOW_MS, type CpuRecords } from '../../../src/agent/autoscaler';
import { Brain } from '../../../src/agent/brain';
import type { GitPort, ScheduleWrites, Snapshot, StorePort } from '../../../src/agent/ports';
import type { AutoscalePolicy, NodeCpu } from '../../../src/model/autoscale';
import type { AcceptedJob, NodeInfo } from '../../../src/model/cluster';
import { podTemplateHash } from '../../../src/model/hash';
import type { JobSpec } from '../../../src/model/job';

const POLICY: AutoscalePolicy = { min: 1, max: 10, cpuPercent: 50, scaleDownAfterMs: 10_000 };
const log = pino({ level: 'silent' });

function spec(n: number): JobSpec {
  return {
    name: 'web',
    numInstances: n,
    containers: [{ name: 'app', image: 'localhost/ozy-busybox:1', restart: 'always', environment: [], ports: [], dependsOn: [], memory: 64 * 1024 * 1024, cpu: 500, volumes: [] }],
    autoscale: POLICY,
  };
}
const HASH = podTemplateHash(spec(1));

function job(nodes: string[]): AcceptedJob {
  return { spec: spec(nodes.length), specHash: HASH, commit: 'c', file: 'jobs/web.yaml', acceptedAt: '', instances: nodes.map((n) => ({ node: n, since: '' })) };
}

/** Node → instance → percent of the 500m limit. */
function records(by: Record<string, Record<string, number>>): Map<string, NodeCpu> {
  const out = new Map<string, NodeCpu>();
  for (const [node, inst] of Object.entries(by)) {
    const instances: NodeCpu['instances'] = {};
    for (const [name, pct] of Object.entries(inst)) instances[name] = { job: 'web', spec: HASH, healthy: true, used: pct * 5, limit: 500 };
    out.set(node, { sampleMs: 1000, instances });
  }
  return out;
}

function fixture(jobs: AcceptedJob[]) {
  let clock = 0;
  let current = new Map<string, NodeCpu>();
  let kicks = 0;
  const cpu: CpuRecords = { records: () => current, close: async () => undefined };
  const a = new Autoscaler({ log, openCpu: async () => cpu, jobs: () => jobs, onWanted: () => kicks++, evalMs: 3_600_000, monotonic: () => clock });
  return {
    a,
    set: (r: Map<string, NodeCpu>) => (current = r),
    at: (t: number) => (clock = t),
    kicks: () => kicks,
  };
}

describe('Autoscaler', () => {
  test('load on: the wanted count appears once the load has lasted the scale-up window, and kicks the brain', async () => {
    const f = fixture([job(['a', 'b'])]);
    await f.a.attach();
    f.at(0);
    f.set(records({ a: { 'web-0': 100 }, b: { 'web-1': 100 } }));
    f.a.evaluate();
    assert.deepEqual([...f.a.wanted().counts], [], 'not on the first look');
    f.at(SCALE_UP_WINDOW_MS);
    f.set(records({ a: { 'web-0': 100 }, b: { 'web-1': 100 } }));
    f.a.evaluate();
    assert.deepEqual([...f.a.wanted().counts], [['web', 4]]);
    assert.equal(f.kicks(), 1);
    const rev = f.a.wanted().revision;
    f.a.evaluate();
    assert.equal(f.a.wanted().revision, rev, 'the same wish again is not news');
    assert.equal(f.kicks(), 1);
    await f.a.detach();
  });

  test('one high sample among samples at the target starts nothing', async () => {
    const f = fixture([job(['a', 'b'])]);
    await f.a.attach();
    for (let t = 0; t <= 3 * SCALE_UP_WINDOW_MS; t += 1000) {
      f.at(t);
      const pct = t === 2 * SCALE_UP_WINDOW_MS ? 100 : 50;
      f.set(records({ a: { 'web-0': pct }, b: { 'web-1': pct } }));
      f.a.evaluate();
      assert.deepEqual([...f.a.wanted().counts], [], `at ${t} ms`);
    }
    assert.equal(f.kicks(), 0);
    await f.a.detach();
  });

  test('a record that stopped changing goes stale after 3 sample periods', async () => {
    const f = fixture([job(['a', 'b'])]);
    await f.a.attach();
    f.set(records({ a: { 'web-0': 100 }, b: { 'web-1': 100 } }));
    f.at(0);
    f.a.evaluate();
    f.at(3_500);
    const recs = f.a.evaluate();
    assert.equal(recs.get('web')?.counted, 0, 'no fresh figure: nothing counts');
    assert.equal(f.a.wanted().counts.size, 0, 'and nothing is wanted');
    await f.a.detach();
  });

  test("a figure from a node the instance no longer runs on does not count", async () => {
    const f = fixture([job(['a', 'b'])]);
    await f.a.attach();
    f.set(records({ b: { 'web-0': 100 }, a: {} }));
    assert.equal(f.a.evaluate().get('web')?.counted, 0);
    await f.a.detach();
  });

  test('load off: scale-down only after a whole window of wanting less; the withdrawn wish does not kick', async () => {
    const f = fixture([job(['a', 'b', 'a', 'b'])]);
    await f.a.attach();
    const idle = () => records({ a: { 'web-0': 1, 'web-2': 1 }, b: { 'web-1': 1, 'web-3': 1 } });
    for (let t = 0; t < 10_000; t += 1_000) {
      f.at(t);
      f.set(idle()); // a new record every period: fresh
      f.a.evaluate();
      assert.equal(f.a.wanted().counts.size, 0, `still 4 at ${t} ms`);
    }
    f.at(10_000);
    f.set(idle());
    f.a.evaluate();
    assert.deepEqual([...f.a.wanted().counts], [['web', 1]]);
    assert.equal(f.kicks(), 1);
    await f.a.detach();
    assert.equal(f.a.wanted().counts.size, 0, 'a poller that stops wants nothing');
  });
});

describe('Autoscaler across a policy change in git', () => {
  test('a lowered max after a raised min re-clamps to max and waits a whole window before going lower', async () => {
    const jobs = [job(['a', 'b', 'a'])];
    const f = fixture(jobs);
    await f.a.attach();
    const idle = () => records({ a: { 'web-0': 1, 'web-2': 1 }, b: { 'web-1': 1 } });
    // Idle for a whole window under min 1: a count of 1 is wanted.
    for (let t = 0; t <= 10_000; t += 1_000) {
      f.at(t);
      f.set(idle());
      f.a.evaluate();
    }
    assert.deepEqual([...f.a.wanted().counts], [['web', 1]]);
    // git: min 3 (the brain re-clamps the count to 3), then at once max 2 (re-clamped to 2),
    // with no look of the autoscaler under min 3 in between.
    jobs[0] = { ...jobs[0]!, spec: { ...jobs[0]!.spec, autoscale: { ...POLICY, min: 1, max: 2 } } };
    jobs[0].instances = jobs[0].instances.slice(0, 2);
    for (let t = 11_000; t < 21_000; t += 1_000) {
      f.at(t);
      f.set(records({ a: { 'web-0': 1 }, b: { 'web-1': 1 } }));
      f.a.evaluate();
      assert.equal(f.a.wanted().counts.size, 0, `the re-clamped 2 stays at ${t} ms`);
    }
    f.at(21_000);
    f.set(records({ a: { 'web-0': 1 }, b: { 'web-1': 1 } }));
    f.a.evaluate();
    assert.deepEqual([...f.a.wanted().counts], [['web', 1]], 'a whole window under the new policy later');
    await f.a.detach();
  });
});

describe('Autoscaler wishes and the accepted policy', () => {
  test('a wish made under another policy than the accepted one is not handed to the brain', async () => {
    const jobs = [job(['a', 'b'])];
    const f = fixture(jobs);
    await f.a.attach();
    for (let t = 0; t <= 10_000; t += 1_000) {
      f.at(t);
      f.set(records({ a: { 'web-0': 1 }, b: { 'web-1': 1 } }));
      f.a.evaluate();
    }
    assert.deepEqual([...f.a.wanted().counts], [['web', 1]], 'idle a whole window: 1 wanted');
    const rev = f.a.wanted().revision;
    assert.equal(f.a.wanted().revision, rev, 'asking again changes nothing');
    // git raised min to 3 and the brain accepted it (3 instances) before the next look:
    jobs[0] = { ...job(['a', 'b', 'a']), spec: { ...spec(3), autoscale: { ...POLICY, min: 3, max: 8 } } };
    const w = f.a.wanted();
    assert.deepEqual([...w.counts], [], 'the wish of 1 was made under min 1: dropped');
    assert.ok(w.revision > rev, 'a new revision: the brain sees the change');
    await f.a.detach();
  });
});

describe('Brain with wanted counts', () => {
  test('a new wish is decided and committed although git and etcd are quiet', async () => {
    const n = (name: string): NodeInfo => ({ name, address: '127.0.0.1', labels: {}, capacity: { memory: 4 * 1024 ** 3, disk: 10 * 1024 ** 3, cpu: 4000 }, agentId: name, leaseId: '1', startedAt: '' });
    const file = 'name: web\nnumInstances: 2\nautoscale: {min: 1, max: 10, cpu: 50%}\ncontainers:\n  app:\n    image: localhost/ozy-busybox:1\n    memory: 64M\n    cpu: 500m\n';
    const git: GitPort = {
      sync: async () => ({ head: 'a'.repeat(40) }),
      readFiles: async () => ({ files: [{ path: 'jobs/web.yaml', content: file }], changed: ['jobs/web.yaml'] }),
      syncReports: async () => null,
      isAncestor: async () => true,
    };
    let view: Snapshot = { revision: 1, inputsRevision: 1, nodesRevision: 1, scheduleRevision: 0, reportsRevision: 0, nodes: [n('a'), n('b')], jobs: new Map(), rejections: new Map() };
    const commits: ScheduleWrites[] = [];
    const store: StorePort = {
      snapshot: async () => view,
      commitSchedule: async (_guard, writes) => {
        commits.push(writes);
        const jobs = new Map(view.jobs);
        for (const j of writes.putJobs) jobs.set(j.spec.name, j);
        const rev = view.revision + 1;
        view = { ...view, revision: rev, inputsRevision: rev, scheduleRevision: rev, reportsRevision: rev, jobs };
        return { ok: true, revision: rev };
      },
      markReportsPushed: async () => undefined,
    };
    let wanted = { counts: new Map<string, number>(), revision: 0 };
    const brain = new Brain(git, store, { node: 'a', reportBranch: 'main', reportsDir: 'rejections', staleCommitMs: 10_000, log, autoscale: () => wanted });
    assert.equal((await brain.tick()).kind, 'committed');
    assert.equal(view.jobs.get('web')?.instances.length, 2);
    assert.equal((await brain.tick({ fetch: false })).kind, 'idle');
    wanted = { counts: new Map([['web', 5]]), revision: 1 };
    assert.equal((await brain.tick({ fetch: false })).kind, 'committed');
    assert.equal(view.jobs.get('web')?.instances.length, 5);
    assert.equal((await brain.tick({ fetch: false })).kind, 'idle');
    assert.equal(commits.length, 2);
  });
});
