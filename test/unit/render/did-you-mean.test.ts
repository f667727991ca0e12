import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closestName, editDistance } from '../../../src/render/did-you-mean';

const FIELDS = ['image', 'command', 'environment', 'memory', 'cpu', 'ports', 'healthcheck', 'restart', 'depends_on', 'volumes'];

describe('did you mean', () => {
  test('edit distance counts a transposition as one edit', () => {
    assert.deepEqual([editDistance('command', 'comamnd'), editDistance('memory', 'memroy'), editDistance('abc', 'abc'), editDistance('', 'ab')], [1, 1, 0, 2]);
  });
  test('typos, case and separators, other systems\' words', () => {
    assert.equal(closestName('comand', FIELDS), 'command');
    assert.equal(closestName('Environment', FIELDS), 'environment');
    assert.equal(closestName('dependsOn', FIELDS), 'depends_on');
    assert.equal(closestName('health-check', FIELDS), 'healthcheck');
    assert.equal(closestName('env', FIELDS), 'environment');
    assert.equal(closestName('entrypoint', FIELDS), 'command');
  });
  test('nothing close: no suggestion', () => {
    assert.equal(closestName('privileged', FIELDS), undefined);
    assert.equal(closestName('cap_add', FIELDS), undefined);
    assert.equal(closestName('x'.repeat(100), FIELDS), undefined);
    assert.equal(closestName('replicas', FIELDS), undefined, 'an alias whose target is not allowed here suggests nothing');
  });
});
