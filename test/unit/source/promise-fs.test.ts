import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { promiseFs } from '../../../src/source/promise-fs';

describe('promise fs for isomorphic-git', () => {
  test("isomorphic-git's no-argument readFile probe settles without node:fs building an error", async () => {
    const { promises } = promiseFs();
    const read = promises.readFile as (...a: unknown[]) => Promise<unknown>;
    assert.equal(await read(), undefined);
    // node:fs itself rejects the same call (the cost the adapter avoids).
    await assert.rejects((fs.promises.readFile as (...a: unknown[]) => Promise<unknown>)(), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  test('real calls reach node:fs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ozy-pfs-'));
    try {
      const { promises } = promiseFs();
      await (promises.writeFile as typeof fs.promises.writeFile)(path.join(dir, 'a'), 'x');
      assert.equal(await (promises.readFile as typeof fs.promises.readFile)(path.join(dir, 'a'), 'utf8'), 'x');
      await assert.rejects((promises.readFile as typeof fs.promises.readFile)(path.join(dir, 'missing')), { code: 'ENOENT' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
