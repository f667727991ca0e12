// Fault: the git server goes down (connections reset), then answers every
// request with HTTP 500. Nothing changes in the cluster (no placement, no
// container), and each agent's last git error shows in `ozy status --json`
// (nodes[].agent.gitError; followers show their poller's). When git is back
// the error clears and a change merged then is applied. Each scenario runs
// the background sampler (sampler.ts): duplicates and lost instances
// measured throughout, none allowed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { ClusterStatus } from '../../src/agent/cluster-status';
import { ozyEntry } from '../../src/paths';
import type { GitServerFailureMode } from '../harness/git-server';
import { waitFor } from '../harness/wait';
import { startFaultCluster, type FaultAgent, type FaultCluster } from './fault-cluster';
import { jobFiles } from './jobs';
import { containerIds, figure, Observer, restartedOrRecreated } from './observe';
import { assertSampled, FaultSampler, printSampled } from './sampler';

const run = promisify(execFile);

describe('fault: git server down, then failing with HTTP 500', () => {
  let c: FaultCluster;
  let obs: Observer;
  const agents: FaultAgent[] = [];
  const jobs: Record<string, number> = { web: 3 };

  before(async () => {
    c = await startFaultCluster();
    obs = new Observer(c);
    for (const name of ['a', 'b']) agents.push(await c.startAgent({ name, memory: '160M' }));
    await c.merge(jobFiles({ web: { instances: 3 } }), 'web');
    await obs.converged('initial rollout', jobs, 60_000);
  });
  after(async () => {
    c?.git.setFailureMode('none');
    await c?.stop();
  });

  const status = async (): Promise<ClusterStatus> => {
    const { stdout } = await run(process.execPath, [ozyEntry(), 'status', '--etcd', c.etcdEndpoints.join(','), '--json']);
    return JSON.parse(stdout) as ClusterStatus;
  };
  const fetchFailures = (a: FaultAgent): number => a.logs().split('\n').filter((l) => l.includes('git fetch failed')).length;

  for (const mode of ['down', '500'] as GitServerFailureMode[]) {
    test(`git ${mode}: nothing changes, the error shows in ozy status`, async () => {
      const before = await obs.view();
      const failures = () => agents.reduce((sum, a) => sum + fetchFailures(a), 0);
      const failedBefore = failures();
      const sampler = await FaultSampler.start(c);
      c.git.setFailureMode(mode);
      try {
        // Several polls fail while git is away (one agent polls for the cluster; every agent shows its error).
        await waitFor('three failed fetches', () => failures() >= failedBefore + 3, { timeoutMs: 20_000 });
        const s = await waitFor('git errors in ozy status', async () => {
          const st = await status();
          return agents.every((a) => typeof st.nodes.find((n) => n.name === a.node)?.agent?.gitError === 'string') ? st : undefined;
        });
        for (const a of agents) console.log(`# ${a.node} gitError: ${s.nodes.find((n) => n.name === a.node)?.agent?.gitError}`);
        const v = await obs.converged(`while git is ${mode}`, jobs);
        assert.deepEqual(v.jobs, before.jobs, 'no placement changed');
        assert.deepEqual(containerIds(v), containerIds(before), 'no container changed');
        const touched = restartedOrRecreated(before, v);
        figure(`git_${mode}_containers_stopped`, touched.length);
        assert.deepEqual(touched, [], 'no container stopped, recreated or restarted');
      } finally {
        c.git.setFailureMode('none');
      }
      await waitFor('git errors cleared', async () => (await status()).nodes.every((n) => !n.agent?.gitError));
      const sampled = await sampler.stop(jobs);
      printSampled(`git_${mode}`, sampled);
      assertSampled(sampled);
      assert.equal(sampled.duplicates, 0, 'no instance ran on two nodes');
    });
  }

  test('git back: a change merged now is applied', async () => {
    const sampler = await FaultSampler.start(c);
    const t0 = Date.now();
    jobs.web = 4;
    await c.merge(jobFiles({ web: { instances: 4 } }), 'web to 4');
    await obs.converged('after git came back', jobs);
    figure('git_back_change_healthy_ms', Date.now() - t0);
    const sampled = await sampler.stop(jobs);
    printSampled('git_back', sampled);
    assertSampled(sampled);
    assert.equal(sampled.duplicates, 0, 'no instance ran on two nodes');
  });
});
