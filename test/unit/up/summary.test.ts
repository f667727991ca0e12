import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClusterStatus, InstanceRow } from '../../../src/agent/cluster-status';
import { changeLines, emptyDigest, renderDashboard, summaryLine } from '../../../src/up/summary';

const NOW = Date.parse('2026-01-01T12:00:00Z');

function inst(instance: string, state: string, extra: Partial<InstanceRow> = {}): InstanceRow {
  const health = state === 'healthy' || state === 'unhealthy' ? state : 'unknown';
  return { instance, job: instance.replace(/-\d+$/, ''), node: 'node-1', state, health, restarts: 0, since: '2026-01-01T11:59:00Z', spec: 'h1', ...extra };
}

function status(over: Partial<ClusterStatus> = {}): ClusterStatus {
  return {
    nodes: [{ name: 'node-1', alive: true, zone: 'a', labels: {}, capacity: { memory: 1024 ** 3, disk: 1024 ** 3, cpu: 1000 }, allocated: { memory: 32 * 1024 ** 2, disk: 0, cpu: 100 }, used: { memory: 32 * 1024 ** 2, disk: 0, cpu: 100 }, instances: 2 }],
    jobs: [{ name: 'hello', commit: 'abcdef0123456789', specHash: 'h1', file: 'jobs/hello.yaml', acceptedAt: '2026-01-01T11:59:00Z', desired: 2, placed: 2, pending: 0, healthy: 1, rollout: 'running', type: 'service' }],
    instances: [inst('hello-0', 'healthy'), inst('hello-1', 'starting')],
    runs: [],
    rejections: [],
    ...over,
  };
}

describe('the live summary', () => {
  test('one line counts nodes, jobs, instances by state and rejections', () => {
    assert.equal(summaryLine(status()), 'nodes 1/1 alive · jobs 1 · instances 1/2 healthy (1 starting) · rejections 0');
  });

  test('change lines: everything the first time, then only what changed', () => {
    const first = changeLines(emptyDigest(), status(), { now: NOW });
    assert.ok(first.lines.some((l) => l.endsWith('node node-1: alive')));
    assert.ok(first.lines.some((l) => /job hello: 1\/2 healthy \(1 healthy, 1 starting\), commit abcdef012345$/.test(l)));
    assert.ok(first.lines.at(-1)!.includes('cluster: nodes 1/1 alive'));

    const same = changeLines(first.digest, status(), { now: NOW + 1000 });
    assert.deepEqual(same.lines, []);

    const healthy = status({ instances: [inst('hello-0', 'healthy'), inst('hello-1', 'healthy')] });
    healthy.jobs[0]!.healthy = 2;
    const next = changeLines(same.digest, healthy, { now: NOW + 2000 });
    assert.equal(next.lines.length, 2);
    assert.match(next.lines[0]!, /job hello: 2\/2 healthy \(2 healthy\)/);
    assert.match(next.lines[1]!, /cluster: .*instances 2\/2 healthy · rejections 0/);
  });

  test('a rejection is printed with its detail when it appears and once more when it clears', () => {
    const rejected = status({
      rejections: [{ key: 'hello', commit: 'fedcba9876543210', type: 'https://x/errors.md#insufficient-capacity', title: 'Insufficient capacity', detail: 'needs 64G of memory, 1G free', at: '' }],
    });
    const a = changeLines(changeLines(emptyDigest(), status(), { now: NOW }).digest, rejected, { now: NOW });
    assert.ok(a.lines.some((l) => l.includes('rejected hello: Insufficient capacity: needs 64G of memory, 1G free (commit fedcba987654)')));
    const b = changeLines(a.digest, status(), { now: NOW });
    assert.ok(b.lines.some((l) => l.endsWith('rejection of hello cleared')));
  });

  test('why, not only counts: an instance in trouble says why once, its restarts their cause, and recovery', () => {
    const base = changeLines(emptyDigest(), status(), { now: NOW }).digest;
    const failing = status({
      instances: [
        inst('hello-0', 'healthy'),
        inst('hello-1', 'starting', { message: 'waiting for the health check of web: GET / → 404' }),
        inst('hello-2', 'failed', { message: 'pull failed: localhost/ozy-absent:1: not found; retrying in 4.0s' }),
        inst('hello-3', 'exited', { message: 'container web: OOM killed (memory limit 16Mi); restarting in 2.0s', restarts: 2, lastRestart: { cause: 'container web OOM killed', at: '' } }),
      ],
    });
    const a = changeLines(base, failing, { now: NOW });
    assert.ok(a.lines.some((l) => l.endsWith('instance hello-1: starting: waiting for the health check of web: GET / → 404')), a.lines.join('\n'));
    assert.ok(a.lines.some((l) => l.endsWith('instance hello-2: failed: pull failed: localhost/ozy-absent:1: not found; retrying in 4.0s')));
    assert.ok(a.lines.some((l) => l.endsWith('instance hello-3: restarted (2 in all): container web OOM killed')));
    assert.ok(!a.lines.some((l) => l.includes('instance hello-0')));
    const again = changeLines(a.digest, failing, { now: NOW + 1000 });
    assert.ok(!again.lines.some((l) => l.includes('instance ')), 'nothing new, nothing said');
    const fixed = changeLines(again.digest, status({ instances: [inst('hello-0', 'healthy'), inst('hello-1', 'healthy')] }), { now: NOW + 2000 });
    assert.ok(fixed.lines.some((l) => l.endsWith('instance hello-1: healthy again')));
    const flood = status({ instances: Array.from({ length: 30 }, (_, i) => inst(`big-${i}`, 'failed', { message: 'pull failed' })) });
    const many = changeLines(base, flood, { now: NOW });
    assert.equal(many.lines.filter((l) => l.includes('instance big-')).length, 10);
    assert.ok(many.lines.some((l) => l.includes('… and 20 more instance changes')));
  });

  test('deleted jobs, dead nodes and supervisor problems are reported once', () => {
    const a = changeLines(emptyDigest(), status(), { now: NOW, problems: ['agent node-1 exited with code 1; see x.log'] });
    assert.equal(a.lines.filter((l) => l.includes('! agent node-1 exited')).length, 1);
    const dead = status({ jobs: [], instances: [] });
    dead.nodes[0]!.alive = false;
    const b = changeLines(a.digest, dead, { now: NOW, problems: ['agent node-1 exited with code 1; see x.log'] });
    assert.ok(b.lines.some((l) => l.endsWith('job hello: deleted')));
    assert.ok(b.lines.some((l) => l.endsWith('node node-1: dead')));
    assert.ok(!b.lines.some((l) => l.includes('! agent')));
  });

  test('the dashboard shows nodes, jobs, instances (bounded) and rejections', () => {
    const many = status({ instances: Array.from({ length: 30 }, (_, i) => inst(`hello-${i}`, 'healthy')) });
    const lines = renderDashboard(many, { now: NOW, maxInstances: 5, problems: ['podman exited'] });
    assert.equal(lines[0], '! podman exited');
    assert.ok(lines.some((l) => /^NODE\s+ALIVE/.test(l)));
    assert.ok(lines.some((l) => /^hello\s+1\/2/.test(l)));
    assert.equal(lines.filter((l) => /^hello-\d+\s/.test(l)).length, 5);
    assert.ok(lines.includes('… and 25 more (ozy status shows all)'));
    assert.ok(lines.includes('REJECTIONS  (none)'));
    assert.deepEqual(renderDashboard(undefined, { now: NOW }).length, 1);
  });
});
