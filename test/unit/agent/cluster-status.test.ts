import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildClusterStatus } from '../../../src/agent/cluster-status';
import type { AcceptedJob, InstanceStatus, NodeInfo } from '../../../src/model/cluster';

const spec = { name: 'web', numInstances: 3, containers: [{ name: 'app', image: 'x', restart: 'always' as const, environment: [], ports: [], dependsOn: [], memory: 100, cpu: 10, volumes: [] }] };
const job: AcceptedJob = {
  spec,
  specHash: 'h',
  commit: 'c',
  file: 'jobs/web.yaml',
  acceptedAt: 't',
  instances: [
    { node: 'n1', since: '2026-01-01T00:00:00Z' },
    { node: 'dead', since: '2026-01-01T00:00:00Z' },
    { node: null, since: '2026-01-01T00:00:00Z' },
  ],
};
const n1: NodeInfo = { name: 'n1', address: 'a', labels: {}, capacity: { memory: 1000, disk: 0, cpu: 1000 }, agentId: 'x', leaseId: '1', startedAt: 't' };
const status = (instance: string, state: InstanceStatus['state'], specHash = 'h'): InstanceStatus => ({ instance, job: 'web', node: 'n1', specHash, state, restarts: 2, containers: {}, updatedAt: 't' });

test('instances: reported state and health, lost on a dead node, pending without a node; nodes: used per node', () => {
  const s = buildClusterStatus({ nodes: [n1], jobs: new Map([['web', job]]), rejections: new Map(), statuses: [status('web-0', 'healthy')], agents: new Map() });
  assert.deepEqual(
    s.instances.map((i) => [i.instance, i.node, i.state, i.health, i.restarts]),
    [['web-0', 'n1', 'healthy', 'healthy', 2], ['web-1', 'dead', 'lost', 'unknown', 0], ['web-2', null, 'pending', 'unknown', 0]],
  );
  assert.deepEqual(s.jobs[0], { name: 'web', commit: 'c', specHash: 'h', file: 'jobs/web.yaml', acceptedAt: 't', desired: 3, placed: 2, pending: 1, healthy: 1, rollout: 'running', type: 'service' });
  assert.deepEqual(s.nodes.map((n) => [n.name, n.alive, n.used.memory]), [['dead', false, 100], ['n1', true, 100]]);
});

test('why: a pending instance has the placement problem and each node\'s reason; a restart keeps its cause', () => {
  const big: AcceptedJob = { ...job, spec: { ...spec, containers: [{ ...spec.containers[0]!, memory: 2000 }] }, instances: [{ node: null, since: '2026-01-01T00:00:00Z' }] };
  const restarted: InstanceStatus = { ...status('web-0', 'unhealthy'), message: 'container app fails its health check: GET /health → 404', lastRestart: { cause: 'container app failed its health check (GET /health → 404)', at: 't2' } };
  const s = buildClusterStatus({ nodes: [n1], jobs: new Map([['web', job], ['big', { ...big, spec: { ...big.spec, name: 'big' } }]]), rejections: new Map(), statuses: [restarted], agents: new Map() });
  const pending = s.instances.find((i) => i.instance === 'big-0')!;
  assert.match(pending.message ?? '', /requires .* memory/);
  assert.deepEqual(Object.keys(pending.nodeReasons ?? {}), ['n1']);
  assert.match(pending.nodeReasons!.n1!, /memory/);
  const web0 = s.instances.find((i) => i.instance === 'web-0')!;
  assert.deepEqual([web0.message, web0.lastRestart?.cause], ['container app fails its health check: GET /health → 404', 'container app failed its health check (GET /health → 404)']);
  // A pending instance that fits is placed by the next round: nothing per node to say.
  assert.equal(s.instances.find((i) => i.instance === 'web-2')!.nodeReasons, undefined);
});

test('a status written for an older spec does not count for the new one', () => {
  const s = buildClusterStatus({ nodes: [n1], jobs: new Map([['web', job]]), rejections: new Map(), statuses: [status('web-0', 'healthy', 'old')], agents: new Map() });
  assert.equal(s.instances[0]!.state, 'pending');
});

test('a rolling update: `updating k/n to <commit>`, pinned instances count with the status of the version they run', () => {
  const rolling: AcceptedJob = {
    ...job,
    specHash: 'new',
    commit: 'c2c2c2c2c2c2c2c2',
    instances: [
      { node: 'n1', since: 't' },
      { node: 'n1', since: 't' },
      { node: 'n1', since: 't', spec: 'h' },
    ],
    versions: { h: { spec, commit: 'c' } },
    rollout: { kind: 'update', commit: 'c2c2c2c2c2c2c2c2', from: 'h', batch: [1], startedAt: 't' },
  };
  const s = buildClusterStatus({
    nodes: [n1],
    jobs: new Map([['web', rolling]]),
    rejections: new Map(),
    statuses: [status('web-0', 'healthy', 'new'), status('web-1', 'starting', 'new'), status('web-2', 'healthy', 'h')],
    agents: new Map(),
  });
  assert.equal(s.jobs[0]!.rollout, 'updating 1/3 to c2c2c2c2c2c2c2c2');
  assert.deepEqual(s.jobs[0]!.update?.batch, ['web-1']);
  assert.deepEqual(s.instances.map((i) => [i.instance, i.state, i.spec]), [['web-0', 'healthy', 'new'], ['web-1', 'starting', 'new'], ['web-2', 'healthy', 'h']]);
  assert.equal(s.jobs[0]!.healthy, 2);
});

test('spread: zones: each instance shows its node\'s zone, and "away from zone c" outside its home (a known zone without live nodes keeps its place)', () => {
  const zoned = (name: string, zone: string): NodeInfo => ({ ...n1, name, zone });
  const spread: AcceptedJob = {
    ...job,
    spec: { ...spec, placement: { spread: 'zones' } },
    instances: [{ node: 'a1', since: 't' }, { node: 'b1', since: 't' }, { node: 'a1', since: 't' }],
  };
  const s = buildClusterStatus({ nodes: [zoned('a1', 'a'), zoned('b1', 'b')], zones: ['a', 'b', 'c'], jobs: new Map([['web', spread]]), rejections: new Map(), statuses: [], agents: new Map() });
  assert.deepEqual(
    s.instances.map((i) => [i.instance, i.zone, i.away]),
    [['web-0', 'a', undefined], ['web-1', 'b', undefined], ['web-2', 'a', 'away from zone c']],
  );
});

test('allocated counts the persistent volumes of scaled-away instances on their node, as the scheduler does', () => {
  const G = 1024 ** 3;
  const db = { ...spec, name: 'db', numInstances: 1, containers: [{ ...spec.containers[0]!, volumes: [{ type: 'persistent' as const, path: '/data', space: 10 * G }] }] };
  const n2: NodeInfo = { ...n1, name: 'n2', capacity: { memory: 1000, disk: 100 * G, cpu: 1000 } };
  const scaledDown: AcceptedJob = {
    spec: db,
    specHash: 'd',
    commit: 'c',
    file: 'jobs/db.yaml',
    acceptedAt: 't',
    instances: [{ node: 'n1', since: 't' }],
    volumes: { '0': 'n1', '1': 'n2', '2': 'n2' }, // db-1 and db-2 scaled away: their data stays on n2
  };
  const s = buildClusterStatus({ nodes: [{ ...n1, capacity: { ...n1.capacity, disk: 100 * G } }, n2], jobs: new Map([['db', scaledDown]]), rejections: new Map(), statuses: [], agents: new Map() });
  assert.deepEqual(s.nodes.map((n) => [n.name, n.allocated.disk / G, n.allocated.memory]), [['n1', 10, 100], ['n2', 20, 0]]);
});

test('an autoscaled job: measured CPU of the counted instances, target, bounds, what it asks for, capped by capacity', () => {
  const autoscale = { min: 1, max: 5, cpuPercent: 50, scaleDownAfterMs: 300_000 };
  const scaled: AcceptedJob = { ...job, spec: { ...spec, autoscale }, instances: [{ node: 'n1', since: 't' }, { node: 'n1', since: 't' }] };
  const cpu = new Map([['n1', { sampleMs: 2000, instances: { 'web-0': { job: 'web', spec: 'h', healthy: true, used: 9, limit: 10 }, 'web-1': { job: 'web', spec: 'h', healthy: true, used: 8, limit: 10 } } }]]);
  const s = buildClusterStatus({ nodes: [n1], jobs: new Map([['web', scaled]]), rejections: new Map(), statuses: [], agents: new Map(), cpu });
  assert.deepEqual(s.jobs[0]!.autoscale, { min: 1, max: 5, count: 2, targetPercent: 50, measuredPercent: 85, counted: 2, wants: 4, capped: false, state: 'scaling up to 4' });
  const capped: AcceptedJob = { ...scaled, instances: [...scaled.instances, { node: null, since: 't' }] };
  const c = buildClusterStatus({ nodes: [n1], jobs: new Map([['web', capped]]), rejections: new Map(), statuses: [], agents: new Map(), cpu });
  assert.equal(c.jobs[0]!.autoscale?.state, 'capped by capacity (2 of 3 placed)');
  assert.equal(c.jobs[0]!.autoscale?.capped, true);
  const idle = buildClusterStatus({ nodes: [n1], jobs: new Map([['web', scaled]]), rejections: new Map(), statuses: [], agents: new Map() });
  assert.equal(idle.jobs[0]!.autoscale?.measuredPercent, null);
  assert.equal(idle.jobs[0]!.autoscale?.state, 'steady');
});
