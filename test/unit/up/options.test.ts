import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { UpError } from '../../../src/up/errors';
import { defaultStateDir, parseUpOptions } from '../../../src/up/options';

function usageError(argv: string[]): string {
  try {
    parseUpOptions(argv, '/work');
  } catch (err) {
    assert.ok(err instanceof UpError);
    assert.equal(err.code, 'UP_USAGE');
    return err.message;
  }
  assert.fail(`expected ${argv.join(' ')} to be refused`);
}

describe('ozy up options', () => {
  test('defaults: one agent, 1s poll, preferred ports, node-N names, the default state dir', () => {
    const o = parseUpOptions([], '/work');
    assert.equal(o.agents, 1);
    assert.equal(o.poll, '1s');
    assert.equal(o.branch, 'main');
    assert.equal(o.nodePrefix, 'node');
    assert.deepEqual(o.ports, { mode: 'prefer' });
    assert.equal(o.stateDir, defaultStateDir());
    assert.equal(o.refreshMs, 1000);
    assert.equal(o.etcd, undefined);
    assert.equal(o.dockerSocket, undefined);
    assert.deepEqual(o.perAgent, {});
  });

  test('relative and ~ paths resolve against the working directory and home', () => {
    const o = parseUpOptions(['--state-dir', 'st', '--repo-dir', '~/jobs', '--docker-socket', 'unix:///run/x.sock'], '/work');
    assert.equal(o.stateDir, '/work/st');
    assert.equal(o.repoDir, path.join(os.homedir(), 'jobs'));
    assert.equal(o.dockerSocket, '/run/x.sock');
  });

  test('--port-base: a number is exact, 0 means any free ports', () => {
    assert.deepEqual(parseUpOptions(['--port-base', '3000'], '/').ports, { mode: 'fixed', base: 3000 });
    assert.deepEqual(parseUpOptions(['--port-base', '0'], '/').ports, { mode: 'free' });
    assert.match(usageError(['--port-base', 'x']), /--port-base/);
  });

  test('per-agent capacity flags use the agent flag syntax', () => {
    const o = parseUpOptions(['--memory', '2G', '--cpus', '500m', '--disk', '1G'], '/');
    assert.deepEqual(o.perAgent, { memory: 2 * 1024 ** 3, cpu: 500, disk: 1024 ** 3 });
  });

  test('--etcd takes comma-separated URLs', () => {
    assert.deepEqual(parseUpOptions(['--etcd', 'http://a:1, http://b:2'], '/').etcd, ['http://a:1', 'http://b:2']);
    assert.match(usageError(['--etcd', 'a:1']), /http/);
  });

  test('bad values are usage errors that name the flag', () => {
    assert.match(usageError(['--agents', '0']), /--agents/);
    assert.match(usageError(['--agents', '1.5']), /--agents/);
    assert.match(usageError(['--poll', '10ms']), /--poll/);
    assert.match(usageError(['--poll', 'soon']), /--poll/);
    assert.match(usageError(['--lease-ttl', '1s']), /--lease-ttl/);
    assert.match(usageError(['--node-prefix', 'Node_A']), /--node-prefix/);
    assert.match(usageError(['--memory', 'lots']), /--memory/);
    assert.match(usageError(['--no-such-flag']), /no-such-flag/);
  });
});
