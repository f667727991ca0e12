import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeSize, formatCpu, formatDuration, formatSize, GiB, KiB, MiB, parseCpu, parseDurationMs, parseSize, TiB } from '../../../src/render/units';

describe('parseSize: K, M, G, T are 1024-based like Docker; Ki, Mi, Gi, Ti the same', () => {
  const cases: Array<[unknown, number | undefined]> = [
    ['512M', 512 * MiB],
    ['512Mi', 512 * MiB],
    ['512m', 512 * MiB],
    ['512MB', 512 * MiB],
    ['2G', 2 * GiB],
    ['2Gi', 2 * GiB],
    ['100Ki', 100 * KiB],
    ['100K', 100 * KiB],
    ['1T', TiB],
    ['1.5G', 1.5 * GiB],
    ['0.5K', 512],
    ['1024', 1024],
    ['100B', 100],
    [1024, 1024],
    [0, 0],
    ['lots', undefined],
    ['512 M', undefined],
    ['100i', undefined],
    ['-1M', undefined],
    [-1, undefined],
    [1.5, undefined],
    [Number.NaN, undefined],
    [true, undefined],
    [null, undefined],
    ['99999999999999T', undefined],
  ];
  for (const [input, want] of cases) {
    test(`${JSON.stringify(input)} → ${want}`, () => assert.equal(parseSize(input), want));
  }
});

describe('parseCpu → millicores', () => {
  const cases: Array<[unknown, number | undefined]> = [
    ['0.5', 500],
    [0.5, 500],
    ['250m', 250],
    [2, 2000],
    ['2', 2000],
    ['0.0001', 0],
    ['lots', undefined],
    ['0.5m', undefined],
    [-1, undefined],
    [Number.POSITIVE_INFINITY, undefined],
    [{}, undefined],
  ];
  for (const [input, want] of cases) {
    test(`${JSON.stringify(input)} → ${want}`, () => assert.equal(parseCpu(input), want));
  }
});

describe('parseDurationMs: seconds as numbers (the seed), or with a unit', () => {
  const cases: Array<[unknown, number | undefined]> = [
    [30, 30_000],
    [0.5, 500],
    ['500ms', 500],
    ['5s', 5000],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['5', undefined],
    ['5d', undefined],
    [-1, undefined],
  ];
  for (const [input, want] of cases) {
    test(`${JSON.stringify(input)} → ${want}`, () => assert.equal(parseDurationMs(input), want));
  }
});

describe('formatting back (what `ozy render` prints) round-trips', () => {
  test('sizes', () => {
    assert.equal(formatSize(512 * MiB), '512M');
    assert.equal(formatSize(2 * GiB), '2G');
    assert.equal(formatSize(1536 * MiB), '1536M');
    assert.equal(formatSize(1000), 1000);
    for (const n of [1, 1000, 4 * MiB, 1536 * MiB, 3 * TiB, 123456789]) assert.equal(parseSize(formatSize(n)), n);
  });
  test('cpu', () => {
    assert.equal(formatCpu(250), '250m');
    assert.equal(formatCpu(2000), '2');
    for (const n of [1, 100, 1500, 4000]) assert.equal(parseCpu(formatCpu(n)), n);
  });
  test('durations', () => {
    assert.equal(formatDuration(500), '500ms');
    assert.equal(formatDuration(5000), '5s');
    assert.equal(formatDuration(60_000), '1m');
    assert.equal(formatDuration(90_000), '90s');
    for (const n of [10, 1500, 60_000, 3_600_000, 7_200_000]) assert.equal(parseDurationMs(formatDuration(n)), n);
  });
  test('describeSize for messages', () => {
    assert.equal(describeSize(4 * MiB), '4Mi');
    assert.equal(describeSize(1.5 * GiB), '1.5Gi');
    assert.equal(describeSize(10), '10 bytes');
  });
});
