// `ozy import compose` through the CLI: exit 0 (everything carried over),
// 3 (some keys or services left out), 1 (nothing importable, not a compose
// file, a job file in the way), 2 (usage); what goes to stdout and stderr;
// nothing is ever overwritten.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../../harness/tmp';
import { CORPUS } from '../compose/corpus';
import { runCli } from './run-cli';

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

function scratch(): string {
  const { dir, cleanup } = tempDir('ozy-import-');
  cleanups.push(cleanup);
  return dir;
}

const fixture = (name: string): string => path.join(CORPUS, name);
const jobFiles = (dir: string): string[] => (fs.existsSync(path.join(dir, 'jobs')) ? fs.readdirSync(path.join(dir, 'jobs')).sort() : []);

describe('ozy import compose', () => {
  test('everything carried over: exit 0, the files written, nothing on stderr; ozy validate accepts them', async () => {
    const dir = scratch();
    const r = await runCli(['import', 'compose', fixture('minimal.yml'), '-o', dir], '/');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^wrote .*jobs\/hello\.yaml \(service hello\)$/m);
    assert.match(r.stdout, /1 job written; everything carried over\. Next: ozy validate /);
    const text = fs.readFileSync(path.join(dir, 'jobs', 'hello.yaml'), 'utf8');
    assert.match(text, /^# Imported from minimal\.yml \(service hello\) by `ozy import compose`\.\n# Every key was carried over\./);
    assert.match(text, /^name: hello$/m);
    const v = await runCli(['validate', dir], '/');
    assert.equal(v.code, 0, v.stdout);
  });

  test('some keys left out: exit 3, each on stderr with its path and why, the jobs written', async () => {
    const dir = scratch();
    const r = await runCli(['import', 'compose', fixture('refusals.yml'), '--output', dir], '/');
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^services\.privileged\.privileged: refused: the job format has no privileged mode/m);
    assert.match(r.stderr, /^services\.host-network\.network_mode: refused: containers cannot join the host's network namespace/m);
    assert.match(r.stderr, /^services\.capabilities\.cap_add: refused: capabilities cannot be added/m);
    assert.match(r.stderr, /^services\.devices\.devices: refused: host devices cannot be passed/m);
    assert.match(r.stdout, /6 jobs written; 8 keys not carried over \(listed on stderr\)/);
    assert.equal(jobFiles(dir).length, 6);
    // The job file says it too, for whoever reviews the commit.
    assert.match(fs.readFileSync(path.join(dir, 'jobs', 'privileged.yaml'), 'utf8'), /^# {3}refused: {2}services\.privileged\.privileged: /m);
    assert.equal((await runCli(['validate', dir], '/')).code, 0);
  });

  test('a service left out (build: without image:) is exit 3, and says why', async () => {
    const dir = scratch();
    const r = await runCli(['import', 'compose', fixture('build.yml'), '-o', dir], '/');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^services\.built-only: left out: not imported: it has `build:` and no `image:`, and there is no registry/m);
    assert.deepEqual(jobFiles(dir), ['built-and-pushed.yaml']);
  });

  test('notes alone keep exit 0', async () => {
    const dir = scratch();
    const r = await runCli(['import', 'compose', fixture('names.yml'), '-o', dir], '/');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^services\.Web_App: note: job named web-app/m);
    assert.deepEqual(jobFiles(dir), ['a-service-name-that-is-much-longer-than-a-job-name-m.yaml', 'web-app-2.yaml', 'web-app.yaml']);
  });

  test('--pod NAME: one job with every service as a container', async () => {
    const dir = scratch();
    const r = await runCli(['import', 'compose', fixture('pod-sidecar.yml'), '--pod', 'web', '-o', dir], '/');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote .*jobs\/web\.yaml \(services app, shipper\)/);
    assert.deepEqual(jobFiles(dir), ['web.yaml']);
  });

  test('nothing importable, or not a compose file: exit 1, nothing written', async () => {
    for (const [file, why] of [
      ['build-only.yml', /no service could be imported; nothing written/],
      ['not-compose.yml', /not-compose\.yml: not a Compose file: expected a mapping with `services:`/],
      ['invalid-yaml.yml', /not a Compose file: .* \(line 3\)/],
      ['yaml-bomb.yml', /not a Compose file: the document uses more than 32 aliases/],
      ['interpolation-required/compose.yaml', /required variable DB_PASSWORD is not set: set DB_PASSWORD in \.env/],
      ['no-such-file.yml', /no-such-file\.yml: ENOENT/],
    ] as const) {
      const dir = scratch();
      const r = await runCli(['import', 'compose', fixture(file), '-o', dir], '/');
      assert.equal(r.code, 1, `${file}: ${r.stderr}`);
      assert.match(r.stderr, why, file);
      assert.deepEqual(jobFiles(dir), [], file);
    }
  });

  test('never overwrites: a job of the same name anywhere under jobs/ is exit 1, and nothing is written', async () => {
    const dir = scratch();
    fs.mkdirSync(path.join(dir, 'jobs', 'team'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'jobs', 'team', 'db.yaml'), 'mine\n');
    const r = await runCli(['import', 'compose', fixture('wordpress.yml'), '-o', dir], '/');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /these job files exist already: jobs\/team\/db\.yaml; nothing written/);
    assert.deepEqual(jobFiles(dir), ['team']);
    assert.equal(fs.readFileSync(path.join(dir, 'jobs', 'team', 'db.yaml'), 'utf8'), 'mine\n');
    // A second import of the same file into the same place refuses the same way.
    const dir2 = scratch();
    assert.equal((await runCli(['import', 'compose', fixture('minimal.yml'), '-o', dir2], '/')).code, 0);
    const again = await runCli(['import', 'compose', fixture('minimal.yml'), '-o', dir2], '/');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /jobs\/hello\.yaml; nothing written/);
  });

  test('a jobs/ that is a symbolic link is not followed', async () => {
    const dir = scratch();
    const elsewhere = scratch();
    fs.symlinkSync(elsewhere, path.join(dir, 'jobs'));
    const r = await runCli(['import', 'compose', fixture('minimal.yml'), '-o', dir], '/');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not a directory \(a symbolic link is not followed\)/);
    assert.deepEqual(fs.readdirSync(elsewhere), []);
  });

  test('DIR defaults to the working directory; FILE and -o are relative to it', async () => {
    const dir = scratch();
    fs.copyFileSync(fixture('minimal.yml'), path.join(dir, 'docker-compose.yml'));
    const r = await runCli(['import', 'compose', 'docker-compose.yml'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^wrote jobs\/hello\.yaml \(service hello\)$/m);
    assert.match(r.stdout, /Next: ozy validate \.$/m);
    const r2 = await runCli(['import', 'compose', 'docker-compose.yml', '-o', 'repo'], dir);
    assert.equal(r2.code, 0, r2.stderr);
    assert.ok(fs.existsSync(path.join(dir, 'repo', 'jobs', 'hello.yaml')));
  });

  test('usage errors: exit 2 with the usage; --help: exit 0', async () => {
    for (const argv of [['import'], ['import', 'compose'], ['import', 'kompose', 'x.yml'], ['import', 'compose', 'a.yml', 'b.yml'], ['import', 'compose', 'a.yml', '--pod', 'Not_A_Name'], ['import', 'compose', 'a.yml', '--nope']]) {
      const r = await runCli(argv, '/');
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, /Usage: ozy import compose FILE \[-o DIR\] \[--pod NAME\]/);
    }
    const help = await runCli(['import', '--help'], '/');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: ozy import compose FILE \[-o DIR\] \[--pod NAME\]/);
    assert.match(help.stdout, /Exit status: 0 everything carried over, 3 some keys or services left out,\n1 nothing could be imported/);
    assert.match((await runCli(['--help'], '/')).stdout, /^ {2}import {5}turn a docker-compose file into job files/m);
  });
});

describe('env_file stays inside the compose file\'s directory', () => {
  test('absolute paths, ~ and .. out of it are not read; a link pointing out of it is not followed', async () => {
    const outside = scratch();
    fs.writeFileSync(path.join(outside, 'secret.env'), 'STOLEN=yes\n');
    const dir = scratch();
    fs.mkdirSync(path.join(dir, 'app'));
    fs.symlinkSync(path.join(outside, 'secret.env'), path.join(dir, 'app', 'link.env'));
    fs.writeFileSync(path.join(dir, 'app', 'ok.env'), 'FINE=yes\n');
    const compose = `services:\n  a:\n    image: alpine\n    restart: always\n    mem_limit: 16m\n    cpus: 0.1\n    env_file: [ok.env, ${path.join(outside, 'secret.env')}, ~/.aws/credentials, ../../${path.basename(outside)}/secret.env, link.env]\n`;
    fs.writeFileSync(path.join(dir, 'app', 'compose.yaml'), compose);
    const r = await runCli(['import', 'compose', 'app/compose.yaml', '-o', 'out'], dir);
    assert.equal(r.code, 3, r.stderr);
    for (const i of [1, 2, 3, 4]) assert.match(r.stderr, new RegExp(`^services\\.a\\.env_file\\[${i}\\]: left out: .*not read`, 'm'));
    const job = fs.readFileSync(path.join(dir, 'out', 'jobs', 'a.yaml'), 'utf8');
    assert.match(job, /FINE: 'yes'/);
    assert.doesNotMatch(job, /STOLEN/);
  });
});
