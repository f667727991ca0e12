// Reading podman's libpod batch stats reply (shapes as podman 4.3 answers).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseLibpodStats } from '../../../src/runtime/libpod-stats';

const entry = { ContainerID: 'a'.repeat(64), Name: 'ozy-web-0-app', CPU: 6.9, CPUNano: 49131452, CPUSystemNano: 24000000, SystemNano: 1796031515544849774, MemUsage: 339968, MemLimit: 16777216 };

describe('parseLibpodStats', () => {
  test('one sample per running container: total CPU ns and the wall clock it was read at', () => {
    const got = parseLibpodStats({ Error: null, Stats: [entry] });
    assert.ok(typeof got !== 'string');
    assert.deepEqual(got.get(entry.ContainerID), { readAt: '2026-11-30T09:38:35.544Z', memoryUsage: 339968, memoryLimit: 16777216, cpuTotalNs: 49131452 });
  });

  test('a refused batch (an unknown id) is an error for the whole batch, not an empty answer', () => {
    assert.match(String(parseLibpodStats({ Error: {}, Stats: null })), /refused/);
    assert.equal(typeof parseLibpodStats('Not Found'), 'string');
    assert.equal(typeof parseLibpodStats({ Error: null }), 'string');
  });

  test('malformed entries are skipped', () => {
    const got = parseLibpodStats({ Error: null, Stats: [null, { ...entry, CPUNano: 'x' }, { ...entry, ContainerID: 'b', SystemNano: 0 }, { ...entry, ContainerID: 'c' }] });
    assert.ok(typeof got !== 'string');
    assert.deepEqual([...got.keys()], ['c']);
  });
});
