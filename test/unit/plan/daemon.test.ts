// Daemon jobs through decide(): one instance per live eligible node, named
// after it, placed before services, reported where they do not fit, rolled
// node by node on a pod change.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeInfo } from '../../../src/model/cluster';
import { placementName, versionOf } from '../../../src/model/cluster';
import { podTemplateHash } from '../../../src/model/hash';
import type { DesiredJob, JobSpec } from '../../../src/model/job';
import { decide, type ClusterView, type Decision } from '../../../src/plan';
import type { InstanceHealth } from '../../../src/plan/rollout';
import { problemTypeOf } from '../../../src/problems';
import { Gi, applyDecision, container, input, node, view, type PodShape } from '../schedule/fixtures';

function daemonJob(shape: PodShape, labels?: Record<string, string>): DesiredJob {
  const spec: JobSpec = { name: 'agent', type: 'daemon', numInstances: 0, containers: [container(shape)], ...(labels ? { placement: { nodeLabels: labels } } : {}) };
  return { spec, specHash: podTemplateHash(spec), file: 'jobs/agent.yaml' };
}

function service(name: string, n: number, shape: PodShape): DesiredJob {
  const spec: JobSpec = { name, numInstances: n, containers: [container(shape)] };
  return { spec, specHash: podTemplateHash(spec), file: `jobs/${name}.yaml` };
}

function labelled(name: string, memory: number, labels: Record<string, string> = {}): NodeInfo {
  return { ...node(name, { memory }), labels };
}

function round(c: ClusterView, wanted: DesiredJob[], health: Record<string, InstanceHealth> = {}): { d: Decision; c: ClusterView } {
  const d = decide({ ...input(wanted, c), health: new Map(Object.entries(health)) });
  return { d, c: applyDecision(c, d) };
}

function names(c: ClusterView, job = 'agent'): string[] {
  const j = c.jobs.get(job);
  return j ? j.instances.map((p, i) => `${placementName(job, p, i)}@${p.node}`) : [];
}

describe('daemon jobs', () => {
  test('one instance per live node, named <job>-<node>; a node that joins gets one, a dead one loses it', () => {
    const nodes = ['n1', 'n2', 'n3'].map((n) => labelled(n, 4 * Gi));
    let { c } = round(view(nodes), [daemonJob({ memory: 1 * Gi })]);
    assert.deepEqual(names(c), ['agent-n1@n1', 'agent-n2@n2', 'agent-n3@n3']);
    assert.equal(c.jobs.get('agent')?.spec.numInstances, 3);
    ({ c } = round({ ...c, nodes: [...nodes, labelled('n4', 4 * Gi)] }, [daemonJob({ memory: 1 * Gi })]));
    assert.deepEqual(names(c), ['agent-n1@n1', 'agent-n2@n2', 'agent-n3@n3', 'agent-n4@n4']);
    ({ c } = round({ ...c, nodes: c.nodes.filter((n) => n.name !== 'n2') }, [daemonJob({ memory: 1 * Gi })]));
    assert.deepEqual(names(c), ['agent-n1@n1', 'agent-n3@n3', 'agent-n4@n4'], 'never moved to another node');
    assert.equal(round(c, [daemonJob({ memory: 1 * Gi })]).d.putJobs.length, 0, 'a fixed point');
  });

  test('placement.nodeLabels: only matching nodes', () => {
    const nodes = [labelled('n1', 4 * Gi, { disk: 'ssd' }), labelled('n2', 4 * Gi, { disk: 'hdd' }), labelled('n3', 4 * Gi, { disk: 'ssd', zone: 'x' })];
    const { c } = round(view(nodes), [daemonJob({ memory: 1 * Gi }, { disk: 'ssd' })]);
    assert.deepEqual(names(c), ['agent-n1@n1', 'agent-n3@n3']);
  });

  test('a node it does not fit on is named in the report while it runs on the others; the report goes when it fits', () => {
    const nodes = [labelled('n1', 4 * Gi), labelled('small', 1 * Gi)];
    const first = round(view(nodes), [daemonJob({ memory: 2 * Gi })]);
    assert.deepEqual(names(first.c), ['agent-n1@n1']);
    const report = first.d.putRejections.find((r) => r.key === 'agent');
    assert.ok(report);
    assert.equal(problemTypeOf(report.problem), 'daemon-not-placed');
    assert.match(report.problem.detail, /runs on 1 of 2 eligible nodes.*does not fit on: node small: insufficient memory/);
    const bigger = round({ ...first.c, nodes: [labelled('n1', 4 * Gi), labelled('small', 4 * Gi)] }, [daemonJob({ memory: 2 * Gi })]);
    assert.deepEqual(names(bigger.c), ['agent-n1@n1', 'agent-small@small']);
    assert.deepEqual(bigger.d.deleteRejections, ['agent']);
  });

  test('daemons are placed before services', () => {
    const nodes = [labelled('n1', 3 * Gi)];
    const { c, d } = round(view(nodes), [service('aaa', 1, { memory: 2 * Gi }), daemonJob({ memory: 2 * Gi })]);
    assert.deepEqual(names(c), ['agent-n1@n1']);
    assert.equal(d.outcomes.find((o) => o.job === 'aaa')?.bucket, 'rejected');
  });

  test('a pod change rolls node by node, in place', () => {
    const nodes = ['n1', 'n2', 'n3'].map((n) => labelled(n, 4 * Gi));
    let { c } = round(view(nodes), [daemonJob({ memory: 1 * Gi, image: 'a:1' })]);
    const v2 = daemonJob({ memory: 1 * Gi, image: 'a:2' });
    const images = (): string[] => {
      const j = c.jobs.get('agent')!;
      return j.instances.map((p) => `${p.node}:${versionOf(j, p).spec.containers[0]!.image}`);
    };
    ({ c } = round(c, [v2]));
    assert.deepEqual(images(), ['n1:a:2', 'n2:a:1', 'n3:a:1']);
    const healthy: InstanceHealth = { waitedMs: 20_000, healthyMs: 20_000, state: 'healthy', restarts: 0 };
    ({ c } = round(c, [v2], { 'agent-n1': healthy }));
    assert.deepEqual(images(), ['n1:a:2', 'n2:a:2', 'n3:a:1']);
    ({ c } = round(c, [v2], { 'agent-n2': healthy }));
    ({ c } = round(c, [v2], { 'agent-n3': healthy }));
    assert.deepEqual(images(), ['n1:a:2', 'n2:a:2', 'n3:a:2']);
    assert.equal(c.jobs.get('agent')?.rollout, undefined);
  });
});

describe('rebalance (ozy.yaml rebalance: true)', () => {
  const web = service('web', 4, { memory: 1 * Gi });
  const healthy: InstanceHealth = { waitedMs: 20_000, healthyMs: 20_000, state: 'healthy', restarts: 0 };
  const spread = (c: ClusterView): string[] => c.jobs.get('web')!.instances.map((p) => p.node as string);

  test('a node joins: instances move onto it, maxParallel at a time, each once the previous is healthy, until no node is more than one above the average', () => {
    let { c } = round(view([labelled('n1', 8 * Gi)]), [web]);
    assert.deepEqual(spread(c), ['n1', 'n1', 'n1', 'n1']);
    c = { ...c, nodes: [labelled('n1', 8 * Gi), labelled('n2', 8 * Gi)] };
    const step = (health: Record<string, InstanceHealth> = {}): Decision => {
      const d = decide({ ...input([web], c), rebalance: true, health: new Map(Object.entries(health)) });
      c = applyDecision(c, d);
      return d;
    };
    step();
    assert.deepEqual(spread(c), ['n1', 'n1', 'n1', 'n2'], 'the highest ordinal moves first');
    assert.equal(c.jobs.get('web')!.instances[3]!.from, 'n1', 'the new node waits for the old one to let go');
    assert.equal(c.jobs.get('web')!.rollout?.kind, 'move');
    assert.equal(step().putJobs.length, 0, 'the next move waits for the moved instance to be healthy');
    step({ 'web-3': healthy });
    assert.equal(c.jobs.get('web')!.rollout, undefined);
    assert.equal(step().putJobs.length, 0, '3 and 1: no node is more than one above the average of 2');
    // With a third node the average is 4/3: 3 is too many.
    c = { ...c, nodes: [...c.nodes, labelled('n3', 8 * Gi)] };
    step();
    assert.deepEqual(spread(c), ['n1', 'n1', 'n3', 'n2']);
    step({ 'web-2': healthy });
    assert.equal(step().putJobs.length, 0, '2, 1, 1');
  });

  test('without rebalance running instances never move while their node lives', () => {
    const { c } = round(view([labelled('n1', 8 * Gi)]), [web]);
    const joined = { ...c, nodes: [labelled('n1', 8 * Gi), labelled('n2', 8 * Gi)] };
    assert.equal(decide(input([web], joined)).putJobs.length, 0);
  });
});
