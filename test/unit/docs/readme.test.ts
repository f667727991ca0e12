// The README's job-format table is checked against the schema, the source of
// truth: every field a user can write is documented there.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as os from 'node:os';
import { projectRoot } from '../../../src/paths';
import { renderRepoDir } from '../../../src/render';
import { heredocFiles, readReadme, walkthroughBlock, walkthroughScript } from '../../integration/up/readme-walkthrough';

type Schema = { properties?: Record<string, Schema>; definitions?: Record<string, Schema>; $defs?: Record<string, Schema> };

test('every job and container field of the schema appears in the README table', () => {
  const root = projectRoot();
  const schema = JSON.parse(fs.readFileSync(path.join(root, 'schemas/job.schema.json'), 'utf8')) as Schema;
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const defs = schema.definitions ?? schema.$defs ?? {};
  const container = defs.container;
  assert.ok(container?.properties, 'the schema defines a container');
  const fields = [...Object.keys(schema.properties ?? {}), ...Object.keys(container.properties)];
  assert.ok(fields.length >= 12);
  const missing = fields.filter((f) => !readme.includes(`| \`${f}\` |`));
  assert.deepEqual(missing, [], 'fields missing from the README job-format table');
});

test('the README gives exactly the two commands, and .ci/run runs the test one', () => {
  const root = projectRoot();
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const quick = readme.slice(readme.indexOf('## Quickstart'), readme.indexOf('## Walk-through'));
  const block = /```sh\n([\s\S]*?)```/.exec(quick)?.[1] ?? '';
  const commands = block.split('\n').filter((l) => l.trim() !== '').map((l) => l.replace(/#.*$/, '').trim());
  assert.deepEqual(commands, ['bash scripts/up.sh', 'bash .ci/run']);
  assert.match(fs.readFileSync(path.join(root, '.ci/run'), 'utf8'), /setup-and-test\.sh/);
  assert.match(fs.readFileSync(path.join(root, 'scripts/setup-and-test.sh'), 'utf8'), /^npm test$/m);
});

test('the README walk-through adds a job of its own that validates with the examples, and the test can run it', async () => {
  const root = projectRoot();
  const block = walkthroughBlock(readReadme(root));
  const files = heredocFiles(block);
  assert.deepEqual([...files.keys()], ['jobs/site.yaml']);
  for (const f of files.keys()) assert.equal(fs.existsSync(path.join(root, 'examples', f)), false, `${f} would overwrite an example`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ozy-walk-'));
  try {
    fs.cpSync(path.join(root, 'examples'), dir, { recursive: true });
    for (const [f, text] of files) fs.writeFileSync(path.join(dir, f), text);
    const r = await renderRepoDir(dir, { commit: 'walk' });
    assert.deepEqual(r.problems, []);
    const site = r.jobs.find((j) => j.spec.name === 'site');
    assert.equal(site?.spec.containers[0]?.healthcheck?.type, 'http');
    // It checks a file its command creates (busybox httpd serves no index of its own).
    const hc = site!.spec.containers[0]!.healthcheck as { path: string };
    assert.ok((site!.spec.containers[0]!.command ?? []).join(' ').includes(`/www${hc.path}`), 'the checked path is created by the command');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const script = walkthroughScript(block, { repoUrl: 'http://127.0.0.1:1/jobs.git', bin: '/x/bin', waits: [{ after: /"add site"/, until: 'true', seconds: 1 }] });
  assert.match(script, /^git clone http:\/\/127\.0\.0\.1:1\/jobs\.git ozy-jobs/m);
  assert.match(script, /^export PATH="\/x\/bin":"\$PATH"$/m);
  // The undo step changes the file back; it does not revert whatever commit is on top (the agents' report).
  assert.doesNotMatch(block, /git revert/);
});
