// Parsing the engine's event stream (src/runtime/events.ts), on lines
// recorded from podman 4.3.1's compatible service and dockerd's shape.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventLineBuffer, parseEngineEvent } from '../../../src/runtime/events';

const ID = '6de247f15dbf65fbb0ae8cd6dc466b833c65e35348a970cc18dc76eb99145e63';
const podman = (action: string, attrs: Record<string, string> = {}): string =>
  JSON.stringify({
    status: action,
    id: ID,
    from: 'localhost/ozy-busybox:1',
    Type: 'container',
    Action: action,
    Actor: { ID, Attributes: { containerExitCode: '0', image: 'localhost/ozy-busybox:1', name: 'c', 'ozy.instance': 'i-0', 'ozy.node': 'n1', podId: '', ...attrs } },
    scope: 'local',
    time: 1795999102,
    timeNano: 1795999102405938965,
  });

describe('parseEngineEvent', () => {
  test("podman's die carries the exit code and the container's labels", () => {
    const ev = parseEngineEvent(podman('die', { containerExitCode: '137', exitCode: '137' }));
    assert.equal(ev?.action, 'die');
    assert.equal(ev?.id, ID);
    assert.equal(ev?.exitCode, 137);
    assert.equal(ev?.labels['ozy.instance'], 'i-0');
    assert.equal(ev?.labels['ozy.node'], 'n1');
  });

  test("podman's names map onto ours: remove is destroy; init and cleanup are other", () => {
    assert.deepEqual(['create', 'init', 'start', 'kill', 'die', 'cleanup', 'remove'].map((a) => parseEngineEvent(podman(a))?.action), [
      'create',
      'other',
      'start',
      'kill',
      'die',
      'other',
      'destroy',
    ]);
  });

  test("dockerd's oom and suffixed actions", () => {
    const docker = (action: string) => JSON.stringify({ Type: 'container', Action: action, Actor: { ID, Attributes: { 'ozy.node': 'n1' } }, time: 1 });
    assert.equal(parseEngineEvent(docker('oom'))?.action, 'oom');
    assert.equal(parseEngineEvent(docker('health_status: healthy'))?.action, 'other');
    assert.equal(parseEngineEvent(docker('exec_start: /bin/true'))?.rawAction, 'exec_start: /bin/true');
  });

  test('not a container event, or not JSON: skipped', () => {
    assert.equal(parseEngineEvent(JSON.stringify({ Type: 'image', Action: 'pull', Actor: { ID: 'x' } })), undefined);
    assert.equal(parseEngineEvent('{"Type":"container"}'), undefined);
    assert.equal(parseEngineEvent('not json'), undefined);
  });
});

describe('EventLineBuffer', () => {
  test('an event split across chunks comes out whole, once', () => {
    const line = podman('start');
    const b = new EventLineBuffer();
    assert.deepEqual(b.push(line.slice(0, 10)), []);
    assert.deepEqual(b.push(`${line.slice(10)}\n${line.slice(0, 5)}`), [line]);
    assert.deepEqual(b.push(`${line.slice(5)}\n`), [line]);
  });
});
