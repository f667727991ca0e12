// Keeping the agent's local clone small.
//
// Every fetch that brings something writes one more pack (isomorphic-git
// never merges them), and every report commit a few loose objects; git's
// `gc` does not exist in isomorphic-git. Each object lookup then scans every
// pack index, and the parsed packs (isomorphic-git keeps the whole .pack of
// any pack it read from in memory) pile up. So after a fetch, when packs or
// loose objects pass a threshold, GitSource clones the repository afresh
// into a sibling directory (one pack, the server's deltas) and swaps it in
// with two renames. A crash between them leaves no clone (the next start
// clones again) and a leftover that startClone() removes.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CompactionPolicy {
  /** Packs in the clone beyond which it is re-cloned. */
  maxPacks: number;
  /** Loose objects beyond which it is re-cloned. */
  maxLooseObjects: number;
}

export const DEFAULT_COMPACTION: CompactionPolicy = { maxPacks: 32, maxLooseObjects: 4096 };

export interface ObjectCounts {
  packs: number;
  loose: number;
}

/** Packs and loose objects in a (bare) clone: one readdir, plus one per fan-out directory. */
export async function countObjects(gitdir: string): Promise<ObjectCounts> {
  const objects = path.join(gitdir, 'objects');
  const packs = (await readdirOrEmpty(path.join(objects, 'pack'))).filter((n) => n.endsWith('.pack')).length;
  let loose = 0;
  for (const dir of await readdirOrEmpty(objects)) {
    if (/^[0-9a-f]{2}$/.test(dir)) loose += (await readdirOrEmpty(path.join(objects, dir))).length;
  }
  return { packs, loose };
}

export function needsCompaction(counts: ObjectCounts, policy: CompactionPolicy): boolean {
  return counts.packs > policy.maxPacks || counts.loose > policy.maxLooseObjects;
}

/** Where the fresh clone is built: beside the clone (same file system, so the swap is two renames). */
export function freshCloneDir(gitdir: string): string {
  return `${gitdir}.compacting`;
}

function retiredDir(gitdir: string): string {
  return `${gitdir}.retired`;
}

/** Removes what an interrupted compaction left beside the clone. */
export async function removeLeftovers(gitdir: string): Promise<void> {
  await fs.promises.rm(freshCloneDir(gitdir), { recursive: true, force: true });
  await fs.promises.rm(retiredDir(gitdir), { recursive: true, force: true });
}

/**
 * Puts the clone built at `fresh` in place of `gitdir`. Readers see either
 * the old clone or the new one, except between the two renames (no clone:
 * a read fails and is retried by the next round).
 */
export async function swapIn(gitdir: string, fresh: string): Promise<void> {
  const retired = retiredDir(gitdir);
  await fs.promises.rm(retired, { recursive: true, force: true });
  await fs.promises.rename(gitdir, retired);
  await fs.promises.rename(fresh, gitdir);
  await fs.promises.rm(retired, { recursive: true, force: true });
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch {
    return [];
  }
}
