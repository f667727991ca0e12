import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatCpu } from '../../../src/schedule';
import { Gi, Ki, Mi } from './fixtures';

test('sizes use the job format binary suffixes', () => {
  assert.equal(formatBytes(12 * Gi), '12G');
  assert.equal(formatBytes(1.5 * Gi), '1.5G');
  assert.equal(formatBytes(512 * Mi), '512M');
  assert.equal(formatBytes(100 * Ki), '100K');
  assert.equal(formatBytes(300), '300B');
  assert.equal(formatBytes(0), '0B');
  assert.equal(formatBytes(2 * 1024 * Gi), '2T');
});

test('CPU amounts are cores', () => {
  assert.equal(formatCpu(1000), '1 CPU');
  assert.equal(formatCpu(2500), '2.5 CPUs');
  assert.equal(formatCpu(250), '0.25 CPU');
});
