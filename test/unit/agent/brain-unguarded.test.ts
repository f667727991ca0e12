// The schedule guard only refuses a commit when the schedule key moved. A
// node whose lease expires between the view a decision read and its commit
// lands below the commit's revision: the round after the commit must still
// judge it, not call itself idle (zones end to end: both zone-c agents
// killed, db-2 moved onto c2 as c2's node key was being deleted, then stayed
// on the dead c2 for good). Fakes for git and the watch-fed store.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { Brain } from '../../../src/agent/brain';
import type { GitPort, ScheduleWrites, Snapshot, SourceFile, StorePort } from '../../../src/agent/ports';
import type { AcceptedJob, NodeInfo } from '../../../src/model/cluster';

const GiB = 1024 ** 3;

function node(name: string): NodeInfo {
  return { name, address: '127.0.0.1', labels: {}, capacity: { memory: 4 * GiB, disk: 10 * GiB, cpu: 4000 }, agentId: name, leaseId: '1', startedAt: '2024-01-01T00:00:00.000Z' };
}

const web: SourceFile = {
  path: 'jobs/web.yaml',
  content: 'name: web\nnumInstances: 1\ncontainers:\n  app:\n    image: localhost/ozy-busybox:1\n    memory: 64M\n',
};

/**
 * A watch-fed view at revision 10 with nodes n1 and n2. The first commit gets
 * revision 12; the view then shows it (and the reports mark at 13), with the
 * node the instance landed on deleted at revision 11 when `nodeDiesInBetween`.
 */
function fixture(nodeDiesInBetween: boolean): { brain: Brain; commits: ScheduleWrites[] } {
  const git: GitPort = {
    sync: async () => ({ head: 'a'.repeat(40) }),
    readFiles: async () => ({ files: [web], changed: [web.path] }),
    syncReports: async () => null,
    isAncestor: async () => true,
  };
  let view: Snapshot = {
    revision: 10,
    inputsRevision: 10,
    nodesRevision: 5,
    scheduleRevision: 0,
    reportsRevision: 0,
    nodes: [node('n1'), node('n2')],
    jobs: new Map(),
    rejections: new Map(),
  };
  const commits: ScheduleWrites[] = [];
  const store: StorePort = {
    snapshot: async () => view,
    commitSchedule: async (guard, writes) => {
      assert.equal(guard, view.scheduleRevision);
      commits.push(writes);
      const jobs = new Map(view.jobs);
      for (const j of writes.putJobs) jobs.set(j.spec.name, j);
      const landed = writes.putJobs[0]?.instances[0]?.node;
      const dies = nodeDiesInBetween && commits.length === 1;
      // The lease expiry (revision 11) is not a schedule write: the guard lets the commit through.
      const committed = view.revision + (dies ? 2 : 1);
      view = {
        ...view,
        revision: committed + 1, // the reports mark, written after the commit
        inputsRevision: committed,
        ...(dies ? { nodesRevision: committed - 1, nodes: view.nodes.filter((n) => n.name !== landed) } : {}),
        scheduleRevision: committed,
        jobs,
      };
      return { ok: true, revision: committed };
    },
    markReportsPushed: async () => undefined,
  };
  const brain = new Brain(git, store, { node: 'n1', reportBranch: 'main', reportsDir: 'rejections', staleCommitMs: 10_000, log: pino({ level: 'silent' }) });
  return { brain, commits };
}

function placedOn(writes: ScheduleWrites | undefined): string | null | undefined {
  const job: AcceptedJob | undefined = writes?.putJobs[0];
  return job?.instances[0]?.node;
}

describe('brain: changes the schedule guard does not cover', () => {
  test('a node that dies between the decision and its commit is judged by the next round', async () => {
    const { brain, commits } = fixture(true);
    assert.equal((await brain.tick()).kind, 'committed');
    const first = placedOn(commits[0]);
    assert.ok(first === 'n1' || first === 'n2', `placed on a live node: ${String(first)}`);
    const next = await brain.tick({ fetch: false });
    assert.equal(next.kind, 'committed', `the round after the commit saw ${first} gone (got ${next.kind})`);
    const second = placedOn(commits[1]);
    assert.ok(second !== first && second !== null && second !== undefined, `moved off the dead node ${first}: now on ${String(second)}`);
    assert.equal((await brain.tick({ fetch: false })).kind, 'idle', 'then nothing is left to decide');
  });

  test('nothing changed but our own commit: the next round is idle (no decision, no etcd read)', async () => {
    const { brain, commits } = fixture(false);
    assert.equal((await brain.tick()).kind, 'committed');
    assert.equal((await brain.tick({ fetch: false })).kind, 'idle');
    assert.equal(commits.length, 1);
  });
});
