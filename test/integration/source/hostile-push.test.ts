// Untrusted repositories: what an agent's git side does when someone pushes
// big files under jobs/ to a real smart-HTTP server.
// - 5 MiB: fetched (within the fetch limits), its size read from the object
//   header and the file refused as file-too-large without being inflated;
//   the other jobs are unaffected.
// - 200 MB: the fetch is refused while the pack streams in (GIT_REPO_TOO_LARGE,
//   repository-too-large), nothing is stored, the last good commit stays in
//   use, and the agent's memory does not grow by anything like 200 MB (its
//   peak RSS is measured in its own process). The same fetch is then refused
//   without downloading again, and a force-push that drops the file heals it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { startGitServer, type GitServer } from '../../harness/git-server';
import { cloneAsUser, type GitUser } from '../../harness/git-user';
import { tempDir } from '../../harness/tmp';
import type { ChildReply } from './fetch-child';

const MB = 1024 * 1024;
const HOSTILE_BYTES = 200 * MB;

/** The child "agent": one JSON command in, one JSON reply out. */
class Agent {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly replies: string[] = [];
  private waiting: ((line: string) => void) | undefined;

  constructor(url: string, dir: string) {
    this.child = spawn(process.execPath, [path.join(__dirname, 'fetch-child.js'), url, dir]);
    this.child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(line);
      } else this.replies.push(line);
    });
  }

  async sync(): Promise<ChildReply> {
    this.child.stdin.write(`${JSON.stringify({ cmd: 'sync' })}\n`);
    const line = this.replies.shift() ?? (await new Promise<string>((resolve) => (this.waiting = resolve)));
    return JSON.parse(line) as ChildReply;
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

/** A file of random (incompressible) bytes, written in 1 MiB pieces. */
function writeRandomFile(file: string, bytes: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  try {
    for (let left = bytes; left > 0; left -= MB) fs.writeSync(fd, randomBytes(Math.min(MB, left)));
  } finally {
    fs.closeSync(fd);
  }
}

const WEB = 'name: web\ncontainers:\n  app:\n    image: localhost/ozy-busybox:1\n';
const mib = (n: number): string => `${(n / MB).toFixed(1)} MiB`;

describe('a hostile push of big files under jobs/', () => {
  let server: GitServer;
  let user: GitUser;
  let agent: Agent;
  const tmp = tempDir('ozy-hostile-');

  before(async () => {
    server = await startGitServer();
    await server.createBareRepo('jobs');
    user = await cloneAsUser(server.url('jobs'));
    user.writeFiles({ 'jobs/web.yaml': WEB });
    await user.commitAndPush('web');
    agent = new Agent(server.url('jobs'), path.join(tmp.dir, 'clone'));
  });
  after(async () => {
    agent?.stop();
    user?.cleanup();
    await server?.stop();
    tmp.cleanup();
  });

  test('5 MiB: the file is refused as too large from its size alone; the other jobs stay', async () => {
    const first = await agent.sync();
    assert.deepEqual([first.error, first.jobs, first.problems], [undefined, ['web'], []]);

    writeRandomFile(path.join(user.dir, 'jobs/big.yaml'), 5 * MB);
    const bigCommit = await user.commitAndPush('a 5 MiB job file');
    const r = await agent.sync();
    assert.equal(r.error, undefined);
    assert.equal(r.head, bigCommit);
    assert.deepEqual(r.jobs, ['web']);
    assert.deepEqual(r.problems, [{ file: 'jobs/big.yaml', type: 'file-too-large' }]);
    assert.equal(r.blobsSized, 1, 'sized from its header');
    assert.equal(r.blobsRead, first.blobsRead, 'and never read');
  });

  test('200 MB: the fetch is refused as it streams in, the last good commit stays, memory stays flat', async (t) => {
    const before = await agent.sync();
    assert.equal(before.error, undefined);
    // Random bytes do not compress: zlib level 0 stores them as they are (the pack the agent
    // fetches is as big either way) instead of spending seconds of CPU on the user's add and push.
    await user.git('config', 'core.compression', '0');
    writeRandomFile(path.join(user.dir, 'jobs/huge.yaml'), HOSTILE_BYTES);
    await user.commitAndPush('a 200 MB job file');
    const packPosts = (): number => server.requests.filter((r) => r.endsWith('/git-upload-pack')).length;
    const postsBefore = packPosts();

    const started = Date.now();
    const r = await agent.sync();
    const ms = Date.now() - started;
    assert.equal(r.error?.code, 'GIT_REPO_TOO_LARGE', JSON.stringify(r.error));
    assert.match(r.error!.message, /an object of 209715200 bytes is larger than 16777216 bytes/);
    assert.match(r.error!.message, /errors\.md#repository-too-large/);
    assert.equal(r.head, before.head, 'the last good commit stays in use');
    assert.deepEqual(r.jobs, ['web']);
    const peakGrowth = r.maxRssAfter - r.maxRssBefore;
    t.diagnostic(
      `RSS of the agent's git side while a hostile 200 MB blob is fetched: ${mib(before.rss)} before, ${mib(r.rss)} after, ` +
        `peak ${mib(r.maxRssAfter)} (+${mib(peakGrowth)} over the peak before); refused in ${ms} ms`,
    );
    assert.ok(peakGrowth < 40 * MB, `peak RSS grew by ${mib(peakGrowth)}`);
    // isomorphic-git moves the tracking ref before the pack has arrived: it must be back where it was.
    const tracking = execFileSync('git', ['--git-dir', path.join(tmp.dir, 'clone'), 'rev-parse', 'refs/remotes/origin/main']).toString().trim();
    assert.equal(tracking, before.head);
    const packs = fs.readdirSync(path.join(tmp.dir, 'clone', 'objects', 'pack'));
    const stored = packs.reduce((n, p) => n + fs.statSync(path.join(tmp.dir, 'clone', 'objects', 'pack', p)).size, 0);
    assert.ok(stored < 16 * MB, `nothing of it was stored (${mib(stored)} of packs)`);

    // The next poll: the same request is refused without downloading it again.
    const again = await agent.sync();
    assert.equal(again.error?.code, 'GIT_REPO_TOO_LARGE');
    assert.equal(packPosts(), postsBefore + 1, 'no second upload-pack request');

    // Dropping the file from history (a commit that deletes it is not enough: the fetch would still bring it) heals.
    await user.git('reset', '--hard', 'HEAD~1');
    user.writeFiles({ 'jobs/big.yaml': null, 'jobs/db.yaml': WEB.replace('web', 'db') });
    const healed = await user.commit('drop the big files');
    await user.forcePush();
    const after = await agent.sync();
    assert.equal(after.error, undefined);
    assert.equal(after.head, healed);
    assert.deepEqual([after.jobs, after.problems], [['db', 'web'], []]);
  });
});
