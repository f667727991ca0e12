// A daemon job with a persistent volume: its instance `<job>-<node>` only
// ever runs on its node, so nothing is pinned and nothing waits ("volume on
// node N" is for services); but its volumes are recorded by instance name,
// so that a node whose daemon instance went (the node died, or stopped
// matching the labels) still keeps the job in its view and does not delete
// the data as a deleted job's: the instance finds it again when it comes
// back. A pod change rolls in place. A record left by the job's time as a
// service is all data without an instance: its space stays counted on its
// nodes until the job is deleted.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { placementName } from '../../../src/model/cluster';
import { runsOn } from '../../../src/agent/node-jobs';
import { podTemplateHash } from '../../../src/model/hash';
import type { DesiredJob, JobSpec } from '../../../src/model/job';
import { decide, type ClusterView, type Decision } from '../../../src/plan';
import { footprintOf } from '../../../src/plan/node-load';
import { DISK, allocatedByNode } from '../../../src/schedule';
import { Gi, applyDecision, container, input, node, view } from '../schedule/fixtures';

function agent(memory: number, type: 'daemon' | undefined, numInstances = 0): DesiredJob {
  const c = { ...container({ memory }), volumes: [{ type: 'persistent' as const, path: '/state', space: 10 * Gi }] };
  const spec: JobSpec = { name: 'agent', numInstances, containers: [c], ...(type ? { type } : {}) };
  return { spec, specHash: podTemplateHash(spec), file: 'jobs/agent.yaml' };
}

function round(c: ClusterView, wanted: DesiredJob[]): { d: Decision; c: ClusterView } {
  const d = decide(input(wanted, c));
  return { d, c: applyDecision(c, d) };
}

function names(c: ClusterView): string[] {
  const j = c.jobs.get('agent');
  return j ? j.instances.map((p, i) => `${placementName('agent', p, i)}@${p.node}`) : [];
}

const nodes = ['n1', 'n2'].map((n) => node(n, { memory: 8 * Gi, disk: 100 * Gi }));

describe('daemon with a persistent volume', () => {
  test('recorded by instance name; a dead node loses its instance without a wait but keeps the job in its view, and gets it back on return', () => {
    let { c } = round(view(nodes), [agent(1 * Gi, 'daemon')]);
    assert.deepEqual(names(c), ['agent-n1@n1', 'agent-n2@n2']);
    assert.deepEqual(c.jobs.get('agent')?.volumes, { 'agent-n1': 'n1', 'agent-n2': 'n2' });
    const down = round({ ...c, nodes: [nodes[0]!] }, [agent(1 * Gi, 'daemon')]);
    assert.deepEqual(names(down.c), ['agent-n1@n1']);
    assert.equal(down.d.counts.pending, 0, 'no "volume on node" wait for a daemon');
    assert.equal(runsOn(down.c.jobs.get('agent')!, 'n2'), true, 'n2 keeps agent-n2\'s data: the job stays in its view');
    assert.equal(allocatedByNode(down.c.jobs.values()).get('n2'), undefined, 'not counted as retained (see docs/node-runtime.md)');
    ({ c } = round({ ...down.c, nodes }, [agent(1 * Gi, 'daemon')]));
    assert.deepEqual(names(c), ['agent-n1@n1', 'agent-n2@n2'], 'agent-n2 is back on n2, where its data is');
    assert.equal(round(c, [agent(1 * Gi, 'daemon')]).d.putJobs.length, 0, 'a fixed point');
  });

  test('a daemon accepted without a record gets one written once', () => {
    let { c } = round(view(nodes), [agent(1 * Gi, 'daemon')]);
    const old = { ...c.jobs.get('agent')! };
    delete old.volumes;
    const r = round({ ...c, jobs: new Map([['agent', old]]) }, [agent(1 * Gi, 'daemon')]);
    assert.deepEqual(r.d.putJobs[0]?.volumes, { 'agent-n1': 'n1', 'agent-n2': 'n2' });
    c = r.c;
    assert.equal(round(c, [agent(1 * Gi, 'daemon')]).d.putJobs.length, 0);
  });

  test('a pod change rolls each instance on its own node; the disk counts once per instance', () => {
    let { c } = round(view(nodes), [agent(1 * Gi, 'daemon')]);
    ({ c } = round(c, [agent(2 * Gi, 'daemon')]));
    assert.deepEqual(names(c), ['agent-n1@n1', 'agent-n2@n2']);
    assert.equal(allocatedByNode(c.jobs.values()).get('n1')?.disk, 10 * Gi);
  });

  test('a service turned daemon: the ordinals\' volumes stay counted on their nodes (retained), not pinned', () => {
    let { c } = round(view(nodes), [agent(1 * Gi, undefined, 2)]);
    const record = c.jobs.get('agent')?.volumes;
    assert.equal(Object.keys(record ?? {}).length, 2);
    ({ c } = round(c, [agent(1 * Gi, 'daemon')]));
    assert.deepEqual(names(c), ['agent-n1@n1', 'agent-n2@n2']);
    const job = c.jobs.get('agent')!;
    assert.deepEqual(job.volumes, { ...record, 'agent-n1': 'n1', 'agent-n2': 'n2' }, 'the data of agent-0 and agent-1 is still on disk: kept until the job is deleted');
    // Each ordinal's 10 GiB stay where they are, next to the daemon instance's own.
    const used = allocatedByNode(c.jobs.values());
    const expected = new Map<string, number>();
    for (const n of Object.values(record!)) expected.set(n, (expected.get(n) ?? 0) + 10 * Gi);
    for (const n of ['n1', 'n2']) assert.equal(used.get(n)?.disk, 10 * Gi + (expected.get(n) ?? 0), n);
    assert.equal(footprintOf(job).perNode.get('n1')?.amounts[DISK], used.get('n1')?.disk);
    // A round later nothing changes (a fixed point: the record is not rewritten, nothing waits).
    const again = round(c, [agent(1 * Gi, 'daemon')]);
    assert.equal(again.d.putJobs.length, 0);
  });

  test('the round that turns a service into a daemon already counts the retained space', () => {
    const one = [node('n1', { memory: 8 * Gi, disk: 30 * Gi })];
    let { c } = round(view(one), [agent(1 * Gi, undefined, 1)]);
    const webSpec: JobSpec = { name: 'web', numInstances: 1, containers: [container({ memory: 1 * Gi, disk: 15 * Gi })] };
    const web: DesiredJob = { spec: webSpec, specHash: podTemplateHash(webSpec), file: 'jobs/web.yaml' };
    const r = round(c, [agent(1 * Gi, 'daemon'), web]);
    c = r.c;
    assert.deepEqual(names(c), ['agent-n1@n1']);
    // agent-0's 10 GiB + agent-n1's 10 GiB leave 10 GiB: web's 15 GiB do not fit.
    assert.equal(r.d.outcomes.find((o) => o.job === 'web')?.bucket, 'rejected');
  });
});
