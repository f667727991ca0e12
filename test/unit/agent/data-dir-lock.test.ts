import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DataDirLockedError, lockDataDir } from '../../../src/agent/data-dir-lock';
import { tempDir } from '../../harness/tmp';

test('one live agent per data dir; a stale pid file is taken over; release frees it', () => {
  const t = tempDir();
  try {
    const release = lockDataDir(t.dir, process.pid);
    // Another pid while ours is alive: refused.
    assert.throws(() => lockDataDir(t.dir, process.pid + 1), DataDirLockedError);
    release();
    assert.equal(fs.existsSync(path.join(t.dir, 'agent.pid')), false);
    // A pid file left by a dead process (pid 2^22 + 1 is above Linux's pid_max default of 2^22).
    fs.writeFileSync(path.join(t.dir, 'agent.pid'), String(4194305));
    const again = lockDataDir(t.dir, process.pid);
    assert.equal(fs.readFileSync(path.join(t.dir, 'agent.pid'), 'utf8'), String(process.pid));
    again();
  } finally {
    t.cleanup();
  }
});
