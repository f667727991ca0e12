// docs/alerts.yaml: valid rules (`promtool check rules`) that fire when they
// should (`promtool test rules docs/alerts.test.yaml`). CI installs
// Prometheus (scripts/install-deps.sh); without promtool the test is skipped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../../src/paths';

const docs = path.join(projectRoot(), 'docs');
const havePromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = havePromtool ? false : 'promtool not installed (apt-get install --no-install-recommends prometheus)';

test('docs/alerts.yaml passes promtool check rules', { skip }, () => {
  const r = spawnSync('promtool', ['check', 'rules', 'alerts.yaml'], { cwd: docs, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('docs/alerts.test.yaml: the alerts fire (and stay quiet) as written', { skip }, () => {
  const r = spawnSync('promtool', ['test', 'rules', 'alerts.test.yaml'], { cwd: docs, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('every alert of docs/alerts.yaml has a unit test', { skip }, async () => {
  const fs = await import('node:fs');
  const rules = fs.readFileSync(path.join(docs, 'alerts.yaml'), 'utf8');
  const tests = fs.readFileSync(path.join(docs, 'alerts.test.yaml'), 'utf8');
  const names = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
  assert.ok(names.length >= 5);
  for (const n of names) assert.ok(tests.includes(`alertname: ${n}`), `${n} has no test in alerts.test.yaml`);
});
