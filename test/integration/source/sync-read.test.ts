// GitSource against a real git smart-HTTP server (git http-backend) on
// loopback, with a test user pushing through the real git CLI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GitSource, GitSourceError, type GitSourceOptions, type RepoFile } from '../../../src/source';
import { startGitServer, type GitServer } from '../../harness/git-server';
import { cloneAsUser, type GitUser } from '../../harness/git-user';
import { tempDir } from '../../harness/tmp';

const text = (f: RepoFile | undefined): string | undefined =>
  f === undefined ? undefined : typeof f.content === 'string' ? f.content : Buffer.from(f.content).toString('utf8');
const byPath = (files: RepoFile[]): Map<string, RepoFile> => new Map(files.map((f) => [f.path, f]));
const everything = (): boolean => true;

async function rejection(p: Promise<unknown>): Promise<GitSourceError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GitSourceError, `expected a GitSourceError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the promise to reject');
}

describe('git source: sync and read', () => {
  let server: GitServer;
  const tmp = tempDir('ozy-source-');
  const users: GitUser[] = [];
  let repoCount = 0;

  before(async () => {
    server = await startGitServer();
  });
  after(async () => {
    for (const u of users) u.cleanup();
    await server.stop();
    tmp.cleanup();
  });

  /** A fresh bare repo with an initial commit, a user working on it, and a GitSource tracking main. */
  async function setup(
    files: Record<string, string>,
    opts: Partial<GitSourceOptions> = {},
  ): Promise<{ user: GitUser; source: GitSource; first: string; name: string }> {
    const name = `repo-${++repoCount}`;
    await server.createBareRepo(name);
    const user = await cloneAsUser(server.url(name));
    users.push(user);
    user.writeFiles(files);
    const first = await user.commitAndPush('initial jobs');
    const source = new GitSource({ url: server.url(name), branch: 'main', dir: path.join(tmp.dir, name), ...opts });
    return { user, source, first, name };
  }

  test('clones on first sync, then a fetch picks up a pushed change', async () => {
    const { user, source, first } = await setup({ 'jobs/web.yaml': 'name: web\n' });
    const s1 = await source.sync();
    assert.equal(s1.head, first);
    const r1 = await source.readFiles(s1.head, everything);
    assert.equal(text(byPath(r1.files).get('jobs/web.yaml')), 'name: web\n');

    user.writeFiles({ 'jobs/web.yaml': 'name: web\nnumInstances: 2\n' });
    const second = await user.commitAndPush('scale web');
    const s2 = await source.sync();
    assert.equal(s2.head, second);
    const r2 = await source.readFiles(s2.head, everything, { commit: s1.head, files: r1.files });
    assert.equal(text(byPath(r2.files).get('jobs/web.yaml')), 'name: web\nnumInstances: 2\n');
    assert.deepEqual(r2.changed, ['jobs/web.yaml']);
    assert.equal(source.stats.fetches, 2);
  });

  test('an incremental read reads only the changed blobs and reports added, changed and deleted paths', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 12; i++) files[`jobs/team-${i % 3}/job-${i}.yaml`] = `name: job-${i}\n`;
    files['README.md'] = 'docs\n';
    const { user, source } = await setup(files);
    const jobs = (p: string): boolean => p.startsWith('jobs/') && p.endsWith('.yaml');

    const { head: h1 } = await source.sync();
    const r1 = await source.readFiles(h1, jobs);
    assert.equal(r1.files.length, 12);
    assert.equal(r1.changed.length, 12);
    assert.equal(source.stats.blobsRead, 12, 'the filter keeps README.md from being read');

    user.writeFiles({
      'jobs/team-1/job-4.yaml': 'name: job-4\nnumInstances: 3\n',
      'jobs/team-2/job-5.yaml': null,
      'jobs/team-3/new.yaml': 'name: new\n',
      'README.md': 'more docs\n',
    });
    await user.commitAndPush('change, delete, add');
    const { head: h2 } = await source.sync();
    const before = source.stats.blobsRead;
    const treesBefore = source.stats.treesRead;
    const r2 = await source.readFiles(h2, jobs, { commit: h1, files: r1.files });
    assert.equal(source.stats.blobsRead - before, 2, 'only the changed and the added job were read');
    // root, jobs/, team-1/ and team-2/ of both commits, and team-3/ (new): team-0/ is never opened.
    assert.equal(source.stats.treesRead - treesBefore, 9, 'only the trees on the changed paths were opened');
    assert.deepEqual(r2.changed, ['jobs/team-1/job-4.yaml', 'jobs/team-2/job-5.yaml', 'jobs/team-3/new.yaml']);

    // The incremental result equals a full read of the same commit.
    const full = await source.readFiles(h2, jobs);
    assert.deepEqual(
      r2.files.map((f) => [f.path, text(f)]),
      full.files.map((f) => [f.path, text(f)]),
    );
    assert.equal(r2.files.length, 12);
    // Files in untouched subtrees are the very objects passed in (not re-read).
    const team0 = r1.files.find((f) => f.path === 'jobs/team-0/job-0.yaml');
    assert.ok(r2.files.includes(team0!));
  });

  test('symlinks come back flagged without content; blobs over maxFileBytes are flagged, not kept', async () => {
    const { user, source } = await setup({ 'jobs/small.yaml': 'name: small\n', 'jobs/big.yaml': 'x'.repeat(5000) }, { maxFileBytes: 1000 });
    // A symlink committed through the CLI (mode 120000).
    fs.symlinkSync('/etc/passwd', path.join(user.dir, 'jobs/evil.yaml'));
    await user.commitAndPush('add a symlink');
    const { head } = await source.sync();
    const files = byPath((await source.readFiles(head, everything)).files);
    assert.deepEqual(files.get('jobs/evil.yaml'), { path: 'jobs/evil.yaml', content: '', kind: 'symlink' });
    assert.deepEqual(files.get('jobs/big.yaml'), { path: 'jobs/big.yaml', content: '', kind: 'file', tooLarge: true, size: 5000 });
    assert.equal(text(files.get('jobs/small.yaml')), 'name: small\n');
  });

  test('a force-push to an unrelated history: sync returns the new tip and the files match it', async () => {
    const { user, source } = await setup({ 'jobs/a.yaml': 'name: a\n', 'jobs/b.yaml': 'name: b\n' });
    const { head: old } = await source.sync();
    const r1 = await source.readFiles(old, everything);

    await user.startUnrelatedHistory();
    user.writeFiles({ 'jobs/c.yaml': 'name: c\n', 'jobs/a.yaml': 'name: a\n' });
    await user.commit('rewritten history');
    const rewritten = await user.forcePush();
    assert.notEqual(rewritten, old);

    const { head } = await source.sync();
    assert.equal(head, rewritten);
    const r2 = await source.readFiles(head, everything, { commit: old, files: r1.files });
    assert.deepEqual(r2.files.map((f) => [f.path, text(f)]), [['jobs/a.yaml', 'name: a\n'], ['jobs/c.yaml', 'name: c\n']]);
    assert.deepEqual(r2.changed, ['jobs/b.yaml', 'jobs/c.yaml']);
  });

  test('server down, 500 or silent: a retryable GIT_UNREACHABLE and the previous clone stays readable', async () => {
    const { user, source, first } = await setup({ 'jobs/a.yaml': 'name: a\n' }, { timeoutMs: 300 });
    await source.sync();
    user.writeFiles({ 'jobs/a.yaml': 'name: a\n# changed\n' });
    const second = await user.commitAndPush('change while the server fails');
    try {
      for (const mode of ['down', '500', 'hang'] as const) {
        server.setFailureMode(mode);
        const err = await rejection(source.sync());
        assert.equal(err.code, 'GIT_UNREACHABLE', `${mode}: ${err.message}`);
        assert.equal(err.retryable, true);
        const still = await source.readFiles(first, everything);
        assert.equal(text(still.files[0]), 'name: a\n', `${mode}: the last fetched commit is still readable`);
      }
    } finally {
      server.setFailureMode('none');
    }
    assert.equal((await source.sync()).head, second, 'recovers once the server is back');
  });

  test('a branch that does not exist: GIT_BRANCH_MISSING; a commit not fetched: GIT_OBJECT_MISSING', async () => {
    const { name, source } = await setup({ 'jobs/a.yaml': 'name: a\n' });
    const other = new GitSource({ url: server.url(name), branch: 'production', dir: path.join(tmp.dir, `${name}-prod`) });
    const err = await rejection(other.sync());
    assert.equal(err.code, 'GIT_BRANCH_MISSING');
    await source.sync();
    const missing = await rejection(source.readFiles('0123456789abcdef0123456789abcdef01234567', everything));
    assert.equal(missing.code, 'GIT_OBJECT_MISSING');
  });
});

describe('git source: credentials', () => {
  const creds = { username: 'deployer', password: 's3cr3t-t0ken-value' };
  let server: GitServer;
  let user: GitUser;
  const tmp = tempDir('ozy-source-auth-');

  before(async () => {
    server = await startGitServer({ requireAuth: creds });
    await server.createBareRepo('private');
    user = await cloneAsUser(server.url('private'), { auth: creds });
    user.writeFiles({ 'jobs/a.yaml': 'name: a\n' });
    await user.commitAndPush('initial');
  });
  after(async () => {
    user.cleanup();
    await server.stop();
    tmp.cleanup();
  });

  test('a token from OZY_GIT_TOKEN is sent as Basic auth and reports can be pushed with it', async () => {
    const source = new GitSource({
      url: server.url('private'),
      branch: 'main',
      dir: path.join(tmp.dir, 'ok'),
      token: creds.password,
      username: creds.username,
    });
    const { head } = await source.sync();
    assert.equal(head, await user.remoteHead());
    const commit = await source.syncReports('main', 'rejections', new Map([['a.json', '{}']]), 'report');
    assert.ok(commit);
    assert.equal(await user.readRemoteFile('main', 'rejections/a.json'), '{}');
  });

  test('credentials embedded in the URL are used, and stripped from what the source exposes', async () => {
    const source = new GitSource({
      url: server.url('private').replace('http://', `http://${creds.username}:${creds.password}@`),
      branch: 'main',
      dir: path.join(tmp.dir, 'url-creds'),
    });
    await source.sync();
    assert.ok(!source.url.includes(creds.password));
  });

  test('missing or wrong credentials: GIT_AUTH, and no secret in the message', async () => {
    const none = new GitSource({ url: server.url('private'), branch: 'main', dir: path.join(tmp.dir, 'none') });
    assert.equal((await rejection(none.sync())).code, 'GIT_AUTH');

    const wrongToken = 'wrong-t0ken-9f8e7d';
    const wrong = new GitSource({ url: server.url('private'), branch: 'main', dir: path.join(tmp.dir, 'wrong'), token: wrongToken });
    const e1 = await rejection(wrong.sync());
    assert.equal(e1.code, 'GIT_AUTH');
    assert.equal(e1.retryable, false);

    const inUrl = new GitSource({
      url: server.url('private').replace('http://', `http://someone:${wrongToken}@`),
      branch: 'main',
      dir: path.join(tmp.dir, 'wrong-url'),
    });
    const e2 = await rejection(inUrl.sync());
    assert.equal(e2.code, 'GIT_AUTH');

    for (const e of [e1, e2]) {
      const shown = `${e.message} ${e.stack ?? ''} ${JSON.stringify(e)}`;
      assert.ok(!shown.includes(wrongToken), shown);
      assert.ok(!shown.includes(Buffer.from(`x-access-token:${wrongToken}`).toString('base64')), shown);
    }
  });

  test('the token stays out of errors when the server is unreachable', async () => {
    const source = new GitSource({
      url: server.url('private'),
      branch: 'main',
      dir: path.join(tmp.dir, 'down'),
      token: creds.password,
      username: creds.username,
    });
    server.setFailureMode('500');
    try {
      const err = await rejection(source.sync());
      assert.equal(err.code, 'GIT_UNREACHABLE');
      assert.ok(!`${err.message} ${err.stack ?? ''}`.includes(creds.password));
    } finally {
      server.setFailureMode('none');
    }
  });
});

describe('git source: ancestry', () => {
  test('isAncestor follows history, and is false for commits not fetched', async () => {
    const server = await startGitServer();
    const tmp = tempDir('ozy-source-anc-');
    try {
      await server.createBareRepo('anc');
      const user = await cloneAsUser(server.url('anc'));
      try {
        user.writeFiles({ 'jobs/a.yaml': 'name: a\n' });
        const c1 = await user.commitAndPush('one');
        user.writeFiles({ 'jobs/b.yaml': 'name: b\n' });
        const c2 = await user.commitAndPush('two');
        const source = new GitSource({ url: server.url('anc'), branch: 'main', dir: path.join(tmp.dir, 'clone') });
        await source.sync();
        assert.equal(await source.isAncestor(c1, c2), true);
        assert.equal(await source.isAncestor(c2, c2), true);
        assert.equal(await source.isAncestor(c2, c1), false);
        user.writeFiles({ 'jobs/c.yaml': 'name: c\n' });
        const c3 = await user.commitAndPush('three, not fetched yet');
        assert.equal(await source.isAncestor(c3, c2), false);
        await source.sync();
        assert.equal(await source.isAncestor(c2, c3), true);
      } finally {
        user.cleanup();
      }
    } finally {
      await server.stop();
      tmp.cleanup();
    }
  });
});
