import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildClusterStatus } from '../../../src/agent/cluster-status';
import { formatJobStatus, jobStatus } from '../../../src/cli/job-status';
import type { AcceptedJob, InstanceStatus, NodeInfo, Rejection } from '../../../src/model/cluster';

const container = { name: 'app', image: 'x', restart: 'always' as const, environment: [{ name: 'PASSWORD', value: 'hunter2-plain' }], ports: [], dependsOn: [], memory: 100, cpu: 10, volumes: [] };
const web: AcceptedJob = {
  spec: { name: 'web', numInstances: 2, containers: [container] },
  specHash: 'spec-h1',
  commit: 'c0ffee0123456789',
  file: 'jobs/web.yaml',
  acceptedAt: '2026-01-01T00:00:00Z',
  instances: [
    { node: 'n1', since: '2026-01-01T00:00:00Z' },
    { node: 'n1', since: '2026-01-01T00:00:00Z' },
  ],
};
const n1: NodeInfo = { name: 'n1', address: 'a', labels: {}, capacity: { memory: 1000, disk: 0, cpu: 1000 }, agentId: 'x', leaseId: '1', startedAt: 't' };
const st = (instance: string, over: Partial<InstanceStatus>): InstanceStatus => ({ instance, job: 'web', node: 'n1', specHash: 'spec-h1', state: 'healthy', restarts: 0, containers: {}, updatedAt: 't', ...over });
const now = Date.parse('2026-01-01T00:10:00Z');
const rejection: Rejection = {
  key: 'web',
  commit: 'bad0123456789',
  desiredHash: 'x',
  at: '2026-01-01T00:09:00Z',
  problem: { type: 'https://example/docs/errors.md#invalid-job', title: 'Invalid job', detail: 'The job file is invalid.', errors: [{ pointer: '/containers/app/memory', message: 'must be a size' }] },
};

describe('ozy status JOB', () => {
  const cluster = buildClusterStatus({
    nodes: [n1],
    jobs: new Map([['web', web]]),
    rejections: new Map(),
    statuses: [st('web-0', {}), st('web-1', { state: 'unhealthy', health: undefined, message: 'container app fails its health check: GET /health → 404', restarts: 3, lastRestart: { cause: 'container app failed its health check (GET /health → 404)', at: '2026-01-01T00:08:00Z' } } as Partial<InstanceStatus>)],
    agents: new Map(),
    now,
  });

  test('only that job: commit, spec, instances with why, the report', () => {
    const s = jobStatus(cluster, 'web', rejection, undefined)!;
    assert.deepEqual([s.accepted?.specHash, s.instances.map((i) => i.instance), s.report?.commit], ['spec-h1', ['web-0', 'web-1'], 'bad0123456789']);
    const text = formatJobStatus(s, now);
    assert.match(text, /^JOB web {3}service {3}running$/m);
    assert.match(text, /commit +c0ffee0123456789 \(accepted 10m 0s ago\)/);
    assert.match(text, /web-1 +n1 .* unhealthy .* 3 .* container app fails its health check: GET \/health → 404/);
    assert.match(text, /web-1:\n {4}last restart 2m 0s ago: container app failed its health check \(GET \/health → 404\)/);
    assert.match(text, /REPORT\n {2}Invalid job at commit bad012345678 \(1m 0s ago\)\n {2}The job file is invalid\.\n {4}\/containers\/app\/memory: must be a size/);
    assert.ok(!text.includes('hunter2-plain') && !JSON.stringify(s).includes('hunter2-plain'), 'no environment value');
  });

  test('a healthy instance has no why; a job never accepted has only its report; an unknown one is undefined', () => {
    const text = formatJobStatus(jobStatus(cluster, 'web', undefined, undefined)!, now);
    assert.match(text, /web-0 .* healthy +healthy +0 +10m 0s$/m);
    assert.match(text, /REPORT\n {2}\(none\)/);
    const rejected = jobStatus(cluster, 'api', { ...rejection, key: 'api' }, undefined)!;
    assert.equal(rejected.accepted, null);
    assert.match(formatJobStatus(rejected, now), /^JOB api {3}not accepted \(rejected: see REPORT\)$/m);
    assert.equal(jobStatus(cluster, 'nope', undefined, undefined), undefined);
  });
});
