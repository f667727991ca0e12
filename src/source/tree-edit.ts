// Editing a git tree without a work tree or an index: the reports commit is
// built by rewriting only the trees on the path to the reports directory.
// The object store is an injected interface, so this logic is tested with an
// in-memory fake and used with isomorphic-git's object database.
import { GitInvalidPathError } from './errors';

export interface TreeEntry {
  /** Octal mode as git writes it: "100644", "100755", "120000", "040000", "160000". */
  mode: string;
  /** The entry's name within its tree (one path segment). */
  path: string;
  oid: string;
  type: 'blob' | 'tree' | 'commit';
}

export interface TreeStore {
  readTree(oid: string): Promise<TreeEntry[]>;
  writeTree(entries: TreeEntry[]): Promise<string>;
  writeBlob(content: Uint8Array): Promise<string>;
}

const FILE_MODE = '100644';
const TREE_MODE = '040000';

/**
 * Splits a repository-relative path into segments, refusing anything that
 * could escape the directory or write into git's own metadata.
 */
export function pathSegments(path: string, what: string): string[] {
  const segments = path.split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..' || s.toLowerCase() === '.git' || s.includes('\0') || s.includes('\\')) {
      throw new GitInvalidPathError(`${what} "${path}" is not a safe relative path`);
    }
  }
  return segments;
}

/** What happens under one directory: files put or deleted, subdirectories edited, or everything cleared first. */
interface DirEdit {
  clear: boolean;
  files: Map<string, Uint8Array | null>;
  dirs: Map<string, DirEdit>;
}

function emptyEdit(): DirEdit {
  return { clear: false, files: new Map(), dirs: new Map() };
}

function editAt(root: DirEdit, segments: readonly string[]): DirEdit {
  let node = root;
  for (const s of segments) {
    let next = node.dirs.get(s);
    if (!next) node.dirs.set(s, (next = emptyEdit()));
    node = next;
  }
  return node;
}

export interface DirectoryUpdate {
  /** Repository-relative directory, e.g. "rejections" or "ozy/reports". */
  dir: string;
  /** Path relative to `dir` → new content, or null to delete the file. */
  files: ReadonlyMap<string, Uint8Array | null>;
  /** Delete every file under `dir` that `files` does not name with content. */
  prune: boolean;
}

/** Turns a directory update into the edit tree, validating every path. */
export function planDirectoryUpdate(update: DirectoryUpdate): DirEdit {
  const root = emptyEdit();
  const dirNode = editAt(root, pathSegments(update.dir, 'reports directory'));
  dirNode.clear = update.prune;
  for (const [rel, content] of update.files) {
    const segs = pathSegments(rel, 'report path');
    const name = segs[segs.length - 1]!;
    let parent = dirNode;
    for (const s of segs.slice(0, -1)) {
      if (parent.files.has(s)) throw new GitInvalidPathError(`report path "${rel}" is both a file and a directory`);
      parent = editAt(parent, [s]);
    }
    if (parent.dirs.has(name)) throw new GitInvalidPathError(`report path "${rel}" is both a file and a directory`);
    parent.files.set(name, content);
  }
  return root;
}

/**
 * Applies the edit to the tree `treeOid` (null: no tree yet) and returns the
 * new tree's oid, or null when the result is empty (git has no empty trees).
 * Untouched subtrees keep their oids, so an edit that changes nothing
 * returns exactly `treeOid`.
 */
export async function applyEdit(store: TreeStore, treeOid: string | null, edit: DirEdit): Promise<string | null> {
  const entries = new Map<string, TreeEntry>();
  if (treeOid && !edit.clear) for (const e of await store.readTree(treeOid)) entries.set(e.path, e);
  let changed = edit.clear;

  for (const [name, content] of edit.files) {
    const existing = entries.get(name);
    if (content === null) {
      if (existing) {
        entries.delete(name);
        changed = true;
      }
      continue;
    }
    const oid = await store.writeBlob(content);
    if (!existing || existing.oid !== oid || existing.mode !== FILE_MODE) {
      entries.set(name, { mode: FILE_MODE, path: name, oid, type: 'blob' });
      changed = true;
    }
  }
  for (const [name, sub] of edit.dirs) {
    const existing = entries.get(name);
    const base = existing?.type === 'tree' ? existing.oid : null;
    const next = await applyEdit(store, base, sub);
    if (next === null) {
      if (existing?.type === 'tree') {
        entries.delete(name);
        changed = true;
      }
    } else if (next !== base || existing?.type !== 'tree') {
      entries.set(name, { mode: TREE_MODE, path: name, oid: next, type: 'tree' });
      changed = true;
    }
  }
  if (!changed) return treeOid;
  if (entries.size === 0) return null;
  return store.writeTree([...entries.values()]);
}
