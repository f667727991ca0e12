import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assignmentKey, assignmentsFor, jobChangeConcernsNode, planNode } from '../../../src/agent/node-plan';
import type { AcceptedJob } from '../../../src/model/cluster';
import { runsOn } from '../../../src/agent/node-jobs';

function job(name: string, hash: string, nodes: Array<string | null>): AcceptedJob {
  return {
    spec: { name, numInstances: nodes.length, containers: [] },
    specHash: hash,
    commit: 'c1',
    file: `jobs/${name}.yaml`,
    acceptedAt: '2026-01-01T00:00:00Z',
    instances: nodes.map((node) => ({ node, since: '2026-01-01T00:00:00Z' })),
  };
}

describe('assignmentsFor', () => {
  test('returns only this node\'s instances, named <job>-<ordinal>', () => {
    const a = assignmentsFor('n1', [job('web', 'h1', ['n1', 'n2', 'n1', null]), job('db', 'h2', ['n2'])]);
    assert.deepEqual(a.map((x) => [x.instance, x.ordinal]), [['web-0', 0], ['web-2', 2]]);
  });
});

describe('planNode', () => {
  const assigned = assignmentsFor('n1', [job('web', 'h1', ['n1', 'n1']), job('api', 'h9', ['n1'])]);
  test('starts missing, keeps matching, replaces changed specs, stops unassigned', () => {
    const plan = planNode(assigned, [
      { instance: 'web-0', job: 'web', specHash: 'h1' },
      { instance: 'api-0', job: 'api', specHash: 'old' },
      { instance: 'gone-3', job: 'gone', specHash: 'x' },
    ]);
    assert.deepEqual(plan.keep.map((x) => x.instance), ['web-0']);
    assert.deepEqual(plan.start.map((x) => x.instance), ['web-1']);
    assert.deepEqual(plan.replace.map((x) => x.instance), ['api-0']);
    assert.deepEqual(plan.stop.map((x) => x.instance), ['gone-3']);
  });
  test('nothing assigned: everything running is stopped', () => {
    const plan = planNode([], [{ instance: 'web-0', job: 'web', specHash: 'h1' }]);
    assert.equal(plan.stop.length, 1);
    assert.equal(plan.start.length + plan.keep.length + plan.replace.length, 0);
  });
});

describe("did this node's assignment change", () => {
  test('assignmentKey: equal for the same instances and specs, whatever else the cluster runs', () => {
    const mine = job('web', 'h1', ['n1', 'n2']);
    const key = assignmentKey(assignmentsFor('n1', [mine]));
    assert.equal(assignmentKey(assignmentsFor('n1', [mine, job('db', 'h2', ['n2', 'n3'])])), key, 'a job elsewhere');
    assert.equal(assignmentKey(assignmentsFor('n1', [job('web', 'h1', ['n1', 'n3'])])), key, 'its other instance moved between other nodes');
    assert.notEqual(assignmentKey(assignmentsFor('n1', [job('web', 'h2', ['n1', 'n2'])])), key, 'a new spec');
    assert.notEqual(assignmentKey(assignmentsFor('n1', [job('web', 'h1', ['n1', 'n1'])])), key, 'one more instance here');
    assert.notEqual(assignmentKey(assignmentsFor('n1', [])), key, 'the job deleted');
  });

  test('jobChangeConcernsNode: only changes of instances placed here, before or after', () => {
    const before = job('web', 'h1', ['n2', 'n3']);
    assert.equal(jobChangeConcernsNode('n1', before, job('web', 'h2', ['n2', 'n3'])), false, 'a spec change elsewhere');
    assert.equal(jobChangeConcernsNode('n1', undefined, job('db', 'h1', ['n2'])), false, 'a new job elsewhere');
    assert.equal(jobChangeConcernsNode('n1', before, undefined), false, 'deleting a job that never ran here');
    assert.equal(jobChangeConcernsNode('n1', before, job('web', 'h1', ['n2', 'n1'])), true, 'an instance moves here');
    assert.equal(jobChangeConcernsNode('n1', job('web', 'h1', ['n1']), job('web', 'h1', ['n2'])), true, 'an instance leaves');
    assert.equal(jobChangeConcernsNode('n1', job('web', 'h1', ['n1']), job('web', 'h2', ['n1'])), true, 'a spec change here');
    assert.equal(jobChangeConcernsNode('n1', job('web', 'h1', ['n1']), undefined), true, 'a job running here deleted');
  });

  test('a job keeping only persistent volumes here (scaled to 0) is this node\'s: its deletion concerns it', () => {
    const scaledAway: AcceptedJob = { ...job('db', 'h1', []), volumes: { '0': 'n1' } };
    assert.equal(runsOn(scaledAway, 'n1'), true);
    assert.equal(runsOn(scaledAway, 'n2'), false);
    assert.equal(jobChangeConcernsNode('n1', scaledAway, undefined), true, 'deleted: its volumes go');
    assert.equal(jobChangeConcernsNode('n2', scaledAway, undefined), false);
  });
});
