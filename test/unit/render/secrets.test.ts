// Environment values may be secrets: no problem may ever contain one,
// whatever is wrong with the file.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderRepo, type RepoFile } from '../../../src/render';
import { validJob } from './helpers';

const SECRET = 'hunter2-s3cr3t-value';

function assertNoSecret(files: RepoFile[]): void {
  const r = renderRepo(files, { commit: 'abc' });
  assert.ok(r.problems.length > 0, 'expected a problem');
  const text = JSON.stringify(r.problems);
  assert.ok(!text.includes(SECRET), `a problem leaks the secret: ${text}`);
  assert.ok(!text.includes('hunter2'), `a problem leaks part of the secret: ${text}`);
}

const withEnv = (environment: unknown, mutate?: (j: Record<string, any>) => void): RepoFile => {
  const j = validJob();
  j.containers.app.environment = environment;
  mutate?.(j);
  return { path: 'jobs/web.yaml', content: JSON.stringify(j) };
};

test('a value of the wrong type (list form)', () => assertNoSecret([withEnv([{ name: 'PASSWORD', value: [SECRET] }])]));
test('a value of the wrong type (map form)', () => assertNoSecret([withEnv({ PASSWORD: { nested: SECRET } })]));
test('a null value beside a secret', () => assertNoSecret([withEnv({ PASSWORD: SECRET, EMPTY: null })]));
test('an extra field holding the secret', () => assertNoSecret([withEnv([{ name: 'PASSWORD', value: 'x', default: SECRET }])]));
test('a value over the length limit', () => assertNoSecret([withEnv({ PASSWORD: SECRET.repeat(10_000) })]));
test('a name set twice', () =>
  assertNoSecret([
    withEnv([
      { name: 'PASSWORD', value: SECRET },
      { name: 'PASSWORD', value: SECRET },
    ]),
  ]));
test('another field wrong in a job with secrets', () => assertNoSecret([withEnv({ PASSWORD: SECRET }, (j) => (j.containers.app.memory = 'lots'))]));
test('a duplicate job name with secrets', () =>
  assertNoSecret([withEnv({ PASSWORD: SECRET }), { ...withEnv({ PASSWORD: SECRET }), path: 'jobs/b/web.yaml' }]));
test('a YAML syntax error next to the secret (no source snippets)', () =>
  assertNoSecret([{ path: 'jobs/web.yaml', content: `name: web\ncontainers:\n  app:\n    environment:\n      - name: PASSWORD\n        value: ${SECRET}\n      bad: [\n` }]));
test('a duplicated key next to the secret', () =>
  assertNoSecret([{ path: 'jobs/web.yaml', content: `name: web\ncontainers:\n  app:\n    image: x\n    environment:\n      PASSWORD: ${SECRET}\n      PASSWORD: ${SECRET}\n` }]));
test('a job name mismatch in a job with secrets', () =>
  assertNoSecret([{ path: 'jobs/other.yaml', content: withEnv({ PASSWORD: SECRET }).content }]));
test('a chart reference whose values hold a secret', () =>
  assertNoSecret([{ path: 'jobs/web.yaml', content: `chart: ozy/unknown\nvalues: {env: {PASSWORD: ${SECRET}}}\n` }]));

test('a variable name (not a value) may be quoted', () => {
  const r = renderRepo([withEnv([{ name: 'DB-URL', value: SECRET }])]);
  assert.equal(r.problems[0]!.problem.errors![0]!.message, "containers.app.environment[0].name: expected a variable name made of letters, digits and '_', not starting with a digit, got \"DB-URL\"");
  assert.ok(!JSON.stringify(r.problems).includes(SECRET));
});
