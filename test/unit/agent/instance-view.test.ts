import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MIXED_SPEC, deriveInstanceState, formatBytes, runningInstances, type ContainerView } from '../../../src/agent/instance-view';

function view(name: string, extra: Partial<ContainerView> = {}): ContainerView {
  return { name, state: 'running', oomKilled: false, memoryLimit: 0, hasHealthcheck: false, health: 'unknown', gaveUp: false, ...extra };
}

describe('deriveInstanceState', () => {
  const running = { kind: 'running' } as const;
  test('the pod phase comes first', () => {
    assert.deepEqual(deriveInstanceState({ kind: 'pulling' }, [view('a')]), { state: 'pulling' });
    assert.deepEqual(deriveInstanceState({ kind: 'failed', message: 'pull failed: x', retryAt: 9000, retryInMs: 2000 }, []), {
      state: 'failed',
      message: 'pull failed: x; retrying in 2.0s',
    });
  });
  test('healthy only when every container runs and passes its check', () => {
    assert.equal(deriveInstanceState(running, [view('a'), view('b', { hasHealthcheck: true, health: 'healthy' })]).state, 'healthy');
    assert.deepEqual(deriveInstanceState(running, [view('a'), view('b', { hasHealthcheck: true })]), {
      state: 'starting',
      message: 'waiting for the health check of b',
    });
  });
  test('down beats unhealthy; an OOM kill names the limit; a pending restart is announced', () => {
    const s = deriveInstanceState(
      running,
      [view('a', { health: 'unhealthy', hasHealthcheck: true }), view('b', { state: 'exited', exitCode: 137, oomKilled: true, memoryLimit: 64 * 1024 * 1024, restartInMs: 500 })],
    );
    assert.deepEqual(s, { state: 'exited', message: 'container b: OOM killed (memory limit 64Mi); restarting in 0.5s' });
    assert.equal(deriveInstanceState(running, [view('a', { health: 'unhealthy' })]).state, 'unhealthy');
  });
  test('what the failing health check saw is part of the message, starting or unhealthy', () => {
    const saw = { hasHealthcheck: true, checkFailure: 'GET /health → 404' };
    assert.deepEqual(deriveInstanceState(running, [view('app', saw)]), { state: 'starting', message: 'waiting for the health check of app: GET /health → 404' });
    assert.deepEqual(deriveInstanceState(running, [view('app', { ...saw, health: 'unhealthy', restartInMs: 2000 })]), {
      state: 'unhealthy',
      message: 'container app fails its health check: GET /health → 404; restarting in 2.0s',
    });
  });
});

describe('formatBytes', () => {
  test('binary units', () => {
    assert.deepEqual([16 * 2 ** 20, 1.5 * 2 ** 30, 512, 2 ** 10].map(formatBytes), ['16Mi', '1.5Gi', '512B', '1Ki']);
  });
});

describe('runningInstances', () => {
  test('groups containers by instance; disagreeing spec labels force a replacement', () => {
    const l = (instance: string, spec: string) => ({ labels: { 'ozy.instance': instance, 'ozy.job': 'web', 'ozy.spec': spec } });
    assert.deepEqual(runningInstances([l('web-1', 'h'), l('web-0', 'h'), l('web-0', 'h'), l('web-2', 'h'), l('web-2', 'g'), { labels: {} }]), [
      { instance: 'web-0', job: 'web', specHash: 'h' },
      { instance: 'web-1', job: 'web', specHash: 'h' },
      { instance: 'web-2', job: 'web', specHash: MIXED_SPEC },
    ]);
  });
});
