import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { stopOptionsOf, stopTimeoutSec, stopWaves } from '../../../src/runtime/pod-stop';

/** A listed container: its name label, owner label and creation time. */
function c(name: string, owner = false, createdAt = '2026-01-01T00:00:01Z') {
  return { name, labels: { 'ozy.container': name, 'ozy.owner': String(owner) }, createdAt };
}
const names = (waves: Array<Array<{ name: string }>>): string[][] => waves.map((w) => w.map((x) => x.name));

describe('stopWaves', () => {
  test('reverse depends_on: what nothing running depends on goes first, together; the owner last', () => {
    // db (owner) ← api ← web; metrics depends on nothing; cache ← api.
    const deps = new Map([
      ['db', []],
      ['cache', []],
      ['api', ['db', 'cache']],
      ['web', ['api']],
      ['metrics', []],
    ]);
    const waves = stopWaves([c('db', true), c('cache'), c('api'), c('web'), c('metrics')], deps);
    assert.deepEqual(names(waves).map((w) => [...w].sort()), [['metrics', 'web'], ['api'], ['cache'], ['db']]);
  });

  test('a two-container pod with no order between them: the sidecar, then the owner', () => {
    const waves = stopWaves([c('main', true), c('side')], new Map([['main', []], ['side', []]]));
    assert.deepEqual(names(waves), [['side'], ['main']]);
  });

  test('the owner is last even when something depends on a non-owner that depends on nothing', () => {
    const waves = stopWaves([c('o', true), c('a'), c('b')], new Map([['o', []], ['a', ['b']], ['b', []]]));
    assert.deepEqual(names(waves), [['a'], ['b'], ['o']]);
  });

  test('a dependant not in the list (already stopped) holds nothing back', () => {
    // web depends on api, but web is not running: api stops in the first wave.
    const waves = stopWaves([c('db', true), c('api')], new Map([['web', ['api']], ['api', ['db']], ['db', []]]));
    assert.deepEqual(names(waves), [['api'], ['db']]);
  });

  test('without depends_on (an orphan found by label): every other container in one wave, newest first, then the owner', () => {
    const waves = stopWaves([c('o', true, '2026-01-01T00:00:01Z'), c('a', false, '2026-01-01T00:00:02.25Z'), c('b', false, '2026-01-01T00:00:02.5Z')]);
    assert.deepEqual(names(waves), [['b', 'a'], ['o']]);
  });

  test('a cycle (refused by the schema) does not loop: what is left stops in one wave', () => {
    const waves = stopWaves([c('o', true), c('a'), c('b')], new Map([['a', ['b']], ['b', ['a']]]));
    assert.deepEqual(names(waves).map((w) => [...w].sort()), [['a', 'b'], ['o']]);
  });

  test('only the owner, or nothing', () => {
    assert.deepEqual(names(stopWaves([c('o', true)], new Map())), [['o']]);
    assert.deepEqual(stopWaves([], new Map()), []);
  });
});

describe('stopTimeoutSec: what is left of the pod\'s one deadline', () => {
  test('the whole grace at the start, rounded up to whole seconds', () => {
    assert.equal(stopTimeoutSec(2000, 0), 2);
    assert.equal(stopTimeoutSec(2500, 0), 3);
    assert.equal(stopTimeoutSec(2000, 1), 2, 'never less than what is left');
  });

  test('a later wave gets only the rest; past the deadline 0 (SIGKILL at once), never negative', () => {
    assert.equal(stopTimeoutSec(10_000, 7_200), 3);
    assert.equal(stopTimeoutSec(2000, 2000), 0);
    assert.equal(stopTimeoutSec(2000, 2050), 0);
    assert.equal(stopTimeoutSec(2000, 60_000), 0);
  });
});

test('stopOptionsOf: the job\'s stopGrace (default 10 s) and each container\'s depends_on', () => {
  const containers = [
    { name: 'db', dependsOn: [] },
    { name: 'app', dependsOn: ['db'] },
  ];
  const opts = stopOptionsOf({ containers, stopGraceMs: 2000 });
  assert.equal(opts.graceMs, 2000);
  assert.deepEqual([...opts.dependsOn], [['db', []], ['app', ['db']]]);
  assert.equal(stopOptionsOf({ containers }).graceMs, 10_000);
});
