// Commands a user types find the cluster of a running `ozy up` without flags.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { DEFAULT_ETCD, discoveredEtcd, runningUp } from '../../../src/cli/up-discovery';
import { etcdConnection } from '../../../src/cli/etcd-options';
import type { ProcessProbe, UpState } from '../../../src/up/state-file';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ozy-discovery-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function record(over: Partial<UpState> = {}): void {
  const state: UpState = { pid: 4242, startedAt: '2026-11-30T00:00:00Z', phase: 'running', stateDir: dir, etcd: { endpoint: 'http://127.0.0.1:23790', startedByUp: true }, nodes: ['node-1'], processes: {}, ...over };
  fs.writeFileSync(path.join(dir, 'up.json'), JSON.stringify(state));
}

const upRuns: ProcessProbe = { alive: (pid) => pid === 4242, cmdline: () => 'node /usr/bin/ozy up' };
const nothingRuns: ProcessProbe = { alive: () => false, cmdline: () => undefined };
const env = { OZY_UP_STATE_DIR: dir };

describe('finding a running ozy up', () => {
  test('the recorded etcd of a live ozy up', () => {
    record();
    assert.equal(runningUp(env, upRuns)?.pid, 4242);
    assert.equal(discoveredEtcd(env, upRuns), 'http://127.0.0.1:23790');
  });

  test('a record whose ozy up is gone, is stopping, or is missing: etcd\'s default', () => {
    record();
    assert.equal(discoveredEtcd(env, nothingRuns), DEFAULT_ETCD);
    record({ phase: 'stopping' });
    assert.equal(discoveredEtcd(env, upRuns), DEFAULT_ETCD);
    fs.rmSync(path.join(dir, 'up.json'));
    assert.equal(discoveredEtcd(env, upRuns), DEFAULT_ETCD);
  });

  test('etcdConnection: flag, then OZY_ETCD, then (only when asked to discover) the default', () => {
    fs.rmSync(path.join(dir, 'up.json'), { force: true });
    const pick = (v: { etcd?: string }, e: NodeJS.ProcessEnv, discover: boolean): string[] | string => {
      const c = etcdConnection(v, { ...env, ...e }, { discover });
      return 'problem' in c ? c.problem : c.endpoints;
    };
    assert.deepEqual(pick({ etcd: 'http://a:1' }, { OZY_ETCD: 'http://b:2' }, true), ['http://a:1']);
    assert.deepEqual(pick({}, { OZY_ETCD: 'http://b:2' }, true), ['http://b:2']);
    assert.deepEqual(pick({}, {}, true), [DEFAULT_ETCD]);
    assert.equal(pick({}, {}, false), '--etcd is required');
  });
});
