import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { parseYaml } from '../../../src/render/yaml';
import { projectRoot } from '../../../src/paths';
import { loadBuiltinCharts } from '../../../src/render';
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

function documentsOf(yaml: string): Array<{ name: string }> {
  const parsed = parseYaml(yaml);
  assert.ok(parsed.ok, 'render output is YAML');
  return parsed.documents.filter((d) => d !== null) as Array<{ name: string }>;
}

/** Write rendered documents back as plain job files (with the examples' secret files they name) and validate them. */
async function validatesAsJobFiles(docs: Array<{ name: string }>): Promise<void> {
  const files: Record<string, string> = {};
  for (const d of docs) files[`jobs/${d.name}.yaml`] = JSON.stringify(d);
  const secrets = path.join(projectRoot(), 'examples', 'secrets');
  for (const f of fs.readdirSync(secrets)) files[`secrets/${f}`] = fs.readFileSync(path.join(secrets, f), 'utf8');
  const r = await runCli(['validate', repo(files)], '/');
  assert.equal(r.code, 0, r.stdout);
}

test('ozy render examples: every job as YAML documents separated by ---', async () => {
  const r = await runCli(['render', 'examples'], projectRoot());
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const docs = documentsOf(r.stdout);
  assert.deepEqual(docs.map((d) => d.name), ['crunch', 'greeter', 'hello', 'hello-cron', 'node-info', 'simple-webapp', 'web']);
  assert.match(r.stdout, /^# Source: jobs\/simple-webapp\.yaml$/m);
  assert.match(r.stdout, /^---$/m);
  await validatesAsJobFiles(docs);
});

test('the rendered output of every shipped chart validates', async () => {
  const charts = [...loadBuiltinCharts().keys()].sort();
  assert.ok(charts.length >= 2, `shipped charts: ${charts.join(', ')}`);
  const files: Record<string, string> = {};
  for (const c of charts) files[`jobs/${c}-release.yaml`] = `chart: ozy/${c}\n`;
  const r = await runCli(['render', repo(files)], '/');
  assert.equal(r.code, 0, r.stderr);
  const docs = documentsOf(r.stdout);
  assert.ok(docs.length >= charts.length);
  await validatesAsJobFiles(docs);
});

test('--json prints an array of jobs in the raw format', async () => {
  const r = await runCli(['render', '--json', 'examples'], projectRoot());
  assert.equal(r.code, 0);
  const jobs = JSON.parse(r.stdout) as Array<{ name: string; containers: Record<string, { memory: string }> }>;
  const hello = jobs.find((j) => j.name === 'hello')!;
  assert.equal(hello.containers.web!.memory, '16M');
});

test('problems go to stderr with exit 1; valid jobs still print', async () => {
  const dir = repo({
    'jobs/ok.yaml': 'name: ok\ncontainers: {app: {image: busybox}}\n',
    'jobs/bad.yaml': 'name: bad\ncontainers: {app: {image: busybox, cpu: lots}}\n',
  });
  const r = await runCli(['render', dir], '/');
  assert.equal(r.code, 1);
  assert.deepEqual(documentsOf(r.stdout).map((d) => d.name), ['ok']);
  assert.match(r.stderr, /jobs\/bad\.yaml: Invalid CPU amount \[invalid-cpu\]/);
});

test('an unreadable directory: exit 2', async () => {
  const r = await runCli(['render', '/nonexistent/ozy'], '/');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^ozy render: cannot read/);
});
