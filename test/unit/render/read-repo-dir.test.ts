// The safe disk loader behind `ozy validate DIR`: real files in a temp dir.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { problemTypeOf } from '../../../src/problems';
import { readRepoDir, renderRepo, renderRepoDir, RepoDirError, type RenderProblem } from '../../../src/render';
import { tempDir } from '../../harness/tmp';
import { validJob } from './helpers';

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

function repo(files: Record<string, string>): string {
  const { dir, cleanup } = tempDir('ozy-render-');
  cleanups.push(cleanup);
  for (const [p, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), content);
  }
  return dir;
}

const job = (name: string) => JSON.stringify(validJob(name));

describe('readRepoDir', () => {
  test('reads ozy.yaml and jobs/, nothing else', async () => {
    const dir = repo({
      'ozy.yaml': 'deletionGuard: {allowDeleteAll: true}\n',
      'jobs/a.yaml': job('a'),
      'jobs/team/b.yml': job('b'),
      'jobs/c/Chart.yaml': 'name: c\n',
      'jobs/c/templates/_helpers.tpl': '',
      'jobs/notes.txt': 'x',
      'README.md': '# hi',
      'other/d.yaml': job('d'),
    });
    const { files, problems } = await readRepoDir(dir);
    assert.deepEqual(problems, []);
    assert.deepEqual(files.map((f) => f.path).sort(), ['jobs/a.yaml', 'jobs/c/Chart.yaml', 'jobs/c/templates/_helpers.tpl', 'jobs/team/b.yml', 'ozy.yaml']);
    assert.equal(Buffer.from(files.find((f) => f.path === 'jobs/a.yaml')!.content).toString(), job('a'));
  });

  test('a repository without jobs/ is empty, not an error', async () => {
    const { files, problems } = await readRepoDir(repo({ 'README.md': 'x' }));
    assert.deepEqual([files, problems], [[], []]);
  });

  test('a missing directory is a RepoDirError (usage), not a problem', async () => {
    await assert.rejects(readRepoDir('/nonexistent/ozy-repo'), (err: unknown) => err instanceof RepoDirError && err.code === 'REPO_DIR_UNREADABLE');
  });

  test('a symlink to a file outside the repository is refused, not read', async () => {
    const dir = repo({ 'jobs/ok.yaml': job('ok') });
    const { dir: outside, cleanup } = tempDir('ozy-outside-');
    cleanups.push(cleanup);
    fs.writeFileSync(path.join(outside, 'web.yaml'), job('web'));
    fs.symlinkSync(path.join(outside, 'web.yaml'), path.join(dir, 'jobs/web.yaml'));
    fs.symlinkSync('/etc/passwd', path.join(dir, 'jobs/passwd.yaml'));
    const { files } = await readRepoDir(dir);
    const links = files.filter((f) => f.kind === 'symlink');
    assert.deepEqual(links.map((f) => [f.path, f.content]).sort(), [
      ['jobs/passwd.yaml', ''],
      ['jobs/web.yaml', ''],
    ]);
    const r = renderRepo(files);
    assert.deepEqual(r.jobs.map((j) => j.spec.name), ['ok']);
    assert.deepEqual(r.problems.map((p) => [p.file, problemTypeOf(p.problem)]).sort(), [
      ['jobs/passwd.yaml', 'symlink-refused'],
      ['jobs/web.yaml', 'symlink-refused'],
    ]);
  });

  test('a symlinked directory is not followed', async () => {
    const dir = repo({ 'jobs/ok.yaml': job('ok') });
    const { dir: outside, cleanup } = tempDir('ozy-outside-');
    cleanups.push(cleanup);
    fs.writeFileSync(path.join(outside, 'web.yaml'), job('web'));
    fs.symlinkSync(outside, path.join(dir, 'jobs/linked'));
    const r = await renderRepoDir(dir);
    assert.deepEqual(r.jobs.map((j) => j.spec.name), ['ok']);
    assert.deepEqual(r.problems.map((p) => [p.file, problemTypeOf(p.problem)]), [['jobs/linked', 'symlink-refused']]);
  });

  test('jobs/ itself a symlink, and ozy.yaml a symlink', async () => {
    const { dir: outside, cleanup } = tempDir('ozy-outside-');
    cleanups.push(cleanup);
    fs.writeFileSync(path.join(outside, 'web.yaml'), job('web'));
    const dir = repo({});
    fs.symlinkSync(outside, path.join(dir, 'jobs'));
    fs.symlinkSync(path.join(outside, 'web.yaml'), path.join(dir, 'ozy.yaml'));
    const r = await renderRepoDir(dir);
    assert.deepEqual(r.jobs, []);
    assert.deepEqual(r.problems.map((p) => [p.file, problemTypeOf(p.problem)]).sort(), [
      ['jobs', 'symlink-refused'],
      ['ozy.yaml', 'symlink-refused'],
    ]);
  });

  test('a 50 MB file is refused without being read', async () => {
    const dir = repo({ 'jobs/ok.yaml': job('ok') });
    const fd = fs.openSync(path.join(dir, 'jobs/big.yaml'), 'w');
    fs.ftruncateSync(fd, 50 * 1024 * 1024); // sparse: cheap to make
    fs.closeSync(fd);
    const { files } = await readRepoDir(dir);
    const big = files.find((f) => f.path === 'jobs/big.yaml')!;
    assert.equal(big.content, '');
    assert.equal(big.size, 50 * 1024 * 1024);
    const r = renderRepo(files);
    assert.deepEqual(r.jobs.map((j) => j.spec.name), ['ok']);
    assert.deepEqual(r.problems.map((p) => [p.file, problemTypeOf(p.problem)]), [['jobs/big.yaml', 'file-too-large']]);
  });

  test('a named pipe is refused, not opened (which would block)', async () => {
    const dir = repo({ 'jobs/ok.yaml': job('ok') });
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [path.join(dir, 'jobs/fifo.yaml')]);
    const r = await renderRepoDir(dir);
    assert.deepEqual(r.jobs.map((j) => j.spec.name), ['ok']);
    assert.deepEqual(r.problems.map((p) => [p.file, problemTypeOf(p.problem)]), [['jobs/fifo.yaml', 'unsafe-path']]);
  });

  test('a file name with a backslash is refused', async () => {
    const dir = repo({ 'jobs/a\\b.yaml': job('b') });
    const r = await renderRepoDir(dir);
    assert.deepEqual(r.problems.map((p) => [p.file, problemTypeOf(p.problem)]), [['jobs/a\\b.yaml', 'unsafe-path']]);
  });

  // Root reads everything (CAP_DAC_OVERRIDE), and CI runs as root: there the
  // read runs in a child process that drops to `nobody` (setgid, setgroups,
  // setuid before exec, through spawn's uid/gid).
  test('an unreadable file is a problem naming it', async () => {
    const dir = repo({ 'jobs/web.yaml': job('web'), 'jobs/ok.yaml': job('ok') });
    fs.chmodSync(path.join(dir, 'jobs/web.yaml'), 0);
    const problems = process.getuid?.() === 0 ? await renderAsNobody(dir) : (await renderRepoDir(dir)).problems;
    assert.deepEqual(problems.map((p) => [p.file, problemTypeOf(p.problem)]), [['jobs/web.yaml', 'unreadable-file']]);
  });

  test('renderRepoDir uses the shipped charts and carries the commit', async () => {
    const dir = repo({ 'jobs/api.yaml': 'chart: ozy/web-service\nvalues: {replicas: 1}\n', 'jobs/bad.yaml': '[' });
    const r = await renderRepoDir(dir, { commit: 'abc123' });
    assert.deepEqual(r.jobs.map((j) => [j.spec.name, j.spec.numInstances, j.file]), [['api', 1, 'jobs/api.yaml']]);
    assert.deepEqual(r.problems.map((p) => [p.key, p.problem.commit]), [['jobs/bad.yaml', 'abc123']]);
  });
});

/** uid and gid of `nobody` on Debian (and most Linux distributions). */
const NOBODY = 65534;

/**
 * renderRepoDir(dir) in a child process running as `nobody`; returns its
 * problems. The temp dir is opened to others (mkdtemp makes it 0700) so that
 * only the file made unreadable is. The child first checks that it really
 * cannot read that file, so the test cannot pass with privileges it meant to drop.
 */
async function renderAsNobody(dir: string): Promise<RenderProblem[]> {
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(path.join(dir, 'jobs'), 0o755);
  fs.chmodSync(path.join(dir, 'jobs/ok.yaml'), 0o644);
  const child = `
    const fs = require('node:fs');
    const [renderModule, dir] = process.argv.slice(1);
    let denied = 'readable';
    try { fs.readFileSync(dir + '/jobs/web.yaml'); } catch (err) { denied = err.code; }
    require(renderModule).renderRepoDir(dir).then((r) => {
      process.stdout.write(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), denied, jobs: r.jobs.map((j) => j.spec.name), problems: r.problems }));
    });`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['-e', child, require.resolve('../../../src/render'), dir], { uid: NOBODY, gid: NOBODY, cwd: '/' }, (err, stdout, stderr) =>
      err ? reject(new Error(`the check as nobody failed: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
  const r = JSON.parse(out) as { uid: number; gid: number; groups: number[]; denied: string; jobs: string[]; problems: RenderProblem[] };
  assert.deepEqual([r.uid, r.gid, r.groups.filter((g) => g !== NOBODY)], [NOBODY, NOBODY, []], 'the child dropped root');
  assert.equal(r.denied, 'EACCES', 'the file is unreadable to the child');
  assert.deepEqual(r.jobs, ['ok'], 'the readable job is still rendered');
  return r.problems;
}
