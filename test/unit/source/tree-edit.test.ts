import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { GitSourceError } from '../../../src/source/errors';
import { applyEdit, planDirectoryUpdate, type TreeEntry, type TreeStore } from '../../../src/source/tree-edit';

/** An in-memory object store: oids are hashes of the content, like git's. */
class MemoryStore implements TreeStore {
  trees = new Map<string, TreeEntry[]>();
  blobs = new Map<string, string>();
  writes = 0;
  async readTree(oid: string): Promise<TreeEntry[]> {
    const t = this.trees.get(oid);
    if (!t) throw new Error(`no tree ${oid}`);
    return t.map((e) => ({ ...e }));
  }
  async writeTree(entries: TreeEntry[]): Promise<string> {
    this.writes++;
    const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : 1));
    const oid = createHash('sha1').update(JSON.stringify(sorted)).digest('hex');
    this.trees.set(oid, sorted);
    return oid;
  }
  async writeBlob(content: Uint8Array): Promise<string> {
    const oid = createHash('sha1').update(content).digest('hex');
    this.blobs.set(oid, Buffer.from(content).toString('utf8'));
    return oid;
  }
  /** path → content of every file under the tree. */
  async flatten(oid: string | null, prefix = ''): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    if (!oid) return out;
    for (const e of await this.readTree(oid)) {
      if (e.type === 'tree') Object.assign(out, await this.flatten(e.oid, `${prefix}${e.path}/`));
      else out[`${prefix}${e.path}`] = this.blobs.get(e.oid) ?? `<${e.mode}>`;
    }
    return out;
  }
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Builds a tree holding `files`, one directory update per file (root-level files written directly). */
async function treeOf(store: MemoryStore, files: Record<string, string>): Promise<string> {
  let root: string | null = null;
  for (const [p, c] of Object.entries(files)) {
    const slash = p.lastIndexOf('/');
    if (slash < 0) {
      const entries: TreeEntry[] = root ? await store.readTree(root) : [];
      entries.push({ mode: '100644', path: p, oid: await store.writeBlob(bytes(c)), type: 'blob' });
      root = await store.writeTree(entries);
    } else {
      const update = planDirectoryUpdate({ dir: p.slice(0, slash), files: new Map([[p.slice(slash + 1), bytes(c)]]), prune: false });
      root = await applyEdit(store, root, update);
    }
  }
  return root!;
}

describe('tree edit', () => {
  test('puts, replaces and deletes files under the reports dir only', async () => {
    const store = new MemoryStore();
    const base = await treeOf(store, { 'jobs/web.yaml': 'web', 'rejections/old.json': 'old', 'README.md': 'hi' });
    const edit = planDirectoryUpdate({
      dir: 'rejections',
      files: new Map<string, Uint8Array | null>([['old.json', null], ['web.json', bytes('{"a":1}')], ['sub/x.json', bytes('x')]]),
      prune: false,
    });
    const next = await applyEdit(store, base, edit);
    assert.deepEqual(await store.flatten(next), {
      'README.md': 'hi',
      'jobs/web.yaml': 'web',
      'rejections/sub/x.json': 'x',
      'rejections/web.json': '{"a":1}',
    });
    const jobsBefore = (await store.readTree(base)).find((e) => e.path === 'jobs')!.oid;
    const jobsAfter = (await store.readTree(next!)).find((e) => e.path === 'jobs')!.oid;
    assert.equal(jobsAfter, jobsBefore, 'untouched subtrees keep their oid');
  });

  test('an edit that changes nothing returns the same tree without writing trees', async () => {
    const store = new MemoryStore();
    const base = await treeOf(store, { 'jobs/web.yaml': 'web', 'rejections/web.json': 'same' });
    store.writes = 0;
    const edit = planDirectoryUpdate({
      dir: 'rejections',
      files: new Map<string, Uint8Array | null>([['web.json', bytes('same')], ['never-existed.json', null]]),
      prune: false,
    });
    assert.equal(await applyEdit(store, base, edit), base);
    assert.equal(store.writes, 0);
  });

  test('prune replaces the whole directory; an emptied directory disappears', async () => {
    const store = new MemoryStore();
    const base = await treeOf(store, { 'jobs/a.yaml': 'a', 'ozy/rejections/a.json': 'a', 'ozy/rejections/b.json': 'b' });
    const kept = await applyEdit(store, base, planDirectoryUpdate({ dir: 'ozy/rejections', files: new Map([['b.json', bytes('b')]]), prune: true }));
    assert.deepEqual(Object.keys(await store.flatten(kept)), ['jobs/a.yaml', 'ozy/rejections/b.json']);
    const emptied = await applyEdit(store, kept, planDirectoryUpdate({ dir: 'ozy/rejections', files: new Map(), prune: true }));
    assert.deepEqual(await store.flatten(emptied), { 'jobs/a.yaml': 'a' });
    assert.ok(!(await store.readTree(emptied!)).some((e) => e.path === 'ozy'), 'no empty trees are left behind');
  });

  test('starting from no tree builds one; deleting everything yields null', async () => {
    const store = new MemoryStore();
    const created = await applyEdit(store, null, planDirectoryUpdate({ dir: 'r', files: new Map([['a.json', bytes('1')]]), prune: false }));
    assert.deepEqual(await store.flatten(created), { 'r/a.json': '1' });
    assert.equal(await applyEdit(store, created, planDirectoryUpdate({ dir: 'r', files: new Map([['a.json', null]]), prune: false })), null);
    assert.equal(await applyEdit(store, null, planDirectoryUpdate({ dir: 'r', files: new Map([['a.json', null]]), prune: false })), null);
  });

  test('unsafe or conflicting paths are refused', () => {
    const plan = (dir: string, file: string) => () => planDirectoryUpdate({ dir, files: new Map([[file, bytes('x')]]), prune: false });
    for (const [dir, file] of [['rejections', '../x'], ['rejections', 'a//b'], ['..', 'x'], ['rejections', '.GIT/hooks/x'], ['/abs', 'x'], ['', 'x']]) {
      assert.throws(plan(dir!, file!), (e: unknown) => e instanceof GitSourceError && e.code === 'GIT_INVALID_PATH', `${dir} ${file}`);
    }
    assert.throws(() =>
      planDirectoryUpdate({ dir: 'r', files: new Map([['a', bytes('1')], ['a/b', bytes('2')]]), prune: false }),
    );
    assert.throws(() =>
      planDirectoryUpdate({ dir: 'r', files: new Map([['a/b', bytes('2')], ['a', bytes('1')]]), prune: false }),
    );
  });
});
