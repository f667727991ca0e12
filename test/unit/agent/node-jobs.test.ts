// NodeJobs on a fake driver: a node keeps only the jobs with an instance on
// it, and only changes of those wake its node loop.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { NodeJobs } from '../../../src/agent/node-jobs';
import { ClusterStore } from '../../../src/store';
import type { StoredKv, WatchCallbacks } from '../../../src/store/driver';
import { job } from '../../integration/store/fixtures';
import { fakeDriver, settle } from '../store/fakes';

function kv(key: string, value: unknown, rev: number): StoredKv {
  return { key, value: Buffer.from(value === undefined ? '' : JSON.stringify(value)), createRevision: rev, modRevision: rev, version: 1, lease: '0' };
}

describe('NodeJobs', () => {
  test('keeps only its own jobs and wakes only for changes of them', async () => {
    let watch: WatchCallbacks | undefined;
    let watchedFrom = 0;
    const driver = fakeDriver({
      // The listing: one job here (n1), one elsewhere.
      txn: async () => ({
        succeeded: true,
        revision: 10,
        results: [[], [kv('/ozy/jobs/mine', job('mine', ['n1', 'n2']), 5), kv('/ozy/jobs/other', job('other', ['n2']), 6)], [], [], []],
      }),
      watch: (key, opts, cb) => {
        // The job watch (NodeJobs also watches run states).
        if (key === '/ozy/jobs/') {
          watch = cb;
          watchedFrom = opts.fromRevision;
        }
        queueMicrotask(() => cb.onConnected(10));
        return { cancel: async () => undefined };
      },
    });
    const store = ClusterStore.connect({ endpoints: [], driver });
    let wakes = 0;
    const seen: string[] = [];
    const jobs = new NodeJobs(store, 'n1', pino({ level: 'silent' }), (before, after) => {
      wakes++;
      seen.push(`${before?.instances.map((p) => p.node).join('+') ?? '-'} → ${after?.instances.map((p) => p.node).join('+') ?? '-'}`);
    });
    await jobs.start();
    assert.equal(watchedFrom, 11, 'the watch starts right after the listing');
    assert.deepEqual([...jobs.values()].map((j) => j.spec.name), ['mine']);

    // A job elsewhere changes: nothing kept, nobody woken.
    watch!.onEvents([{ type: 'put', kv: kv('/ozy/jobs/other', job('other', ['n3']), 11) }], 11);
    await settle();
    assert.equal(wakes, 0);
    assert.equal(jobs.size, 1);

    // A job moves onto this node: kept, woken.
    watch!.onEvents([{ type: 'put', kv: kv('/ozy/jobs/other', job('other', ['n1']), 12) }], 12);
    await settle();
    assert.equal(wakes, 1);
    assert.deepEqual([...jobs.values()].map((j) => j.spec.name).sort(), ['mine', 'other']);

    // One of ours leaves this node, another is deleted: dropped, woken each time.
    watch!.onEvents([{ type: 'put', kv: kv('/ozy/jobs/mine', job('mine', ['n2', 'n3']), 13) }], 13);
    watch!.onEvents([{ type: 'delete', kv: kv('/ozy/jobs/other', undefined, 14) }], 14);
    await settle();
    assert.equal(wakes, 3);
    assert.equal(jobs.size, 0);
    assert.deepEqual(seen, ['- → n1', 'n1+n2 → -', 'n1 → -'], 'each wake says what the view held before and after');

    // A change older than the listing is ignored.
    watch!.onEvents([{ type: 'put', kv: kv('/ozy/jobs/old', job('old', ['n1']), 9) }], 9);
    await settle();
    assert.equal(jobs.size, 0);
    await jobs.stop();
  });
});
