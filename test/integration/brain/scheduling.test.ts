// The cluster brain end to end: three `ozy agent` processes, a real etcd, a
// real git smart-HTTP server and a real podman service. Jobs use an image
// that does not exist, so no container runs: these tests are about what the
// brain commits to etcd and pushes to git (tests/integration/node covers
// containers).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AcceptedJob } from '../../../src/model/cluster';
import { agentReports, jobYaml, merge, startCluster, type TestCluster } from '../../harness/cluster';
import { waitFor } from '../../harness/wait';

const ABSENT = 'localhost/ozy-absent:1';
const job = (name: string, instances: number, memory = '100M') => jobYaml(name, { instances, memory, image: ABSENT });

describe('brain: three agents scheduling from git into etcd', () => {
  let c: TestCluster;

  before(async () => {
    c = await startCluster();
    // 3 nodes × 1G memory.
    await Promise.all(['a', 'b', 'c'].map((n) => c.startAgent({ name: n, memory: '1G' })));
    await c.waitForNodes(3);
  });
  after(async () => {
    await c?.stop();
  });

  const jobs = async () => (await c.store.snapshot()).jobs;
  const placedOn = (j: AcceptedJob | undefined) => j?.instances.map((p) => p.node) ?? [];
  const report = (key: string) => c.user.readRemoteFile('main', `rejections/${key}.json`);

  test('a merged job gets placements on live nodes', async () => {
    const commit = await merge(c.user, { 'jobs/web.yaml': job('web', 3) }, 'add web');
    const web = await waitFor('web accepted', async () => (await jobs()).get('web'));
    assert.equal(web.commit, commit);
    assert.equal(web.instances.length, 3);
    const nodes = (await c.store.snapshot()).nodes.map((n) => n.name);
    for (const n of placedOn(web)) assert.ok(n && nodes.includes(n), `placed on a live node: ${n}`);
  });

  test('a scale-up that fits is accepted; one that does not is rejected, reported, and the old count stays', async () => {
    await merge(c.user, { 'jobs/web.yaml': job('web', 5) }, 'web to 5');
    await waitFor('web at 5', async () => (await jobs()).get('web')?.instances.length === 5);

    const commit = await merge(c.user, { 'jobs/web.yaml': job('web', 40) }, 'web to 40: too big');
    const text = await waitFor('rejection report for web', () => report('web'), { timeoutMs: 20_000 });
    const problem = JSON.parse(text) as Record<string, unknown>;
    assert.match(String(problem.type), /errors\.md#insufficient-memory$/);
    assert.equal(problem.job, 'web');
    assert.equal(problem.commit, commit);
    assert.match(String(problem.detail), /Job requires [\d.]+\w+ of memory .*but only [\d.]+\w+ can be allocated/);
    assert.equal((await jobs()).get('web')?.instances.length, 5, 'the accepted count stays');
  });

  test('scale-down removes the highest ordinals and clears the report', async () => {
    const before5 = placedOn((await jobs()).get('web'));
    await merge(c.user, { 'jobs/web.yaml': job('web', 2) }, 'web to 2');
    const web = await waitFor('web at 2', async () => {
      const j = (await jobs()).get('web');
      return j?.instances.length === 2 ? j : undefined;
    });
    assert.deepEqual(placedOn(web), before5.slice(0, 2), 'ordinals 0 and 1 stay where they were');
    await waitFor('web report deleted', async () => (await report('web')) === null);
  });

  test('an invalid file gets a report keyed by its job and other jobs go on', async () => {
    await merge(c.user, { 'jobs/api.yaml': job('api', 1), 'jobs/broken.yaml': 'name: broken\nnumInstances: many\n' }, 'api + broken');
    await waitFor('api accepted', async () => (await jobs()).get('api'));
    const problem = JSON.parse(await waitFor('report for broken', () => report('broken'))) as { errors?: Array<{ pointer: string }>; file?: string };
    assert.equal(problem.file, 'jobs/broken.yaml');
    assert.ok(problem.errors?.some((e) => e.pointer === '/numInstances'), 'names the field');
    assert.equal((await jobs()).has('broken'), false);
    assert.ok((await jobs()).has('web'), 'web untouched');
  });

  test('a file that does not parse gets a report keyed by its path', async () => {
    await merge(c.user, { 'jobs/garbage.yaml': 'name: [unclosed\n' }, 'garbage');
    const text = await waitFor('report for jobs/garbage.yaml', () => report('jobs/garbage.yaml'));
    assert.match(String((JSON.parse(text) as { type: string }).type), /#unparsable-yaml$/);
    await merge(c.user, { 'jobs/garbage.yaml': null, 'jobs/broken.yaml': null }, 'remove bad files');
    await waitFor('reports gone', async () => (await report('jobs/garbage.yaml')) === null && (await report('broken')) === null);
  });

  test('deleting a job file removes its placements and its report', async () => {
    await merge(c.user, { 'jobs/huge.yaml': job('huge', 1, '5G') }, 'huge');
    await waitFor('report for huge', () => report('huge'));
    await merge(c.user, { 'jobs/api.yaml': null, 'jobs/huge.yaml': null }, 'drop api and huge');
    await waitFor('api deleted', async () => !(await jobs()).has('api'));
    await waitFor('huge report deleted', async () => (await report('huge')) === null);
    assert.ok((await jobs()).has('web'));
  });

  test('the deletion guard keeps every job when a commit deletes them all', async () => {
    const files = await c.user.listRemoteFiles('main', 'jobs');
    const all: Record<string, null> = {};
    for (const f of files) all[f] = null;
    await merge(c.user, all, 'delete everything');
    const text = await waitFor('deletion guard report', () => report('_deletion-guard'));
    assert.match(String((JSON.parse(text) as { type: string }).type), /#mass-deletion$/);
    assert.ok((await jobs()).has('web'), 'web still accepted');
    // Opting in explicitly lets it through.
    await merge(c.user, { 'ozy.yaml': 'deletionGuard:\n  allowDeleteAll: true\n' }, 'opt in to delete all');
    await waitFor('web deleted', async () => !(await jobs()).has('web'));
    await waitFor('guard report gone', async () => (await report('_deletion-guard')) === null);
    await merge(c.user, { 'ozy.yaml': null }, 'guard back on');
  });

  test('git server down: no placement changes; the error shows in agent status', async () => {
    await merge(c.user, { 'jobs/steady.yaml': job('steady', 2) }, 'steady');
    const steady = await waitFor('steady accepted', async () => (await jobs()).get('steady'));
    c.git.setFailureMode('500');
    try {
      await waitFor('agents report the git error', async () => {
        const agents = await agentReports(c.store);
        return agents.length === 3 && agents.every((a) => typeof a.gitError === 'string' && a.gitError.length > 0);
      });
      const now = (await jobs()).get('steady');
      assert.deepEqual(now, steady, 'nothing changed while git was down');
    } finally {
      c.git.setFailureMode('none');
    }
    await waitFor('git error cleared', async () => (await agentReports(c.store)).every((a) => a.gitError === null));
  });

  test('exactly one report commit per judged change, with three agents', async () => {
    const before = await c.user.commitCount('main');
    await merge(c.user, { 'jobs/toolarge.yaml': job('toolarge', 1, '20G') }, 'toolarge');
    await waitFor('report for toolarge', () => report('toolarge'));
    // Let every agent judge the commit a few more rounds; no further report commit may appear.
    const judged = async () => {
      const head = await c.user.remoteHead('main');
      const agents = await agentReports(c.store);
      const poller = agents.find((a) => a.role === 'poller');
      return agents.length === 3 && agents.every((a) => a.head === head) && (poller?.lastRound === 'unchanged' || poller?.lastRound === 'idle');
    };
    await waitFor('all agents idle', judged);
    const after1 = await c.user.commitCount('main');
    assert.equal(after1 - before, 2, 'the merge and exactly one report commit');
    await merge(c.user, { 'jobs/toolarge.yaml': null }, 'drop toolarge');
    await waitFor('report removed', async () => (await report('toolarge')) === null);
    await waitFor('all agents idle', judged);
    assert.equal((await c.user.commitCount('main')) - after1, 2, 'the merge and exactly one report deletion');
  });

  test('a second agent with the same node name refuses to start with a clear error', async () => {
    const first = c.agents[0]!;
    const suffix = first.node.slice(c.podman.prefix.length + 1);
    // Another machine claiming the name: etcd refuses the registration.
    await assert.rejects(c.startAgent({ name: suffix, dataDir: `${first.dataDir}-other`, leaseTtl: '2s' }), /already registered by a live agent/);
    // The same data dir (whose lease it could resume): the data-dir lock refuses it.
    await assert.rejects(c.startAgent({ name: suffix, dataDir: first.dataDir }), /data dir .* is in use by another agent/);
    assert.ok((await c.store.snapshot()).nodes.some((n) => n.name === first.node), 'the first agent keeps its registration');
    assert.equal(first.exited(), false);
  });
});
