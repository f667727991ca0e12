// The README's job-format table is checked against the schema, the source of
// truth: every field a user can write is documented there.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../../src/paths';

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
