// What a supervisor's next round looks at (src/agent/instance-news.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InstanceNews } from '../../../src/agent/instance-news';
import type { EngineEvent, InspectedContainer } from '../../../src/runtime';

const ev = (action: EngineEvent['action']): EngineEvent => ({ action, rawAction: action, id: 'c1', labels: {}, timeNano: 0n });
const listing = [{ id: 'c1' } as InspectedContainer];

describe('InstanceNews', () => {
  test('nothing heard: nothing to look at (an idle instance asks the engine nothing)', () => {
    const n = new InstanceNews(false);
    assert.equal(n.take(), undefined);
    assert.equal(n.heard(ev('other')), false, 'init, cleanup... are not news');
    assert.equal(n.heard(ev('create')), false);
    assert.equal(n.take(), undefined);
  });

  test('adopted containers, a die / kill / start / OOM event: ask the engine once', () => {
    assert.deepEqual(new InstanceNews(true).take(), { kind: 'ask' });
    for (const a of ['die', 'kill', 'start', 'oom', 'stop', 'destroy'] as const) {
      const n = new InstanceNews(false);
      assert.equal(n.heard(ev(a)), true, a);
      assert.equal(n.pending, true);
      assert.deepEqual(n.take(), { kind: 'ask' });
      assert.equal(n.take(), undefined, 'once');
    }
  });

  test('a resync listing is used as is, unless a (re)start began or ended since it was taken', () => {
    const n = new InstanceNews(false);
    n.offered(listing, n.generation);
    assert.deepEqual(n.take(), { kind: 'listing', found: listing });
    const before = n.generation;
    n.bump();
    n.offered(listing, before);
    assert.deepEqual(n.take(), { kind: 'ask' }, 'a listing across a restart is not trusted');
  });

  test('an event beats a listing; a failed look is asked again', () => {
    const n = new InstanceNews(false);
    n.offered(listing, n.generation);
    n.heard(ev('die'));
    assert.deepEqual(n.take(), { kind: 'ask' });
    assert.equal(n.take(), undefined, 'the listing was older than the event: dropped');
    n.lookAgain();
    assert.deepEqual(n.take(), { kind: 'ask' });
  });
});
