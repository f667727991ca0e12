// ExitBatcher: exits reported close together go to etcd in one call of at
// most EXITS_PER_TXN, and each caller learns its own result.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExitBatcher } from '../../../src/agent/exit-batcher';
import type { ExitInput, ExitReport } from '../../../src/store';
import { EXITS_PER_TXN } from '../../../src/store/cron-store';

function exitOf(i: number): ExitInput {
  return { job: `j${i}`, run: `j${i}-1`, ordinal: 0, attempt: 0, node: 'n1', exit: { exitCodes: { app: 0 }, output: {}, finishedAt: 't' } };
}

test('exits within the window share one call; more than a batch are split; each caller gets its own result', async () => {
  const calls: ExitInput[][] = [];
  const store = {
    cron: {
      reportExits: async (inputs: readonly ExitInput[]): Promise<ExitReport[]> => {
        calls.push([...inputs]);
        return inputs.map((x) => (x.job === 'j3' ? { kind: 'stale' } : { kind: 'recorded', settled: { kind: 'active', run: {} as never } }));
      },
    },
  };
  const batcher = new ExitBatcher(store as never, 20);
  const n = EXITS_PER_TXN + 5;
  const results = await Promise.all(Array.from({ length: n }, (_, i) => batcher.report(exitOf(i))));
  assert.deepEqual(
    calls.map((c) => c.length),
    [EXITS_PER_TXN, 5],
  );
  assert.equal(results[3]!.kind, 'stale');
  assert.equal(results.filter((r) => r.kind === 'recorded').length, n - 1);
});

test('a failed call rejects exactly its callers; the next exits go through', async () => {
  let fail = true;
  const store = {
    cron: {
      reportExits: async (inputs: readonly ExitInput[]): Promise<ExitReport[]> => {
        if (fail) {
          fail = false;
          throw new Error('etcd away');
        }
        return inputs.map(() => ({ kind: 'stale' }));
      },
    },
  };
  const batcher = new ExitBatcher(store as never, 5);
  await assert.rejects(batcher.report(exitOf(1)), /etcd away/);
  assert.equal((await batcher.report(exitOf(2))).kind, 'stale');
});
