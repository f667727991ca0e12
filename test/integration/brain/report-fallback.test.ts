// The agent whose decision won pushes the reports. If it dies between its
// etcd commit and its push, another agent finishes the push once the
// schedule has been quiet for a while — and only then.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { Brain } from '../../../src/agent/brain';
import type { GitPort } from '../../../src/agent/ports';
import { GitSource } from '../../../src/source';
import { ClusterStore, type NodeSession } from '../../../src/store';
import { jobYaml } from '../../harness/cluster';
import { startEtcd, type EtcdServer } from '../../harness/etcd';
import { startGitServer, type GitServer } from '../../harness/git-server';
import { cloneAsUser, type GitUser } from '../../harness/git-user';
import { tempDir } from '../../harness/tmp';

const GiB = 1024 ** 3;

describe('brain: a report push the winner never made', () => {
  let etcd: EtcdServer;
  let git: GitServer;
  let user: GitUser;
  let store: ClusterStore;
  let session: NodeSession;
  const tmp = tempDir('ozy-fallback-');

  before(async () => {
    [etcd, git] = await Promise.all([startEtcd(), startGitServer()]);
    await git.createBareRepo('jobs');
    user = await cloneAsUser(git.url('jobs'));
    store = ClusterStore.connect({ endpoints: [etcd.endpoint] });
    session = await store.registerNode(
      { name: 'n1', address: '127.0.0.1', labels: {}, capacity: { memory: 1 * GiB, disk: 10 * GiB, cpu: 2000 } },
      { ttlSeconds: 30, agentId: 'n1' },
    );
  });
  after(async () => {
    await session.revoke().catch(() => undefined);
    await store.close();
    user.cleanup();
    await Promise.all([git.stop(), etcd.stop()]);
    tmp.cleanup();
  });

  test('another agent pushes the missing report after the quiet period, exactly once', async () => {
    user.writeFiles({ 'jobs/huge.yaml': jobYaml('huge', { memory: '5G' }) });
    await user.commitAndPush('too big');
    const log = pino({ level: 'silent' });
    const source = (name: string) => new GitSource({ url: git.url('jobs'), branch: 'main', dir: path.join(tmp.dir, name) });
    // The winner commits to etcd, then "dies" before its push reaches git.
    const winnerGit = source('winner');
    const dying: GitPort = {
      sync: () => winnerGit.sync(),
      readFiles: (...a) => winnerGit.readFiles(...a),
      isAncestor: (a, b) => winnerGit.isAncestor(a, b),
      syncReports: async () => {
        throw new Error('process killed before the push');
      },
    };
    // The quiet period is measured on each agent's own monotonic clock, never from another agent's timestamp.
    let clock = 0;
    const monotonic = () => clock;
    const winner = new Brain(dying, store, { node: 'n1', reportBranch: 'main', reportsDir: 'rejections', staleCommitMs: 5_000, log, monotonic });
    assert.equal((await winner.tick()).kind, 'committed');
    assert.ok((await store.snapshot()).rejections.has('huge'));
    assert.equal(await user.readRemoteFile('main', 'rejections/huge.json'), null, 'the report never reached git');

    const other = new Brain(source('other'), store, { node: 'n2', reportBranch: 'main', reportsDir: 'rejections', staleCommitMs: 5_000, log, monotonic });
    // Within the quiet period the winner may still be pushing: leave it alone.
    assert.equal((await other.tick()).kind, 'unchanged');
    assert.equal(await user.readRemoteFile('main', 'rejections/huge.json'), null);
    // After it, the other agent finishes the push, and records it.
    clock += 6_000;
    const commits = await user.commitCount('main');
    assert.equal((await other.tick()).kind, 'idle', 'nothing to decide: the cluster did not change');
    const report = JSON.parse((await user.readRemoteFile('main', 'rejections/huge.json')) ?? 'null') as { job?: string } | null;
    assert.equal(report?.job, 'huge');
    assert.equal((await user.commitCount('main')) - commits, 1);
    const snap = await store.snapshot();
    assert.equal(snap.reportsRevision, snap.scheduleRevision);
    // Later rounds do nothing more.
    assert.match((await other.tick()).kind, /^(idle|unchanged)$/);
    assert.equal((await other.tick()).kind, 'idle');
    assert.equal((await user.commitCount('main')) - commits, 1);
  });
});
