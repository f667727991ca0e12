import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import type { AcceptedJob, InstanceState } from '../../../src/model/cluster';
import { AgentMetrics, commitsOf, type AgentMetricsSource } from '../../../src/observe/agent-metrics';
import { countByState, namingProblem, pendingSummary } from '../../../src/observe/cluster-gauges';

function job(name: string, placements: Array<{ node: string | null; since: string }>): AcceptedJob {
  return { spec: { name } as AcceptedJob['spec'], specHash: 'h', commit: 'c', file: `jobs/${name}.yaml`, acceptedAt: '2026-01-01T00:00:00Z', instances: placements };
}

function source(over: Partial<AgentMetricsSource> = {}): AgentMetricsSource {
  const states: InstanceState[] = ['healthy', 'healthy', 'starting'];
  return {
    instanceStates: () => states,
    capacity: () => ({ memory: 1024 ** 3, disk: 10 * 1024 ** 3, cpu: 1500 }),
    allocated: () => ({ memory: 256 * 1024 ** 2, disk: 0, cpu: 250 }),
    leaseHeld: () => true,
    firstRoundDone: () => true,
    polling: () => true,
    cluster: () => ({ jobs: [job('web', [{ node: 'n1', since: '2026-01-01T00:00:00Z' }, { node: null, since: '2026-01-01T00:10:00Z' }])], nodes: 3, rejections: 1 }),
    autoscale: () => [{ job: 'api', desired: 4, cpuRatio: 0.72 }],
    now: () => Date.parse('2026-01-01T00:15:00Z'),
    ...over,
  };
}

test('every metric follows the naming rules: ozy_ prefix, base units, _total only on counters', async () => {
  const m = new AgentMetrics(source());
  const metrics = await m.registry.getMetricsAsJSON();
  assert.ok(metrics.length >= 20, `${metrics.length} metrics`);
  for (const x of metrics) assert.equal(namingProblem(x.name, String(x.type)), undefined);
  // No unbounded labels: never an instance, container or run name.
  const labels = new Set(metrics.flatMap((x) => x.values.flatMap((v) => Object.keys(v.labels))));
  for (const l of labels) assert.ok(['state', 'resource', 'result', 'loop', 'job', 'le'].includes(l), `label ${l}`);
  assert.equal(namingProblem('ozy_round_ms', 'gauge'), 'ozy_round_ms: use base units (seconds, bytes, cores)');
  assert.equal(namingProblem('ozy_restarts', 'counter'), 'ozy_restarts: a counter must end in _total');
  assert.equal(namingProblem('ozy_x_total', 'gauge'), 'ozy_x_total: only counters end in _total');
});

test('scrape-time gauges read the source; counters follow the recorded events', async () => {
  const m = new AgentMetrics(source());
  m.recordRound('committed', commitsOf({ kind: 'committed', attempts: 3 }), 0.04);
  m.recordRound('contended', commitsOf({ kind: 'contended', attempts: 8 }), 0.2);
  m.recordFetch(true);
  m.recordFetch(false);
  m.recordRestarts(2);
  m.recordCronRun('missed');
  m.recordCronStartDelay(1.5);
  const text = await m.text();
  for (const line of [
    'ozy_instances{state="healthy"} 2',
    'ozy_instances{state="starting"} 1',
    'ozy_instances{state="failed"} 0',
    'ozy_node_capacity_bytes{resource="memory"} 1073741824',
    'ozy_node_capacity_cpu_cores 1.5',
    'ozy_node_allocated_cpu_cores 0.25',
    'ozy_instances_pending 1',
    'ozy_instances_pending_oldest_age_seconds 300',
    'ozy_cluster_nodes 3',
    'ozy_schedule_commits_total{result="won"} 1',
    'ozy_schedule_commits_total{result="lost"} 10',
    'ozy_schedule_round_duration_seconds_count 2',
    'ozy_git_fetch_errors_total 1',
    'ozy_git_fetch_failing 1',
    'ozy_container_restarts_total 2',
    'ozy_cron_runs_total{result="missed"} 1',
    'ozy_cron_runs_total{result="succeeded"} 0',
    'ozy_cron_run_start_delay_seconds_count 1',
    'ozy_autoscale_desired_instances{job="api"} 4',
    'ozy_autoscale_cpu_utilization_ratio{job="api"} 0.72',
    'ozy_lease_held 1',
    'ozy_poller 1',
  ]) assert.ok(text.includes(`${line}\n`), `${line} in\n${text}`);
});

test('a follower exports no cluster-wide series', async () => {
  const m = new AgentMetrics(source({ polling: () => false, cluster: () => undefined, autoscale: () => [] }));
  const text = await m.text();
  assert.ok(!/^ozy_instances_pending /m.test(text));
  assert.ok(!/^ozy_cluster_nodes /m.test(text));
  assert.ok(text.includes('ozy_poller 0\n'));
  assert.ok(text.includes('ozy_git_fetch_failing 0\n'));
});

test('the registry lints clean with promtool check metrics', async (t) => {
  if (spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status !== 0) return t.skip('promtool not installed');
  const m = new AgentMetrics(source());
  m.recordRound('idle', { won: 0, lost: 0 }, 0.001);
  const r = spawnSync('promtool', ['check', 'metrics'], { input: await m.text(), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('pendingSummary: count and the oldest age; none is 0', () => {
  const now = Date.parse('2026-01-01T01:00:00Z');
  assert.deepEqual(pendingSummary([], now), { count: 0, oldestAgeSeconds: 0 });
  const jobs = [job('a', [{ node: null, since: '2026-01-01T00:59:00Z' }, { node: 'n', since: '2026-01-01T00:00:00Z' }]), job('b', [{ node: null, since: '2026-01-01T00:30:00Z' }])];
  assert.deepEqual(pendingSummary(jobs, now), { count: 2, oldestAgeSeconds: 1800 });
  assert.deepEqual(pendingSummary([job('c', [{ node: null, since: 'garbage' }])], now), { count: 1, oldestAgeSeconds: 0 });
});

test('countByState lists every state', () => {
  const m = countByState(['healthy']);
  assert.equal(m.size, 7);
  assert.equal(m.get('healthy'), 1);
  assert.equal(m.get('pending'), 0);
});

test('commitsOf: won once after the lost tries, contended loses every try', () => {
  assert.deepEqual(commitsOf({ kind: 'committed', attempts: 1 }), { won: 1, lost: 0 });
  assert.deepEqual(commitsOf({ kind: 'committed', attempts: 3 }), { won: 1, lost: 2 });
  assert.deepEqual(commitsOf({ kind: 'contended', attempts: 8 }), { won: 0, lost: 8 });
  assert.deepEqual(commitsOf({ kind: 'idle' }), { won: 0, lost: 0 });
});
