import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkAddress, readyTimeoutFor, runCheck } from '../../../src/agent/instance-probe';
import type { HealthCheck } from '../../../src/model/job';
import { ExecTimeoutError } from '../../../src/runtime/errors';

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
  test('exec: exit 0 passes; a failure says its exit code and first line; an engine error is a failed check, not a throw', async () => {
    const hc: HealthCheck = { type: 'exec', command: ['/bin/true'], ...timing };
    const probes = { http: async () => ({ ok: true, saw: '' }), tcp: async () => ({ ok: true, saw: '' }) };
    const target = { containerId: 'c1', podIp: undefined, ports: [] };
    assert.deepEqual(await runCheck(hc, target, { exec: async () => ({ exitCode: 0, output: '' }) }, probes), { ok: true, saw: 'exec → exit 0' });
    assert.deepEqual(await runCheck(hc, target, { exec: async () => ({ exitCode: 1, output: '\n  db: no response\u0007\nmore\n' }) }, probes), { ok: false, saw: 'exec → exit 1: db: no response' });
    assert.deepEqual(await runCheck(hc, target, { exec: async () => { throw new Error('gone'); } }, probes), { ok: false, saw: 'exec → gone' });
    assert.deepEqual(await runCheck(hc, target, { exec: async () => { throw new ExecTimeoutError('slow'); } }, probes), { ok: false, saw: 'exec → timed out after 50ms' });
    assert.deepEqual(await runCheck(hc, { ...target, containerId: undefined }, { exec: async () => ({ exitCode: 0, output: '' }) }, probes), { ok: false, saw: 'exec → the container is not created yet' });
  });
  test('http and tcp: what the probe saw is passed on; a probe that throws is a failed check', async () => {
    const target = { containerId: 'c1', podIp: '10.0.0.2', ports: [] };
    const probes = { http: async (_h: string, _p: number, path: string) => ({ ok: false, saw: `GET ${path} → 404` }), tcp: async () => { throw new Error('boom'); } };
    const none = { exec: async () => ({ exitCode: 0, output: '' }) };
    assert.deepEqual(await runCheck({ type: 'http', port: 80, path: '/health', ...timing }, target, none, probes), { ok: false, saw: 'GET /health → 404' });
    assert.deepEqual(await runCheck({ type: 'tcp', port: 5432, ...timing }, target, none, probes), { ok: false, saw: 'TCP 5432 → boom' });
  });
});
