import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { Problem } from '../../../src/model/problem';
import { projectRoot } from '../../../src/paths';
import { problemTypeOf } from '../../../src/problems';
import { tempDir } from '../../harness/tmp';
import { runCli } from './run-cli';

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

function repo(files: Record<string, string>): string {
  const { dir, cleanup } = tempDir('ozy-cli-');
  cleanups.push(cleanup);
  for (const [p, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), content);
  }
  return dir;
}

const BAD = {
  'jobs/web.yaml': 'name: web\ncontainers:\n  app:\n    image: busybox\n    memory: lots\n',
  'jobs/ok.yaml': 'name: ok\ncontainers: {app: {image: busybox}}\n',
  'jobs/broken.yaml': 'name: [\n',
};

test('ozy validate examples: exit 0', async () => {
  const r = await runCli(['validate', 'examples'], projectRoot());
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok: \d+ valid jobs: .*simple-webapp/);
  assert.equal(r.stderr, '');
});

test('DIR defaults to the current directory', async () => {
  const r = await runCli(['validate'], path.join(projectRoot(), 'examples'));
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('a bad repository: exit 1, --json prints the problems as an array', async () => {
  const r = await runCli(['validate', '--json', repo(BAD)], '/');
  assert.equal(r.code, 1);
  const problems = JSON.parse(r.stdout) as Problem[];
  assert.deepEqual(problems.map((p) => [p.file, problemTypeOf(p)]), [
    ['jobs/broken.yaml', 'unparsable-yaml'],
    ['jobs/web.yaml', 'invalid-size'],
  ]);
  assert.deepEqual(problems[1]!.errors, [
    { pointer: '/containers/app/memory', message: 'containers.app.memory: expected a size like 512M or 2G (or 100Ki, 100Mi, or a number of bytes), got "lots"' },
  ]);
  assert.equal(problems[1]!.job, 'web');
});

test('--json on a valid repository prints []', async () => {
  const r = await runCli(['validate', '--json', 'examples'], projectRoot());
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.stdout), []);
});

test('human output lists file, pointer and message of each problem', async () => {
  const dir = repo(BAD);
  const r = await runCli(['validate', dir], '/');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^jobs\/web\.yaml: Invalid size \[invalid-size\] \(job web\)$/m);
  assert.match(r.stdout, /^ {2}at \/containers\/app\/memory: containers\.app\.memory: expected a size like 512M/m);
  assert.match(r.stdout, /^jobs\/broken\.yaml: Job file is not valid YAML \[unparsable-yaml\]$/m);
  assert.match(r.stdout, /errors\.md#invalid-size/);
  assert.match(r.stdout, /2 problems; 1 valid job\.\n$/);
});

test('a relative DIR is resolved against the working directory', async () => {
  const dir = repo(BAD);
  const r = await runCli(['validate', path.basename(dir)], path.dirname(dir));
  assert.equal(r.code, 1);
});

test('a missing directory: exit 2, message on stderr', async () => {
  const r = await runCli(['validate', '/nonexistent/ozy'], '/');
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /cannot read the repository directory \/nonexistent\/ozy/);
});

test('an unknown option: exit 2 with usage on stderr', async () => {
  const r = await runCli(['validate', '--bogus'], projectRoot());
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Usage: ozy validate/);
});

test('two directories: exit 2', async () => {
  const r = await runCli(['validate', 'a', 'b'], projectRoot());
  assert.equal(r.code, 2);
});

test('--help prints the usage', async () => {
  const r = await runCli(['validate', '--help'], projectRoot());
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: ozy validate \[DIR\] \[--json\]/);
});
