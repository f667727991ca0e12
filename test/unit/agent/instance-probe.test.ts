import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkAddress, readyTimeoutFor, runCheck } from '../../../src/agent/instance-probe';
import type { HealthCheck } from '../../../src/model/job';

const timing = { intervalMs: 100, timeoutMs: 50, healthyThreshold: 2, unhealthyThreshold: 3 };

describe('health check targets and timing', () => {
  test('the pod IP and the container port; loopback and the published port without a pod IP', () => {
    const ports = [{ host: 18080, container: 8080, protocol: 'tcp' as const }];
    assert.deepEqual(checkAddress(8080, '10.88.0.5', ports), { host: '10.88.0.5', port: 8080 });
    assert.deepEqual(checkAddress(8080, undefined, ports), { host: '127.0.0.1', port: 18080 });
    assert.deepEqual(checkAddress(9000, undefined, ports), { host: '127.0.0.1', port: 9000 });
  });
  test('the ready timeout is never shorter than the check needs', () => {
    const hc: HealthCheck = { type: 'tcp', port: 1, ...timing };
    assert.equal(readyTimeoutFor(100, hc), 550);
    assert.equal(readyTimeoutFor(10_000, hc), 10_000);
    assert.equal(readyTimeoutFor(100, undefined), 100);
  });
  test('exec: exit 0 passes; an engine error is a failed check, not a throw', async () => {
    const hc: HealthCheck = { type: 'exec', command: ['/bin/true'], ...timing };
    const probes = { http: async () => true, tcp: async () => true };
    const target = { containerId: 'c1', podIp: undefined, ports: [] };
    assert.equal(await runCheck(hc, target, { exec: async () => 0 }, probes), true);
    assert.equal(await runCheck(hc, target, { exec: async () => 1 }, probes), false);
    assert.equal(await runCheck(hc, target, { exec: async () => { throw new Error('gone'); } }, probes), false);
  });
});
