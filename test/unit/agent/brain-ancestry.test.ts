// Brain.isBehind: a schedule judged on a commit in our head's history is
// ours to replace. When that commit is a known ancestor (the new head's
// parent is the head this brain judged before) no git walk is needed; any
// other commit is still asked of git, and the force-push / stale-commit
// rule is as before. Fakes for git (a commit graph) and the store.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { Brain } from '../../../src/agent/brain';
import type { GitPort, Snapshot, SourceFile, StorePort } from '../../../src/agent/ports';
import type { NodeInfo } from '../../../src/model/cluster';

const GiB = 1024 ** 3;
const oid = (c: string): string => c.repeat(40);
const [A, B, C, X, F] = ['a', 'b', 'c', 'd', 'f'].map(oid);
/** A ← B ← C on main; F force-pushed on top of X, unrelated to them. */
const PARENTS: Record<string, string[]> = { [A]: [], [B]: [A], [C]: [B], [X]: [], [F]: [X] };

function isAncestorIn(ancestor: string, descendant: string): boolean {
  if (ancestor === descendant) return true;
  return (PARENTS[descendant] ?? []).some((p) => isAncestorIn(ancestor, p));
}

function node(name: string): NodeInfo {
  return { name, address: '127.0.0.1', labels: {}, capacity: { memory: 4 * GiB, disk: 10 * GiB, cpu: 4000 }, agentId: name, leaseId: '1', startedAt: '2024-01-01T00:00:00.000Z' };
}

function jobFile(count: number): SourceFile {
  return { path: 'jobs/web.yaml', content: `name: web\nnumInstances: ${count}\ncontainers:\n  app:\n    image: localhost/ozy-busybox:1\n    memory: 64M\n` };
}

function fixture(opts: { parents: boolean }) {
  let head = A;
  let clock = 0;
  const walks: Array<[string, string]> = [];
  const git: GitPort = {
    sync: async () => ({ head }),
    // Each commit has its own count, so every new head is a change to decide.
    readFiles: async (commit) => ({
      files: [jobFile(1 + 'abcdf'.indexOf(commit[0]!))],
      changed: ['jobs/web.yaml'],
      ...(opts.parents ? { parents: PARENTS[commit] ?? [] } : {}),
    }),
    syncReports: async () => null,
    isAncestor: async (a, d) => {
      walks.push([a, d]);
      return isAncestorIn(a, d);
    },
  };
  let view: Snapshot = { revision: 10, inputsRevision: 10, nodesRevision: 5, scheduleRevision: 0, reportsRevision: 0, nodes: [node('n1')], jobs: new Map(), rejections: new Map() };
  const store: StorePort = {
    snapshot: async () => view,
    commitSchedule: async (guard, writes, meta) => {
      assert.equal(guard, view.scheduleRevision);
      const jobs = new Map(view.jobs);
      for (const j of writes.putJobs) jobs.set(j.spec.name, j);
      const revision = view.revision + 1;
      view = { ...view, revision, inputsRevision: revision, scheduleRevision: revision, schedule: { commit: meta.commit, at: '', by: meta.by }, jobs };
      return { ok: true, revision };
    },
    markReportsPushed: async () => undefined,
  };
  const brain = new Brain(git, store, { node: 'n1', reportBranch: 'main', reportsDir: 'rejections', staleCommitMs: 10_000, monotonic: () => clock, log: pino({ level: 'silent' }) });
  return {
    brain,
    walks,
    push: (c: string) => (head = c),
    /** Another agent committed a schedule judged on `commit`. */
    judgedElsewhere: (commit: string) => {
      const revision = view.revision + 1;
      view = { ...view, revision, inputsRevision: revision, scheduleRevision: revision, schedule: { commit, at: '', by: 'n2' } };
    },
    advanceClock: (ms: number) => (clock += ms),
  };
}

describe('brain: is another agent ahead of us?', () => {
  test('the head we judged before is the new head parent: no git walk', async () => {
    const f = fixture({ parents: true });
    assert.equal((await f.brain.tick()).kind, 'committed');
    f.push(B);
    assert.equal((await f.brain.tick()).kind, 'committed');
    f.push(C);
    assert.equal((await f.brain.tick()).kind, 'committed');
    assert.deepEqual(f.walks, []);
    // A schedule judged on A (C's grandparent, known through B) is ours to replace too.
    f.judgedElsewhere(A);
    assert.equal((await f.brain.tick({ fetch: false })).kind, 'unchanged');
    assert.deepEqual(f.walks, []);
  });

  test('without parents from git, ancestry is asked of git as before', async () => {
    const f = fixture({ parents: false });
    assert.equal((await f.brain.tick()).kind, 'committed');
    f.push(B);
    assert.equal((await f.brain.tick()).kind, 'committed');
    assert.deepEqual(f.walks, [[A, B]]);
  });

  test('a schedule judged on a newer commit than our head: behind (git is asked)', async () => {
    const f = fixture({ parents: true });
    f.push(B);
    assert.equal((await f.brain.tick()).kind, 'committed');
    f.judgedElsewhere(C); // judged by an agent that fetched C before us
    const r = await f.brain.tick({ fetch: false });
    assert.deepEqual(r, { kind: 'behind', head: B, judged: C });
    assert.deepEqual(f.walks, [[C, B]]);
  });

  test('force-pushed away: git is asked, and the stale-commit rule still waits before replacing it', async () => {
    const f = fixture({ parents: true });
    f.push(B);
    assert.equal((await f.brain.tick()).kind, 'committed');
    f.push(F); // F's history does not hold B
    assert.deepEqual(await f.brain.tick(), { kind: 'behind', head: F, judged: B });
    assert.deepEqual(f.walks, [[B, F]]);
    f.advanceClock(10_001);
    assert.equal((await f.brain.tick()).kind, 'committed', 'a judged commit git no longer has, stale: replaced');
  });
});
