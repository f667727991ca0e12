import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../cli/run-cli';

describe('ozy up (command line)', () => {
  test('--help documents the options and exit codes', async () => {
    const r = await runCli(['up', '--help'], '/');
    assert.equal(r.code, 0);
    for (const flag of ['--state-dir', '--repo-dir', '--agents', '--poll', '--etcd', '--docker-socket', '--port-base']) assert.ok(r.stdout.includes(flag), flag);
    assert.match(r.stdout, /3 already running/);
  });

  test('a bad flag is a usage error (exit 2) before anything is started', async () => {
    const r = await runCli(['up', '--agents', '0', '--state-dir', '/nonexistent/never-created'], '/');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--agents/);
  });
});
