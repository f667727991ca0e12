// A compose file is untrusted input: what it says can reach the job file's
// header comments and the findings, and must not become YAML of the job,
// leak environment values, or make the importer read files outside its
// directory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FileReader } from '../../../src/compose/environment';
import { importCompose } from '../../../src/compose/import-compose';
import { parseYaml } from '../../../src/render/yaml';

const noFiles: FileReader = { read: () => ({ ok: false, missing: true, why: 'no such file' }) };

test('newlines in values that reach the header stay inside comments', () => {
  const text = [
    'services:',
    '  web:',
    '    image: nginx:1.25',
    '    mem_limit: 16m',
    '    cpus: 0.1',
    '    restart: always',
    '    ports:',
    '      - "1.2.3.4\\nnumInstances: 99\\nx:8080:80"',
    '      - {target: 81, host_ip: "10.0.0.1\\nprivileged: true"}',
    '',
  ].join('\n');
  const r = importCompose({ text, source: 'evil\nname: x.yml', env: {}, files: noFiles });
  const file = r.jobs[0]!.text;
  const yamlLines = file.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(yamlLines[0], 'name: web', 'the job starts right after the comments');
  const back = parseYaml(file);
  assert.ok(back.ok);
  assert.deepEqual(back.documents[0], r.jobs[0]!.job);
  assert.equal((back.documents[0] as { numInstances?: number }).numInstances, undefined);
  assert.ok(r.findings.some((f) => f.path === 'services.web.ports[1]' && f.kind === 'left-out'));
});

test('findings never quote environment values, from the file, .env or an env_file', () => {
  const text = 'services:\n  db:\n    image: postgres:16\n    environment:\n      - PASSWORD=${DB_PASSWORD}\n      - "BAD NAME=topsecret-1"\n    env_file: secrets.env\n';
  const files: FileReader = { read: () => ({ ok: true, text: 'TOKEN=topsecret-2\nbad-name=topsecret-3\n' }) };
  const r = importCompose({ text, source: 'c.yml', env: {}, dotenv: 'DB_PASSWORD=topsecret-0\n', files });
  const said = JSON.stringify(r.findings) + r.jobs.map((j) => j.text.split('\n').filter((l) => l.startsWith('#')).join('\n')).join('');
  assert.doesNotMatch(said, /topsecret/);
  assert.deepEqual(r.jobs[0]!.job.containers.db!.environment, { TOKEN: 'topsecret-2', PASSWORD: 'topsecret-0' });
  assert.ok(r.findings.some((f) => f.path === 'services.db.environment[1]' && f.kind === 'left-out'));
});

test('an env_file path is handed to the reader as written; the reader decides (see disk.ts)', () => {
  const asked: string[] = [];
  const files: FileReader = { read: (p) => (asked.push(p), { ok: false, missing: false, why: 'not read: it is outside the compose file\'s directory' }) };
  const r = importCompose({ text: 'services:\n  a:\n    image: alpine\n    env_file: [/etc/shadow, ../../x.env]\n', source: 'c.yml', env: {}, files });
  assert.deepEqual(asked, ['/etc/shadow', '../../x.env']);
  assert.deepEqual(r.findings.filter((f) => f.kind === 'left-out').map((f) => f.path), ['services.a.env_file[0]', 'services.a.env_file[1]']);
});
