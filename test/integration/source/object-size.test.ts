// ObjectSizes (source/object-size.ts) against repositories the real git CLI
// wrote: loose objects, packs with offset deltas and with reference deltas.
// Every object's size must equal `git cat-file -s`.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ObjectSizes } from '../../../src/source/object-size';
import { isolatedGitEnv } from '../../harness/git-server';
import { tempDir } from '../../harness/tmp';

const tmp = tempDir('ozy-object-size-');
after(() => tmp.cleanup());

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, env: { ...isolatedGitEnv(tmp.dir), GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' }, maxBuffer: 64 << 20 }).toString();
}

/** A repository whose big files change a little per commit (so packs hold deltas of them). */
function makeRepo(name: string): string {
  const dir = path.join(tmp.dir, name);
  fs.mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  const big = randomBytes(3 << 20);
  for (let i = 0; i < 3; i++) {
    big.write(`version ${i}`, 1000);
    fs.writeFileSync(path.join(dir, 'jobs/big.bin'), big);
    fs.writeFileSync(path.join(dir, 'jobs/zeros.bin'), Buffer.alloc((2 << 20) + i));
    fs.writeFileSync(path.join(dir, 'jobs/web.yaml'), `name: web\nnumInstances: ${i}\n`);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', `c${i}`);
  }
  return dir;
}

function allObjects(dir: string): string[] {
  return git(dir, 'rev-list', '--objects', '--all').split('\n').filter(Boolean).map((l) => l.split(' ')[0]!);
}

async function assertSizes(dir: string): Promise<void> {
  const sizes = new ObjectSizes(path.join(dir, '.git'));
  const oids = allObjects(dir);
  assert.ok(oids.length >= 12);
  for (const oid of oids) {
    assert.equal(await sizes.sizeOf(oid), Number(git(dir, 'cat-file', '-s', oid).trim()), oid);
  }
  assert.equal(await sizes.sizeOf('0'.repeat(40)), undefined, 'a missing object has no size');
}

/** Pack entries stored as deltas (verify-pack lists a depth and a base for them). */
function deltaCount(dir: string): number {
  const idx = fs.readdirSync(path.join(dir, '.git/objects/pack')).filter((n) => n.endsWith('.idx'));
  return idx
    .flatMap((n) => git(dir, 'verify-pack', '-v', path.join('.git/objects/pack', n)).split('\n'))
    .filter((l) => /^[0-9a-f]{40} blob\s+\d+ \d+ \d+ \d+ [0-9a-f]{40}$/.test(l)).length;
}

describe('object sizes without inflating', () => {
  test('loose objects', async () => {
    const dir = makeRepo('loose');
    assert.equal(fs.readdirSync(path.join(dir, '.git/objects/pack')).length, 0);
    await assertSizes(dir);
  });

  test('a pack with offset deltas: the size is the delta’s result, not the delta', async () => {
    const dir = makeRepo('ofs');
    git(dir, 'repack', '-a', '-d', '-f', '-q', '--window=10', '--depth=10');
    assert.ok(deltaCount(dir) >= 2, 'the big blobs are stored as deltas');
    await assertSizes(dir);
  });

  test('a pack with reference deltas, plus loose objects written after it', async () => {
    const dir = makeRepo('ref');
    git(dir, '-c', 'repack.useDeltaBaseOffset=false', 'repack', '-a', '-d', '-f', '-q', '--window=10', '--depth=10');
    assert.ok(deltaCount(dir) >= 2);
    fs.writeFileSync(path.join(dir, 'jobs/after.yaml'), 'name: after\n');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'after');
    await assertSizes(dir);
  });
});
