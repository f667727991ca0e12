// PrefixWatch's recovery logic on a fake driver: a cancelled watch re-lists
// through onReset (retrying when the re-list fails) and resumes after it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WatchCallbacks } from '../../../src/store/driver';
import { decodeAcceptedJob } from '../../../src/store/codec';
import { CorruptValueError } from '../../../src/store';
import { PrefixWatch, type WatchChange } from '../../../src/store/watch';
import type { AcceptedJob } from '../../../src/model/cluster';
import { job } from '../../integration/store/fixtures';
import { fakeDriver } from './fakes';

function kv(key: string, value: string, rev: number) {
  return { key, value: Buffer.from(value), createRevision: rev, modRevision: rev, version: 1, lease: '0' };
}

describe('PrefixWatch', () => {
  test('after a cancellation it re-lists, retrying a failed re-list, then resumes after the listing', async () => {
    const opened: { from: number; cb: WatchCallbacks }[] = [];
    const driver = fakeDriver({
      watch: (_key, opts, cb) => {
        opened.push({ from: opts.fromRevision, cb });
        queueMicrotask(() => cb.onConnected(100));
        return { cancel: async () => undefined };
      },
      currentRevision: async () => 150,
    });
    let resets = 0;
    const errors: Error[] = [];
    const changes: WatchChange<AcceptedJob>[] = [];
    const corrupt: CorruptValueError[] = [];
    const w = new PrefixWatch<AcceptedJob>(
      driver,
      '/ozy/jobs/',
      (name, k) => decodeAcceptedJob(k.value, name),
      {
        onChange: (c) => changes.push(c),
        onReset: async () => {
          if (++resets === 1) throw new Error('etcd unreachable during re-list');
          return 160;
        },
        onError: (e) => errors.push(e),
      },
      (e) => corrupt.push(e),
    );
    await w.start(10);
    assert.equal(opened[0]!.from, 10);

    opened[0]!.cb.onEvents(
      [
        { type: 'put', kv: kv('/ozy/jobs/web', JSON.stringify(job('web', ['a'])), 11) },
        { type: 'put', kv: kv('/ozy/jobs/bad', '{', 12) },
        { type: 'delete', kv: kv('/ozy/jobs/web', '', 13) },
      ],
      13,
    );
    assert.deepEqual(changes.map((c) => [c.type, c.name, c.revision]), [['put', 'web', 11], ['delete', 'web', 13]]);
    assert.deepEqual(corrupt.map((e) => e.key), ['/ozy/jobs/bad']);

    opened[0]!.cb.onCanceled('compacted');
    const deadline = Date.now() + 5_000;
    while (opened.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(resets, 2);
    assert.equal(errors.length, 1);
    assert.equal(opened[1]!.from, 161);
    await w.stop();
  });

  test('without a returned revision it resumes after the revision read before the reset', async () => {
    const opened: number[] = [];
    let cancel: WatchCallbacks | undefined;
    const driver = fakeDriver({
      watch: (_key, opts, cb) => {
        opened.push(opts.fromRevision);
        cancel ??= cb;
        queueMicrotask(() => cb.onConnected(1));
        return { cancel: async () => undefined };
      },
      currentRevision: async () => 77,
    });
    const w = new PrefixWatch<AcceptedJob>(driver, '/ozy/jobs/', (n, k) => decodeAcceptedJob(k.value, n), { onChange: () => undefined, onReset: () => undefined }, () => undefined);
    await w.start(5);
    cancel!.onCanceled('compacted');
    const deadline = Date.now() + 5_000;
    while (opened.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(opened, [5, 78]);
    await w.stop();
  });
});
