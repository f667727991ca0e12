import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { mergeChanges, SseClient, sseComment, sseFrame } from '../../../src/dashboard/sse';

describe('server-sent event framing', () => {
  test('event, id and data lines, blank line at the end', () => {
    assert.equal(sseFrame('change', '{"a":1}', '7'), 'id: 7\nevent: change\ndata: {"a":1}\n\n');
    assert.equal(sseFrame(null, 'x'), 'data: x\n\n');
  });

  test('a newline in the data cannot end the event or start a field', () => {
    assert.equal(sseFrame('e', 'one\nevent: evil\r\ntwo'), 'event: e\ndata: one\ndata: event: evil\ndata: two\n\n');
    assert.equal(sseFrame('a\nb', 'x'), 'event: ab\ndata: x\n\n');
    assert.equal(sseComment('hb\n\ndata: x'), ': hb  data: x\n\n');
  });

  test('pending changes merge: newest revision, union of sections', () => {
    assert.deepEqual(mergeChanges({ revision: 5, changed: ['jobs'] }, { revision: 7, changed: ['nodes', 'jobs'] }), { revision: 7, changed: ['jobs', 'nodes'] });
  });
});

describe('a slow reader', () => {
  /** A response whose socket buffer is full until drain() is called. */
  function fakeResponse() {
    const written: string[] = [];
    const emitter = new EventEmitter();
    let full = false;
    const res = Object.assign(emitter, {
      destroyed: false,
      write(chunk: string) {
        written.push(chunk);
        return !full;
      },
      end() {
        res.destroyed = true;
      },
    });
    return { res, written, fill: () => (full = true), drain: () => ((full = false), emitter.emit('drain')) };
  }

  test('holds one pending event however many come, merged, and sends it on drain', () => {
    const f = fakeResponse();
    const client = new SseClient(f.res as unknown as ServerResponse);
    f.fill();
    client.send({ revision: 1, changed: ['jobs'] }); // written; the socket reports full
    for (let r = 2; r <= 1000; r++) client.send({ revision: r, changed: [r % 2 ? 'nodes' : 'instances'] });
    client.sendRaw(sseComment('heartbeat')); // dropped while full
    assert.equal(f.written.length, 1);
    assert.equal(client.coalesced, 999);
    f.drain();
    assert.equal(f.written.length, 2);
    assert.equal(f.written[1], sseFrame('change', JSON.stringify({ revision: 1000, changed: ['instances', 'nodes'] })));
    f.drain();
    assert.equal(f.written.length, 2);
  });
});
