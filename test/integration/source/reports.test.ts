// syncReports against a real git smart-HTTP server: commits only when
// something differs, never touches files outside the reports dir, survives
// racing pushers (other agents, the user) without losing anything.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { GitSource, GitSourceError, type GitSourceDeps, type HttpClient } from '../../../src/source';
import { createHttpClient } from '../../../src/source';
import { startGitServer, type GitServer } from '../../harness/git-server';
import { cloneAsUser, type GitUser } from '../../harness/git-user';
import { tempDir } from '../../harness/tmp';

const report = (job: string, detail: string): string => `${JSON.stringify({ type: 'x', title: 't', detail, job }, null, 2)}\n`;
const jobsOnly = (p: string): boolean => p.startsWith('jobs/');

/** An HTTP client that runs `hook` once, just before the first request matching `when`. */
function interceptOnce(when: (url: string, method: string) => boolean, hook: () => Promise<void>): HttpClient {
  const inner = createHttpClient({ timeoutMs: 10_000 });
  let fired = false;
  return {
    async request(req) {
      if (!fired && when(req.url, req.method ?? 'GET')) {
        fired = true;
        await hook();
      }
      return inner.request(req);
    },
  };
}

describe('git source: syncReports', () => {
  let server: GitServer;
  const tmp = tempDir('ozy-reports-');
  const users: GitUser[] = [];
  let count = 0;

  before(async () => {
    server = await startGitServer();
  });
  after(async () => {
    for (const u of users) u.cleanup();
    await server.stop();
    tmp.cleanup();
  });

  async function setup(): Promise<{ user: GitUser; name: string; source: (deps?: GitSourceDeps) => GitSource }> {
    const name = `reports-${++count}`;
    await server.createBareRepo(name);
    const user = await cloneAsUser(server.url(name));
    users.push(user);
    user.writeFiles({ 'jobs/web.yaml': 'name: web\n', 'jobs/db.yaml': 'name: db\n', 'rejections/README.md': 'reports land here\n' });
    await user.commitAndPush('initial');
    let agents = 0;
    const source = (deps?: GitSourceDeps): GitSource =>
      new GitSource(
        { url: server.url(name), branch: 'main', dir: path.join(tmp.dir, `${name}-agent-${++agents}`), pushBackoffMs: 5 },
        deps,
      );
    return { user, name, source };
  }

  test('creates, updates and deletes report files; no commit when nothing differs; other files untouched', async () => {
    const { user, source } = await setup();
    const agent = source();
    const before = await user.commitCount('main');

    const c1 = await agent.syncReports('main', 'rejections', new Map([['web.json', report('web', 'too big')], ['db.json', report('db', 'bad')]]), 'ozy: reports for abc');
    assert.ok(c1);
    assert.equal(await user.remoteHead(), c1);
    assert.equal(await user.readRemoteFile('main', 'rejections/web.json'), report('web', 'too big'));
    assert.equal(await user.readRemoteFile('main', 'rejections/db.json'), report('db', 'bad'));

    // Same content again: nothing to commit.
    assert.equal(await agent.syncReports('main', 'rejections', new Map([['web.json', report('web', 'too big')]]), 'again'), null);
    assert.equal(await user.remoteHead(), c1);

    // Update one, delete the other, delete one that never existed.
    const c2 = await agent.syncReports(
      'main',
      'rejections',
      new Map<string, string | null>([['web.json', report('web', 'still too big')], ['db.json', null], ['gone.json', null]]),
      'ozy: reports for def',
    );
    assert.ok(c2);
    assert.equal(await user.readRemoteFile('main', 'rejections/web.json'), report('web', 'still too big'));
    assert.equal(await user.readRemoteFile('main', 'rejections/db.json'), null);
    assert.deepEqual(await user.listRemoteFiles('main'), ['jobs/db.yaml', 'jobs/web.yaml', 'rejections/README.md', 'rejections/web.json']);
    assert.equal(await user.commitCount('main'), before + 2);
    assert.equal((await user.git('log', '-1', '--format=%s', 'origin/main')), 'ozy: reports for def');
  });

  test('prune deletes every report the desired set does not name', async () => {
    const { user, source } = await setup();
    const agent = source();
    await agent.syncReports('main', 'rejections', new Map([['a.json', '{}'], ['b.json', '{}']]), 'two');
    await agent.syncReports('main', 'rejections', new Map([['b.json', '{"x":1}']]), 'prune', { prune: true });
    assert.deepEqual(await user.listRemoteFiles('main', 'rejections'), ['rejections/b.json']);
    assert.deepEqual(await user.listRemoteFiles('main', 'jobs'), ['jobs/db.yaml', 'jobs/web.yaml']);
  });

  test('on the tracked branch, a report commit shows no relevant change and reads nothing', async () => {
    const { source } = await setup();
    const agent = source();
    const { head: judged } = await agent.sync();
    const judgedFiles = await agent.readFiles(judged, jobsOnly);

    const reportCommit = await agent.syncReports('main', 'rejections', new Map([['web.json', report('web', 'x')]]), 'report');
    const { head } = await agent.sync();
    assert.equal(head, reportCommit);
    assert.deepEqual(await agent.changedPaths(judged, head), ['rejections/web.json']);

    const reads = agent.stats.blobsRead;
    const next = await agent.readFiles(head, jobsOnly, { commit: judged, files: judgedFiles.files });
    assert.deepEqual(next.changed, []);
    assert.equal(agent.stats.blobsRead, reads, 'no blob read for a reports-only commit');
    assert.deepEqual(next.files, judgedFiles.files);
  });

  test('a separate report branch that does not exist yet is created holding only the reports', async () => {
    const { user, source } = await setup();
    const agent = source();
    const tracked = await user.remoteHead('main');
    assert.equal(await user.remoteHead('ozy-reports'), null);

    const c1 = await agent.syncReports('ozy-reports', 'ozy/rejections', new Map([['web.json', report('web', 'x')]]), 'first report');
    assert.equal(await user.remoteHead('ozy-reports'), c1);
    assert.deepEqual(await user.listRemoteFiles('ozy-reports'), ['ozy/rejections/web.json']);
    assert.equal(await user.remoteHead('main'), tracked, 'the tracked branch is not touched');

    const c2 = await agent.syncReports('ozy-reports', 'ozy/rejections', new Map([['db.json', report('db', 'y')]]), 'second');
    assert.equal(await user.commitCount('ozy-reports'), 2);
    assert.equal(await user.git('rev-parse', `${c2}^`), c1, 'later reports build on the branch');

    // Nothing to write to a missing branch: no branch is created.
    assert.equal(await agent.syncReports('other-reports', 'rejections', new Map([['x.json', null]]), 'noop'), null);
    assert.equal(await user.remoteHead('other-reports'), null);
  });

  test('agents racing to push the same reports produce exactly one commit', async () => {
    const { user, source } = await setup();
    const agents = [source(), source(), source()];
    const before = await user.commitCount('main');
    const desired = new Map([['web.json', report('web', 'needs 12G, 10G allocatable')]]);
    const results = await Promise.all(agents.map((a) => a.syncReports('main', 'rejections', desired, 'ozy: reports')));
    assert.equal(results.filter((r) => r !== null).length, 1, `results: ${JSON.stringify(results)}`);
    assert.equal(await user.commitCount('main'), before + 1);
    assert.equal(await user.readRemoteFile('main', 'rejections/web.json'), desired.get('web.json'));
  });

  test('a push by the user landing before ours is kept: the agent re-fetches and rebuilds (client-side check)', async () => {
    const { user, source } = await setup();
    // The user pushes right after the agent fetched, before its push starts.
    const agent = source({
      http: interceptOnce(
        (url) => url.includes('service=git-receive-pack'),
        async () => {
          user.writeFiles({ 'jobs/cache.yaml': 'name: cache\n' });
          await user.commitAndPush('user adds a job');
        },
      ),
    });
    const commit = await agent.syncReports('main', 'rejections', new Map([['web.json', report('web', 'x')]]), 'report');
    assert.ok(commit);
    assert.equal(agent.stats.pushConflicts, 1);
    assert.equal(await user.readRemoteFile('main', 'jobs/cache.yaml'), 'name: cache\n');
    assert.equal(await user.readRemoteFile('main', 'rejections/web.json'), report('web', 'x'));
  });

  test('a push by the user landing between the ref check and ours is kept (server-side compare-and-swap)', async () => {
    const { user, source } = await setup();
    // The user pushes after the agent has seen the remote ref but before it sends its pack.
    const agent = source({
      http: interceptOnce(
        (url, method) => method === 'POST' && url.endsWith('/git-receive-pack'),
        async () => {
          user.writeFiles({ 'jobs/queue.yaml': 'name: queue\n' });
          await user.commitAndPush('user adds another job');
        },
      ),
    });
    const commit = await agent.syncReports('main', 'rejections', new Map([['db.json', report('db', 'y')]]), 'report');
    assert.ok(commit);
    assert.equal(agent.stats.pushConflicts, 1);
    assert.equal(await user.remoteHead(), commit);
    assert.equal(await user.readRemoteFile('main', 'jobs/queue.yaml'), 'name: queue\n');
    assert.equal(await user.readRemoteFile('main', 'rejections/db.json'), report('db', 'y'));
  });

  test('unsafe report paths are refused before anything is pushed', async () => {
    const { user, source } = await setup();
    const agent = source();
    const head = await user.remoteHead();
    for (const [dir, file] of [['rejections', '../jobs/web.yaml'], ['../x', 'a.json'], ['rejections', '.git/config'], ['', 'a.json']]) {
      await assert.rejects(
        agent.syncReports('main', dir!, new Map([[file!, '{}']]), 'evil'),
        (err: unknown) => err instanceof GitSourceError && err.code === 'GIT_INVALID_PATH',
      );
    }
    assert.equal(await user.remoteHead(), head);
  });
});
