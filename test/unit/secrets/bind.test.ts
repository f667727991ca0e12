// Binding secret references to the repository's files: the hash and bytes
// go into the spec (a changed file is a changed pod), a missing, oversized
// or undecryptable one makes the job a secret-unavailable problem naming
// the secret and never a value; jobs without secrets are left as they are.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isSecretEnv } from '../../../src/model/job';
import { problemTypeOf } from '../../../src/problems';
import { renderRepo } from '../../../src/render';
import { bindSecrets, sha256Hex } from '../../../src/secrets/bind';
import { MAX_SECRET_FILE_BYTES } from '../../../src/secrets/paths';

const JOB = [
  'name: api',
  'containers:',
  '  app:',
  '    image: localhost/ozy-busybox:1',
  '    environment:',
  '      - {name: MODE, value: fast}',
  '      - {name: DB_PASSWORD, secret: db-password}',
  '',
].join('\n');
const PLAIN = 'name: plain\ncontainers:\n  app:\n    image: localhost/ozy-busybox:1\n';

function render(files: Record<string, string> = {}) {
  return renderRepo(Object.entries({ 'jobs/api.yaml': JOB, 'jobs/plain.yaml': PLAIN, ...files }).map(([path, content]) => ({ path, content })));
}

const cipher = (s: string): Uint8Array => Buffer.from(`-----BEGIN AGE ENCRYPTED FILE-----\n${s}\n-----END AGE ENCRYPTED FILE-----\n`);

describe('bindSecrets', () => {
  test('the renderer leaves the reference unbound; binding adds the hash and the bytes and changes the pod hash', () => {
    const r = render();
    const unbound = r.jobs.find((j) => j.spec.name === 'api')!;
    const env = unbound.spec.containers[0]!.environment;
    assert.deepEqual(env[1], { name: 'DB_PASSWORD', secret: { name: 'db-password', sha256: '', ciphertext: '' } });
    const bytes = cipher('one');
    const bound = bindSecrets(r, new Map([['db-password', bytes]]), 'c1');
    const api = bound.jobs.find((j) => j.spec.name === 'api')!;
    const secret = api.spec.containers[0]!.environment[1]!;
    assert.ok(isSecretEnv(secret));
    assert.equal(secret.secret.sha256, sha256Hex(bytes));
    assert.deepEqual(Buffer.from(secret.secret.ciphertext, 'base64'), Buffer.from(bytes));
    assert.notEqual(api.specHash, unbound.specHash);
    const other = bindSecrets(r, new Map([['db-password', cipher('two')]]), 'c1').jobs.find((j) => j.spec.name === 'api')!;
    assert.notEqual(other.specHash, api.specHash, 'a changed secret file is a changed pod');
    assert.equal(bound.jobs.find((j) => j.spec.name === 'plain'), r.jobs.find((j) => j.spec.name === 'plain'), 'jobs without secrets untouched');
  });

  test('a missing file: secret-unavailable naming the variable and the secret, the job held back', () => {
    const bound = bindSecrets(render(), new Map(), 'c1');
    assert.deepEqual(bound.jobs.map((j) => j.spec.name), ['plain']);
    const p = bound.problems.find((x) => x.key === 'api')!;
    assert.equal(p.job, 'api');
    assert.equal(p.file, 'jobs/api.yaml');
    assert.equal(problemTypeOf(p.problem), 'secret-unavailable');
    assert.equal(p.problem.commit, 'c1');
    assert.deepEqual(p.problem.errors!.map((e) => e.pointer), ['/containers/app/environment/1/secret']);
    assert.match(p.problem.detail, /DB_PASSWORD: the secret "db-password" has no file secrets\/db-password\.age/);
    assert.doesNotMatch(JSON.stringify(p.problem), /fast/, 'no value, not even a plain one');
  });

  test('an oversized file and an undecryptable one are problems too', () => {
    const big = bindSecrets(render(), new Map([['db-password', new Uint8Array(MAX_SECRET_FILE_BYTES + 1)]]));
    assert.match(big.problems[0]!.problem.detail, /at most 65536/);
    const bytes = cipher('x');
    const bad = bindSecrets(render(), new Map([['db-password', bytes]]), 'c1', (sha) => (sha === sha256Hex(bytes) ? 'not encrypted to this agent\'s identity' : undefined));
    assert.match(bad.problems[0]!.problem.detail, /cannot be decrypted: not encrypted to this agent's identity/);
    assert.deepEqual(bad.jobs.map((j) => j.spec.name), ['plain']);
  });

  test('no job with secrets: the very same result', () => {
    const r = renderRepo([{ path: 'jobs/plain.yaml', content: PLAIN }]);
    assert.equal(bindSecrets(r, new Map()), r);
  });

  test('value and secret together, or neither, is invalid-environment', () => {
    const both = JOB.replace('{name: DB_PASSWORD, secret: db-password}', '{name: DB_PASSWORD, secret: db-password, value: x}');
    const r = renderRepo([{ path: 'jobs/api.yaml', content: both }]);
    assert.equal(problemTypeOf(r.problems[0]!.problem), 'invalid-environment');
    assert.deepEqual(r.problems[0]!.problem.errors!.map((e) => e.pointer), ['/containers/app/environment/1']);
  });
});
