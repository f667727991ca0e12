import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tarArchive } from '../../../src/runtime/tar';
import { busyboxRootfs, isStaticElf } from '../../../src/runtime/local-image';
import { tempDir } from '../../harness/tmp';

describe('tarArchive', () => {
  test('GNU tar extracts directories, files, modes and symlinks as written', (t) => {
    const tmp = tempDir();
    t.after(tmp.cleanup);
    const tar = tarArchive([
      { type: 'dir', path: 'bin' },
      { type: 'file', path: 'bin/tool', content: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
      { type: 'symlink', path: 'bin/alias', target: 'tool' },
      { type: 'dir', path: 'tmp', mode: 0o1777 },
      { type: 'file', path: `deep/${'d'.repeat(90)}/${'f'.repeat(60)}`, content: 'x'.repeat(1000) },
    ]);
    assert.equal(tar.length % 512, 0);
    fs.writeFileSync(path.join(tmp.dir, 'a.tar'), tar);
    const out = path.join(tmp.dir, 'out');
    fs.mkdirSync(out);
    execFileSync('tar', ['-xf', path.join(tmp.dir, 'a.tar'), '-C', out]);
    assert.equal(fs.readFileSync(path.join(out, 'bin/tool'), 'utf8'), '#!/bin/sh\necho hi\n');
    assert.equal(fs.statSync(path.join(out, 'bin/tool')).mode & 0o777, 0o755);
    assert.equal(fs.readlinkSync(path.join(out, 'bin/alias')), 'tool');
    assert.equal(fs.readFileSync(path.join(out, `deep/${'d'.repeat(90)}/${'f'.repeat(60)}`), 'utf8'), 'x'.repeat(1000));
  });

  test('the same entries give the same bytes (reproducible image)', () => {
    const entries = [{ type: 'file' as const, path: 'a', content: 'x' }];
    assert.deepEqual(tarArchive(entries), tarArchive(entries));
  });

  test('names that do not fit ustar are refused, not truncated', () => {
    assert.throws(() => tarArchive([{ type: 'file', path: 'x'.repeat(300), content: '' }]), /too long/);
  });
});

describe('busybox root filesystem', () => {
  test('has busybox, one symlink per applet, the web root, /tmp and a passwd file', () => {
    const entries = busyboxRootfs(Buffer.from('ELF'), ['sh', 'httpd', '[', 'busybox', '../evil', '', 'sh']);
    const byPath = new Map(entries.map((e) => [e.path, e]));
    assert.deepEqual(byPath.get('bin/sh'), { type: 'symlink', path: 'bin/sh', target: 'busybox' });
    assert.ok(byPath.has('bin/httpd') && byPath.has('bin/['));
    assert.ok(!byPath.has('bin/../evil'), 'applet names are file names only');
    assert.equal(entries.filter((e) => e.path === 'bin/sh').length, 1);
    assert.equal(byPath.get('bin/busybox')?.type, 'file');
    assert.ok(byPath.has('www/index.html') && byPath.has('tmp') && byPath.has('etc/passwd'));
  });

  test('isStaticElf tells busybox-static from a dynamically linked program', () => {
    const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => fs.existsSync(p));
    if (busybox) assert.equal(isStaticElf(fs.readFileSync(busybox)), true);
    assert.equal(isStaticElf(fs.readFileSync(process.execPath)), false, 'node is dynamically linked');
    assert.equal(isStaticElf(Buffer.from('#!/bin/sh\n')), false);
  });
});
