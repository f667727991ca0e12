// The taps that feed the agent's counters: restarts from the statuses it
// publishes, fetches through the git port, cron events, rounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { GitPort } from '../../../src/agent/ports';
import type { InstanceStatus } from '../../../src/model/cluster';
import { AgentEndpoint } from '../../../src/observe/agent-endpoint';

function endpoint(): AgentEndpoint {
  return new AgentEndpoint({
    node: 'n1',
    address: '127.0.0.1',
    http: { kind: 'off' },
    apiToken: undefined,
    engine: { listManaged: async () => [], streamLogs: async function* () {} },
    notReadyBecause: () => undefined,
    log: pino({ level: 'silent' }),
    source: {
      instanceStates: () => [],
      capacity: () => ({ memory: 0, disk: 0, cpu: 0 }),
      allocated: () => ({ memory: 0, disk: 0, cpu: 0 }),
      leaseHeld: () => true,
      firstRoundDone: () => true,
      polling: () => true,
      cluster: () => undefined,
      autoscale: () => [],
      now: () => 0,
    },
  });
}

const status = (instance: string, restarts: number): InstanceStatus => ({ instance, job: 'web', node: 'n1', specHash: 'h', state: 'healthy', restarts, containers: {}, updatedAt: '' });

test('restarts: each rise of an instance\'s count; an adopted instance\'s earlier restarts do not count', async () => {
  const e = endpoint();
  e.onStatus(status('web-0', 4)); // adopted after an agent restart: its 4 happened before
  e.onStatus(status('web-0', 4));
  e.onStatus(status('web-0', 5));
  e.onStatus(status('web-1', 0));
  e.onStatus(status('web-1', 2));
  e.onStatusDeleted('web-1');
  e.onStatus(status('web-1', 0));
  assert.match(await e.metrics.text(), /^ozy_container_restarts_total 3$/m);
});

test('fetches counted through the git port; the failing gauge follows the last one', async () => {
  const e = endpoint();
  let fail = true;
  const git = e.countFetches({
    sync: async () => {
      if (fail) throw new Error('connection refused');
      return { head: 'abc' };
    },
  } as unknown as GitPort);
  await assert.rejects(git.sync());
  let text = await e.metrics.text();
  assert.match(text, /^ozy_git_fetch_errors_total 1$/m);
  assert.match(text, /^ozy_git_fetch_failing 1$/m);
  fail = false;
  assert.deepEqual(await git.sync(), { head: 'abc' });
  text = await e.metrics.text();
  assert.match(text, /^ozy_git_fetches_total 2$/m);
  assert.match(text, /^ozy_git_fetch_failing 0$/m);
});

test('cron events: results counted, placements give the start delay; rounds give commits and durations', async () => {
  const e = endpoint();
  e.onCronEvents([
    { what: 'placed', job: 'j', run: 'j-1', nodes: ['n1'], delayMs: 1500 },
    { what: 'succeeded', job: 'j', run: 'j-1' },
    { what: 'missed', job: 'k', run: 'k-1' },
    { what: 'claimed', job: 'k', run: 'k-2' },
  ]);
  e.onRound({ kind: 'committed', head: 'h', attempts: 2, reportCommit: null, decision: {} as never }, 0.03);
  e.onRoundError(0.5);
  const text = await e.metrics.text();
  assert.match(text, /^ozy_cron_runs_total\{result="succeeded"\} 1$/m);
  assert.match(text, /^ozy_cron_runs_total\{result="missed"\} 1$/m);
  assert.match(text, /^ozy_cron_run_start_delay_seconds_sum 1\.5$/m);
  assert.match(text, /^ozy_schedule_commits_total\{result="won"\} 1$/m);
  assert.match(text, /^ozy_schedule_commits_total\{result="lost"\} 1$/m);
  assert.match(text, /^ozy_schedule_rounds_total\{result="error"\} 1$/m);
  assert.match(text, /^ozy_reconcile_errors_total\{loop="brain"\} 1$/m);
  assert.match(text, /^ozy_schedule_round_duration_seconds_count 2$/m);
});
