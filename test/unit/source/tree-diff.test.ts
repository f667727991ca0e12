import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { diffTrees, isUnder, splitPrevious, type TreeEntry, type TreeReader } from '../../../src/source/tree-diff';

/** Content-addressed trees built from path → content maps; counts the trees opened. */
class Trees implements TreeReader {
  private readonly trees = new Map<string, TreeEntry[]>();
  opened: string[] = [];

  async readTree(oid: string): Promise<TreeEntry[]> {
    const t = this.trees.get(oid);
    if (!t) throw new Error(`no tree ${oid}`);
    this.opened.push(oid);
    return t;
  }

  /** Builds the tree of `files` (content 'LINK:' makes a symlink, 'SUBMODULE' a submodule) and returns its oid. */
  build(files: Record<string, string>): string {
    const dirs = new Map<string, Record<string, string>>();
    const entries: TreeEntry[] = [];
    for (const [p, content] of Object.entries(files)) {
      const slash = p.indexOf('/');
      if (slash < 0) {
        const mode = content.startsWith('LINK:') ? '120000' : content === 'SUBMODULE' ? '160000' : '100644';
        entries.push({ path: p, oid: sha(content), mode, type: mode === '160000' ? 'commit' : 'blob' });
      } else {
        const dir = p.slice(0, slash);
        const sub = dirs.get(dir) ?? {};
        sub[p.slice(slash + 1)] = content;
        dirs.set(dir, sub);
      }
    }
    for (const [dir, sub] of dirs) entries.push({ path: dir, oid: this.build(sub), mode: '040000', type: 'tree' });
    entries.sort((a, b) => (a.path < b.path ? -1 : 1));
    const oid = sha(JSON.stringify(entries));
    this.trees.set(oid, entries);
    return oid;
  }
}

const sha = (s: string): string => createHash('sha1').update(s).digest('hex');
const all = (): boolean => true;

function repo(teams: number, perTeam: number): Record<string, string> {
  const files: Record<string, string> = { 'README.md': 'docs' };
  for (let t = 0; t < teams; t++) for (let i = 0; i < perTeam; i++) files[`jobs/team-${t}/job-${i}.yaml`] = `name: job-${i}`;
  return files;
}

describe('tree diff', () => {
  test('a one-file change opens only the trees on its path, two of each', async () => {
    const trees = new Trees();
    const files = repo(50, 100);
    const before = trees.build(files);
    const after = trees.build({ ...files, 'jobs/team-7/job-3.yaml': 'name: job-3\nnumInstances: 2' });
    trees.opened = [];
    const d = await diffTrees(trees, before, after, all);
    assert.deepEqual(d.changedBlobs.map((b) => b.path), ['jobs/team-7/job-3.yaml']);
    // root, jobs/, jobs/team-7/ in both commits: not the 49 other team directories.
    assert.equal(trees.opened.length, 6);
    assert.equal(d.unchangedDirs.length, 49);
    assert.ok(d.unchangedDirs.includes('jobs/team-0'));
    assert.equal(d.sameBlobs.length, 99 + 1, 'the changed directory\'s other files and README.md');
  });

  test('the same root tree opens nothing', async () => {
    const trees = new Trees();
    const root = trees.build(repo(3, 3));
    trees.opened = [];
    const d = await diffTrees(trees, root, root, all);
    assert.deepEqual(d, { unchangedDirs: ['.'], sameBlobs: [], changedBlobs: [] });
    assert.equal(trees.opened.length, 0);
  });

  test('without a previous tree every accepted blob is changed; the filter and submodules leave paths out', async () => {
    const trees = new Trees();
    const root = trees.build({ 'README.md': 'x', 'jobs/a.yaml': 'a', 'jobs/b/c.yaml': 'c', 'jobs/lib': 'SUBMODULE', 'jobs/l.yaml': 'LINK:/etc/passwd' });
    const d = await diffTrees(trees, undefined, root, (p) => p.startsWith('jobs/'));
    assert.deepEqual(d.changedBlobs.map((b) => [b.path, b.mode]).sort(), [
      ['jobs/a.yaml', '100644'],
      ['jobs/b/c.yaml', '100644'],
      ['jobs/l.yaml', '120000'],
    ]);
    assert.deepEqual(d.unchangedDirs, []);
  });

  test('a directory replaced by a file and a file by a directory: both sides are new', async () => {
    const trees = new Trees();
    const before = trees.build({ 'jobs/x/a.yaml': 'a', 'jobs/y.yaml': 'y' });
    const after = trees.build({ 'jobs/x': 'now a file', 'jobs/y.yaml/b.yaml': 'b' });
    const d = await diffTrees(trees, before, after, all);
    assert.deepEqual(d.changedBlobs.map((b) => b.path).sort(), ['jobs/x', 'jobs/y.yaml/b.yaml']);
    assert.deepEqual(d.sameBlobs, []);
  });

  test('isUnder matches directories on segment boundaries', () => {
    assert.equal(isUnder('jobs/team-1/a.yaml', new Set(['jobs/team-1'])), true);
    assert.equal(isUnder('jobs/team-10/a.yaml', new Set(['jobs/team-1'])), false);
    assert.equal(isUnder('anything', new Set(['.'])), true);
  });

  test('splitPrevious keeps the files under unchanged directories in order and hands back the others by path', () => {
    const files = ['jobs/a.yaml', 'jobs/team-1/a.yaml', 'jobs/team-1/b.yaml', 'jobs/team-1/sub/c.yaml', 'jobs/team-10/a.yaml', 'jobs/team-2/x.yaml', 'ozy.yaml'].map((path) => ({ path }));
    const split = splitPrevious(files, new Set(['jobs/team-1', 'jobs/team-2']))!;
    assert.deepEqual(split.kept.map((f) => f.path), ['jobs/team-1/a.yaml', 'jobs/team-1/b.yaml', 'jobs/team-1/sub/c.yaml', 'jobs/team-2/x.yaml']);
    assert.deepEqual([...split.others.keys()], ['jobs/a.yaml', 'jobs/team-10/a.yaml', 'ozy.yaml']);
    assert.deepEqual(splitPrevious(files, new Set(['.']))!.kept, files);
    // Each file lands where isUnder puts it, whatever the directory runs.
    for (const dirs of [new Set<string>(), new Set(['jobs']), new Set(['jobs/team-1/sub'])]) {
      const s = splitPrevious(files, dirs)!;
      assert.deepEqual(s.kept.map((f) => f.path), files.filter((f) => isUnder(f.path, dirs)).map((f) => f.path));
    }
    assert.equal(splitPrevious([{ path: 'b' }, { path: 'a' }], new Set()), undefined, 'not sorted: the caller does it the long way');
  });
});
