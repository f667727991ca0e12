// The repository `ozy up` serves: made once with the git CLI, served by the
// production smart-HTTP server, and kept (with the user's pushes) across runs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { UpError } from '../../../src/up/errors';
import { isolatedGitEnv, startGitHttpServer, type GitHttpServer } from '../../../src/up/git-http';
import { prepareJobRepo } from '../../../src/up/job-repo';
import { cloneAsUser } from '../../harness/git-user';
import { tempDir } from '../../harness/tmp';

const run = promisify(execFile);
const tmp = tempDir('ozy-up-repo-');
const home = path.join(tmp.dir, 'home');
const git = async (args: string[], cwd?: string) => (await run('git', args, { env: isolatedGitEnv(home), ...(cwd ? { cwd } : {}) })).stdout.trim();

let server: GitHttpServer;
const served = path.join(tmp.dir, 'served');

before(async () => {
  fs.mkdirSync(served, { recursive: true });
  server = await startGitHttpServer({ projectRoot: served, home });
});
after(async () => {
  await server.close();
  tmp.cleanup();
});

function jobFiles(dir: string): void {
  fs.mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'jobs', 'hello.yaml'), 'name: hello\nnumInstances: 1\n');
  fs.writeFileSync(path.join(dir, 'ozy.yaml'), 'deletionGuard: {}\n');
}

describe('the served job repository', () => {
  test('a directory of job files becomes the first commit; a restart keeps what users pushed', async () => {
    const source = path.join(tmp.dir, 'examples');
    jobFiles(source);
    const bareDir = path.join(served, 'jobs.git');
    const first = await prepareJobRepo({ source, bareDir, branch: 'main', home, message: 'Example jobs' });
    assert.equal(first.how, 'created');
    assert.match(first.head ?? '', /^[0-9a-f]{40}$/);
    assert.deepEqual(fs.readdirSync(served).sort(), ['jobs.git'], 'no temporary directory is left behind');

    // Over HTTP with the git CLI, as a user would.
    const user = await cloneAsUser(server.url('jobs.git'));
    try {
      assert.equal(fs.readFileSync(path.join(user.dir, 'jobs', 'hello.yaml'), 'utf8'), 'name: hello\nnumInstances: 1\n');
      assert.equal(await user.git('log', '-1', '--format=%an <%ae>: %s'), 'ozy up <ozy-up@localhost>: Example jobs');
      user.writeFiles({ 'jobs/hello.yaml': 'name: hello\nnumInstances: 2\n' });
      const pushed = await user.commitAndPush('scale hello');

      const again = await prepareJobRepo({ source, bareDir, branch: 'main', home });
      assert.equal(again.how, 'reused');
      assert.equal(again.head, pushed);
    } finally {
      user.cleanup();
    }
  });

  test('a state dir made from one source refuses another instead of serving the wrong jobs', async () => {
    const a = path.join(tmp.dir, 'a');
    const b = path.join(tmp.dir, 'b');
    jobFiles(a);
    jobFiles(b);
    const bareDir = path.join(served, 'ab.git');
    await prepareJobRepo({ source: a, bareDir, branch: 'main', home });
    await assert.rejects(prepareJobRepo({ source: b, bareDir, branch: 'main', home }), (err: unknown) => err instanceof UpError && err.code === 'UP_REPO_INVALID' && err.message.includes(a));
  });

  test('a bare repository is served in place', async () => {
    const bare = path.join(tmp.dir, 'mine.git');
    await git(['init', '--quiet', '--bare', '--initial-branch=main', bare]);
    const r = await prepareJobRepo({ source: bare, bareDir: path.join(served, 'unused.git'), branch: 'main', home });
    assert.deepEqual(r, { dir: bare, how: 'in-place', head: null });
    assert.ok(!fs.existsSync(path.join(served, 'unused.git')));
  });

  test('a working copy is cloned bare, all its branches kept; the tracked branch must exist', async () => {
    const work = path.join(tmp.dir, 'work');
    jobFiles(work);
    await git(['init', '--quiet', '--initial-branch=prod', work]);
    await git(['-c', 'user.name=u', '-c', 'user.email=u@x', 'commit', '--quiet', '--allow-empty', '-m', 'c1'], work);
    const head = await git(['rev-parse', 'HEAD'], work);
    await assert.rejects(
      prepareJobRepo({ source: work, bareDir: path.join(served, 'w1.git'), branch: 'main', home }),
      (err: unknown) => err instanceof UpError && /no branch "main"/.test(err.message),
    );
    assert.ok(!fs.existsSync(path.join(served, 'w1.git')));
    const r = await prepareJobRepo({ source: work, bareDir: path.join(served, 'w2.git'), branch: 'prod', home });
    assert.equal(r.how, 'created');
    assert.equal(r.head, head);
    assert.equal(await git(['--git-dir', r.dir, 'symbolic-ref', 'HEAD']), 'refs/heads/prod');
  });
});
