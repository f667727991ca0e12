// The local clone is re-cloned when packs (one per fetch that brought
// something) or loose objects (report commits) pile up, and the source keeps
// working across it: heads, incremental reads, report pushes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { countObjects, freshCloneDir } from '../../../src/source/clone-compaction';
import { GitSource, type RepoFile } from '../../../src/source';
import { startGitServer, type GitServer } from '../../harness/git-server';
import { cloneAsUser, type GitUser } from '../../harness/git-user';
import { tempDir } from '../../harness/tmp';

const jobs = (p: string): boolean => p.startsWith('jobs/');
const text = (files: RepoFile[], p: string): string | undefined => {
  const f = files.find((x) => x.path === p);
  return f === undefined ? undefined : Buffer.from(f.content).toString('utf8');
};

describe('clone compaction', () => {
  let server: GitServer;
  const tmp = tempDir('ozy-compaction-');
  const users: GitUser[] = [];
  let n = 0;

  before(async () => {
    server = await startGitServer();
  });
  after(async () => {
    for (const u of users) u.cleanup();
    await server.stop();
    tmp.cleanup();
  });

  async function repo(): Promise<{ user: GitUser; url: string; dir: string }> {
    const name = `repo-${++n}`;
    await server.createBareRepo(name);
    const user = await cloneAsUser(server.url(name));
    users.push(user);
    user.writeFiles({ 'jobs/web.yaml': 'name: web\n' });
    await user.commitAndPush('first');
    return { user, url: server.url(name), dir: path.join(tmp.dir, name) };
  }

  test('many fetches: the packs never pass the threshold for long, and reads stay right and incremental', async () => {
    const { user, url, dir } = await repo();
    const source = new GitSource({ url, branch: 'main', dir, compaction: { maxPacks: 4 } });
    const first = (await source.sync()).head;
    let head = first;
    let read = await source.readFiles(head, jobs);
    const packCounts: number[] = [];
    for (let i = 1; i <= 12; i++) {
      user.writeFiles({ [`jobs/job-${i}.yaml`]: `name: job-${i}\n`, 'jobs/web.yaml': `name: web\nnumInstances: ${i}\n` });
      const pushed = await user.commitAndPush(`change ${i}`);
      const synced = (await source.sync()).head;
      assert.equal(synced, pushed);
      packCounts.push((await countObjects(dir)).packs);
      const blobsBefore = source.stats.blobsRead;
      const next = await source.readFiles(synced, jobs, { commit: head, files: read.files });
      assert.deepEqual(next.changed, [`jobs/job-${i}.yaml`, 'jobs/web.yaml'], 'incremental across compactions too');
      assert.equal(source.stats.blobsRead - blobsBefore, 2);
      assert.equal(text(next.files, 'jobs/web.yaml'), `name: web\nnumInstances: ${i}\n`);
      assert.equal(next.files.length, i + 1);
      head = synced;
      read = next;
    }
    assert.ok(Math.max(...packCounts) <= 4, `packs after each sync: ${packCounts.join(' ')}`);
    assert.ok(source.stats.compactions >= 2, `compactions: ${source.stats.compactions}`);
    assert.equal(source.stats.compactionFailures, 0);
    assert.equal(fs.existsSync(freshCloneDir(dir)), false, 'nothing left beside the clone');
    assert.equal(await source.isAncestor(first, head), true, 'the history came along');
  });

  test('report commits pile up loose objects: the next sync compacts them; pushes and reads still work', async () => {
    const { user, url, dir } = await repo();
    const source = new GitSource({ url, branch: 'main', dir, compaction: { maxLooseObjects: 20 } });
    await source.sync();
    for (let i = 0; i < 6; i++) {
      const commit = await source.syncReports('main', 'rejections', new Map([[`job-${i}.json`, `{"n":${i}}`]]), `report ${i}`);
      assert.notEqual(commit, null);
    }
    assert.ok((await countObjects(dir)).loose > 20);
    const head = (await source.sync()).head;
    assert.equal(source.stats.compactions, 1);
    assert.equal((await countObjects(dir)).loose, 0);
    assert.equal(head, await user.remoteHead());
    const files = (await source.readFiles(head, (p) => p.startsWith('rejections/'))).files;
    assert.equal(files.length, 6);
    assert.notEqual(await source.syncReports('main', 'rejections', new Map([['job-0.json', null]]), 'after'), null);
    assert.deepEqual(await user.listRemoteFiles('main', 'rejections'), ['rejections/job-1.json', 'rejections/job-2.json', 'rejections/job-3.json', 'rejections/job-4.json', 'rejections/job-5.json']);
  });

  test('what an interrupted compaction left beside the clone is removed by the next start', async () => {
    const { url, dir } = await repo();
    fs.mkdirSync(path.join(freshCloneDir(dir), 'objects'), { recursive: true });
    const source = new GitSource({ url, branch: 'main', dir });
    await source.sync();
    assert.equal(fs.existsSync(freshCloneDir(dir)), false);
  });
});
