import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { INITIAL_HEALTH, recordProbe, restartDelayMs, shouldRestart } from '../../../src/agent/health-state';

const t = { healthyThreshold: 2, unhealthyThreshold: 3 };

describe('recordProbe', () => {
  test('needs healthyThreshold consecutive successes to become healthy', () => {
    const one = recordProbe(INITIAL_HEALTH, true, t);
    assert.equal(one.health, 'unknown');
    assert.equal(recordProbe(one, true, t).health, 'healthy');
  });
  test('a failure resets the success streak', () => {
    const s = recordProbe(recordProbe(recordProbe(INITIAL_HEALTH, true, t), false, t), true, t);
    assert.equal(s.health, 'unknown');
  });
  test('needs unhealthyThreshold consecutive failures to become unhealthy', () => {
    let s = recordProbe(recordProbe(INITIAL_HEALTH, true, t), true, t);
    s = recordProbe(s, false, t);
    s = recordProbe(s, false, t);
    assert.equal(s.health, 'healthy');
    assert.equal(recordProbe(s, false, t).health, 'unhealthy');
  });
});

describe('restart policy and back-off', () => {
  test('never / on-failure / always', () => {
    assert.equal(shouldRestart('never', { kind: 'unhealthy' }), false);
    assert.equal(shouldRestart('on-failure', { kind: 'exited', exitCode: 0 }), false);
    assert.equal(shouldRestart('on-failure', { kind: 'exited', exitCode: 1 }), true);
    assert.equal(shouldRestart('on-failure', { kind: 'unhealthy' }), true);
    assert.equal(shouldRestart('always', { kind: 'exited', exitCode: 0 }), true);
  });
  test('exponential, capped', () => {
    assert.deepEqual([0, 1, 2, 3].map((n) => restartDelayMs(n)), [1000, 2000, 4000, 8000]);
    assert.equal(restartDelayMs(40), 60_000);
  });
});
