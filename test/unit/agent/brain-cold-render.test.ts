// A cold render (a new poller judging the whole repository) yields to the
// event loop between slices: the poll claim's keepalive runs on the same
// loop, and a multi-second synchronous render cost new pollers their claim
// (found by the scale simulation). Fakes for git and the store.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { Brain } from '../../../src/agent/brain';
import type { GitPort, SourceFile, Snapshot, StorePort } from '../../../src/agent/ports';

function jobFile(name: string): SourceFile {
  const yaml = `name: ${name}\nnumInstances: 1\ncontainers:\n  app:\n    image: localhost/ozy-busybox:1\n    memory: 64M\n`;
  return { path: `jobs/${name}.yaml`, content: yaml };
}

describe('brain: cold render', () => {
  test('judging 2,000 new files lets timers run in between, and judges every file', async () => {
    const files = Array.from({ length: 2000 }, (_, i) => jobFile(`j${i}`));
    const git: GitPort = {
      sync: async () => ({ head: 'a'.repeat(40) }),
      readFiles: async () => ({ files, changed: files.map((f) => f.path) }),
      syncReports: async () => null,
      isAncestor: async () => true,
    };
    const empty: Snapshot = { revision: 1, scheduleRevision: 0, reportsRevision: 0, nodes: [], jobs: new Map(), rejections: new Map() };
    let committed = 0;
    const store: StorePort = {
      snapshot: async () => empty,
      commitSchedule: async (_guard, writes) => {
        committed = writes.putJobs.length + writes.putRejections.length;
        return { ok: true, revision: 2 };
      },
      markReportsPushed: async () => undefined,
    };
    const brain = new Brain(git, store, { node: 'n1', reportBranch: 'main', reportsDir: 'rejections', staleCommitMs: 10_000, log: pino({ level: 'silent' }) });
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    try {
      await brain.tick();
    } finally {
      clearInterval(timer);
    }
    assert.ok(turns >= 4, `timers ran ${turns} times during the cold render (2,000 files in slices of 250)`);
    // No live node: every job is rejected (no-nodes), one rejection each: all 2,000 were judged.
    assert.equal(committed, 2000);
  });
});
