// Which blobs of a commit need reading, given the tree of the commit read
// before: a top-down comparison of tree oids. A subtree whose oid did not
// change is not opened at all, so a one-file change in a repository of
// thousands of files opens only the trees on that file's path (root, jobs/,
// its directory: two reads each). isomorphic-git's walk() cannot do this: it
// lists every child directory before its map callback may skip it, which
// read every directory of both commits on every poll.
// Pure over a TreeReader; git-source.ts supplies the reader.

export interface TreeEntry {
  /** The entry's name inside its tree (no '/'). */
  path: string;
  oid: string;
  /** Octal, as git writes it: '040000', '100644', '100755', '120000', '160000'. */
  mode: string;
  type: 'blob' | 'tree' | 'commit';
}

export interface TreeReader {
  readTree(oid: string): Promise<readonly TreeEntry[]>;
}

/** A blob at a repository path. */
export interface BlobAt {
  path: string;
  oid: string;
  mode: string;
}

export interface TreeDiff {
  /** Directories ('.' for the root) whose tree oid is unchanged: everything under them is as before. */
  unchangedDirs: string[];
  /** Accepted blobs whose oid and mode are unchanged, outside unchangedDirs. */
  sameBlobs: BlobAt[];
  /** Accepted blobs that are new or changed: the only ones to read. */
  changedBlobs: BlobAt[];
}

/**
 * Compares the tree `after` with `before` (undefined: everything is new),
 * descending only into subtrees whose oid differs. Blobs whose path
 * `accept` refuses are left out; submodules (type 'commit') are skipped.
 */
export async function diffTrees(
  reader: TreeReader,
  before: string | undefined,
  after: string,
  accept: (path: string) => boolean,
): Promise<TreeDiff> {
  const out: TreeDiff = { unchangedDirs: [], sameBlobs: [], changedBlobs: [] };
  const visit = async (dir: string, beforeOid: string | undefined, afterOid: string): Promise<void> => {
    if (beforeOid === afterOid) {
      out.unchangedDirs.push(dir);
      return;
    }
    const [old, now] = await Promise.all([beforeOid ? reader.readTree(beforeOid) : [], reader.readTree(afterOid)]);
    const oldByName = new Map(old.map((e) => [e.path, e]));
    const subtrees: Array<Promise<void>> = [];
    for (const e of now) {
      const p = dir === '.' ? e.path : `${dir}/${e.path}`;
      const prev = oldByName.get(e.path);
      if (e.type === 'tree') {
        subtrees.push(visit(p, prev?.type === 'tree' ? prev.oid : undefined, e.oid));
      } else if (e.type === 'blob' && accept(p)) {
        if (prev?.type === 'blob' && prev.oid === e.oid && prev.mode === e.mode) {
          out.sameBlobs.push({ path: p, oid: e.oid, mode: e.mode });
        } else {
          out.changedBlobs.push({ path: p, oid: e.oid, mode: e.mode });
        }
      }
    }
    await Promise.all(subtrees);
  };
  await visit('.', before, after);
  return out;
}

/** True when `file` lies under one of `dirs` ('.' is the root). */
export function isUnder(file: string, dirs: ReadonlySet<string>): boolean {
  if (dirs.has('.')) return true;
  for (let i = file.indexOf('/'); i >= 0; i = file.indexOf('/', i + 1)) {
    if (dirs.has(file.slice(0, i))) return true;
  }
  return false;
}

/**
 * Splits `previous` (the files of the commit diffed against, sorted by
 * path) into the files under `unchangedDirs`, in order, which the new
 * commit has exactly as they were, and the others by path (they sit in
 * directories the diff opened: few). One pass with no per-file lookup: a
 * directory's verdict is taken once for its run of files. Undefined when
 * `previous` is not sorted by path (then the caller does it the long way).
 */
export function splitPrevious<F extends { path: string }>(previous: readonly F[], unchangedDirs: ReadonlySet<string>): { kept: F[]; others: Map<string, F> } | undefined {
  const kept: F[] = [];
  const others = new Map<string, F>();
  let dir: string | undefined;
  let dirUnchanged = false;
  let last: string | undefined;
  for (const f of previous) {
    if (last !== undefined && !(last < f.path)) return undefined;
    last = f.path;
    if (dir === undefined || !inDir(f.path, dir)) {
      const slash = f.path.lastIndexOf('/');
      dir = slash < 0 ? '' : f.path.slice(0, slash);
      dirUnchanged = isUnder(f.path, unchangedDirs);
    }
    if (dirUnchanged) kept.push(f);
    else others.set(f.path, f);
  }
  return { kept, others };
}

/** `file` sits directly in `dir` ('' is the root). */
function inDir(file: string, dir: string): boolean {
  if (dir === '') return file.indexOf('/') < 0;
  return file.length > dir.length + 1 && file.startsWith(dir) && file.charCodeAt(dir.length) === 47 /* '/' */ && file.indexOf('/', dir.length + 1) < 0;
}
