import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergeChanges, sseComment, sseFrame } from '../../../src/dashboard/sse';

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
