// Shared polling: however many agents run, the git server sees one poller's
// requests per poll interval, one agent decides each change, and when the
// poller dies another agent takes the polling over.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { agentReports, jobYaml, merge, startCluster, type TestCluster } from '../../harness/cluster';
import { waitFor } from '../../harness/wait';

const POLL_MS = 300;
const AGENTS = 5;

/** Ref advertisements (GET …/info/refs) and fetches (POST …/git-upload-pack) seen since `from`. */
function gitRequests(c: TestCluster, from: number): { adverts: number; fetches: number } {
  const seen = c.git.requests.slice(from);
  return {
    adverts: seen.filter((p) => p.endsWith('/info/refs')).length,
    fetches: seen.filter((p) => p.endsWith('/git-upload-pack')).length,
  };
}

/** Counts git requests over an idle window of `intervals` poll intervals. */
async function idleWindow(c: TestCluster, intervals: number): Promise<{ adverts: number; fetches: number; intervals: number }> {
  const from = c.git.requests.length;
  const started = performance.now();
  // The window is a span of time by nature: wait until that many intervals passed, observing requests.
  await waitFor(`${intervals} poll intervals`, async () => performance.now() - started >= intervals * POLL_MS, { intervalMs: 50 });
  const elapsed = (performance.now() - started) / POLL_MS;
  return { ...gitRequests(c, from), intervals: elapsed };
}

describe('shared polling: one poller for the cluster, handed over when it dies', () => {
  let c: TestCluster;

  before(async () => {
    c = await startCluster();
    await Promise.all(Array.from({ length: AGENTS }, (_, i) => c.startAgent({ name: `p${i}`, poll: `${POLL_MS}ms`, leaseTtl: '3s' })));
    await c.waitForNodes(AGENTS);
    await merge(c.user, { 'jobs/one.yaml': jobYaml('one', { instances: 1, memory: '50M', image: 'localhost/ozy-absent:1' }) }, 'one');
    await waitFor('one accepted', async () => (await c.store.snapshot()).jobs.has('one'));
  });
  after(async () => {
    await c?.stop();
  });

  test(`${AGENTS} agents make at most 2 ref advertisements and 2 fetches per poll interval`, async () => {
    const w = await idleWindow(c, 10);
    console.log(`# ${AGENTS} agents over ${w.intervals.toFixed(1)} intervals: ${w.adverts} ref advertisements, ${w.fetches} fetches`);
    assert.ok(w.adverts > 0, 'someone polls');
    // +1: a poll may straddle the window's edges.
    assert.ok(w.adverts <= 2 * w.intervals + 1, `ref advertisements ${w.adverts} over ${w.intervals.toFixed(1)} intervals`);
    assert.ok(w.fetches <= 2 * w.intervals + 1, `fetches ${w.fetches} over ${w.intervals.toFixed(1)} intervals`);
    const reports = await agentReports(c.store);
    assert.equal(reports.filter((a) => a.role === 'poller').length, 1, 'exactly one agent polls');
    const poller = await c.store.getPoller();
    assert.ok(poller?.head, 'the poller records the head it found');
    for (const a of reports) assert.equal(a.head, poller.head, `${a.node} shows the cluster's head`);
  });

  test('a change is decided by one agent: the followers never run a scheduling round', async () => {
    const commit = await merge(c.user, { 'jobs/two.yaml': jobYaml('two', { instances: 2, memory: '50M', image: 'localhost/ozy-absent:1' }) }, 'two');
    await waitFor('two accepted', async () => (await c.store.snapshot()).jobs.get('two')?.commit === commit);
    const snap = await c.store.snapshot();
    const poller = await c.store.getPoller();
    assert.equal(snap.schedule?.by, poller?.node, 'the poller committed it');
    // Each agent's own record: a follower has no brain round to report.
    const own = await c.store.listAgentStatus();
    assert.equal(own.size, AGENTS);
    for (const [node, a] of own) {
      if (node === poller?.node) assert.equal(a.role, 'poller');
      else assert.deepEqual([a.role, a.lastRound], ['follower', null], `${node} did not decide`);
    }
  });

  test('SIGKILL of the poller: another agent polls and decides', async () => {
    const first = await c.store.getPoller();
    assert.ok(first, 'a poller holds the claim');
    const victim = c.agents.find((a) => a.node === first.node);
    assert.ok(victim, `the poller ${first.node} is one of ours`);
    await victim.kill();
    const next = await waitFor('another agent holds the claim', async () => {
      const p = await c.store.getPoller();
      return p && p.node !== first.node ? p : undefined;
    }, { timeoutMs: 15_000 });
    assert.notEqual(next.node, first.node);
    const commit = await merge(c.user, { 'jobs/three.yaml': jobYaml('three', { instances: 1, memory: '50M', image: 'localhost/ozy-absent:1' }) }, 'three');
    await waitFor('three accepted by the new poller', async () => (await c.store.snapshot()).jobs.get('three')?.commit === commit, { timeoutMs: 15_000 });
    const w = await idleWindow(c, 6);
    assert.ok(w.adverts <= 2 * w.intervals + 1 && w.fetches <= 2 * w.intervals + 1, `after the hand-over: ${JSON.stringify(w)}`);
  });
});
