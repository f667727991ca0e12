// The git source: the only module that uses isomorphic-git. It keeps a bare
// clone of the job repository in the agent's data dir, fetches the tracked
// branch, reads the files of a commit incrementally (only blobs whose oid
// changed are read; unchanged subtrees are skipped whole), and commits and
// pushes rejection reports without a work tree.
import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as git from 'isomorphic-git';
import type { FsClient } from 'isomorphic-git';
import { problemTypeUrl } from '../problems';
import { backoffDelay } from './backoff';
import { assertBranchName } from './branch-name';
import {
  basicAuthHeader,
  type HttpCredentials,
  redact,
  resolveCredentials,
  secretForms,
  splitUrlCredentials,
} from './credentials';
import {
  GitBranchMissingError,
  GitInvalidUrlError,
  GitObjectMissingError,
  GitPushConflictError,
  GitPushRefusedError,
  GitRepoTooLargeError,
  type GitSourceError,
  isPushConflict,
  translateGitError,
} from './errors';
import { createHttpClient, type HttpClient } from './http-client';
import { countObjects, DEFAULT_COMPACTION, freshCloneDir, needsCompaction, removeLeftovers, swapIn, type CompactionPolicy } from './clone-compaction';
import { ObjectSizes } from './object-size';
import { DEFAULT_FETCH_LIMITS, type FetchLimits } from './pack-guard';
import { promiseFs } from './promise-fs';
import { type BlobAt, diffTrees, isUnder, splitPrevious, type TreeDiff, type TreeReader } from './tree-diff';
import { applyEdit, planDirectoryUpdate, type TreeStore } from './tree-edit';
import { mapLimited } from '../map-limited';

/** A file of the repository as the renderer consumes it. */
export interface RepoFile {
  /** Repository-relative, '/'-separated. */
  path: string;
  /** The blob's bytes; '' for symlinks and for files over maxFileBytes. */
  content: Uint8Array | string;
  kind?: 'file' | 'symlink';
  /** Set when the blob exceeds maxFileBytes; its content was not kept. */
  tooLarge?: boolean;
  /** Size in bytes, given when tooLarge. */
  size?: number;
}

export interface GitSourceOptions {
  /** http(s) URL of the job repository. Credentials in it (`https://user:pass@host/…`) are used, then stripped. */
  url: string;
  /** The tracked branch (short name, e.g. "main"). */
  branch: string;
  /** Directory of the local (bare) clone, inside the agent's data dir. Created on first sync. */
  dir: string;
  /** OZY_GIT_TOKEN: sent as the HTTP Basic password. Never logged, never in an error message. */
  token?: string;
  /** OZY_GIT_USERNAME: the Basic username sent with the token. Default: the URL's username, else "x-access-token". */
  username?: string;
  /** Author and committer of report commits. Default: Ozymandias <ozymandias@localhost>. */
  author?: { name: string; email: string };
  /** Blobs larger than this are returned with tooLarge: true and no content. Default 1 MiB. */
  maxFileBytes?: number;
  /** A request whose socket is idle this long fails with GIT_UNREACHABLE, ms. Default 30,000. */
  timeoutMs?: number;
  /** syncReports push attempts before GIT_PUSH_CONFLICT. Default 6. */
  pushAttempts?: number;
  /** Back-off after a lost push race: about this long, doubling per attempt, capped at 2 s, with jitter; ms. Default 50. */
  pushBackoffMs?: number;
  /** What one fetch may bring in (pack-guard.ts); past it the fetch is refused with GIT_REPO_TOO_LARGE. Default DEFAULT_FETCH_LIMITS. */
  fetchLimits?: Partial<FetchLimits>;
  /** When the local clone is re-cloned to merge its packs (clone-compaction.ts). Default DEFAULT_COMPACTION. */
  compaction?: Partial<CompactionPolicy>;
}

export interface GitSourceDeps {
  /** isomorphic-git HTTP client. Default: createHttpClient({timeoutMs}). */
  http?: HttpClient;
  /** isomorphic-git file system. Default: node:fs.promises (promise-fs.ts). */
  fs?: FsClient;
  /** Clock for commit timestamps, ms since the epoch. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Counters for logs, benchmarks and tests (e.g. proving reads are incremental). */
export interface GitSourceStats {
  fetches: number;
  blobsRead: number;
  /** Blobs refused as too large from their size alone, never read. */
  blobsSized: number;
  /** Re-clones that replaced a clone whose packs piled up, and re-clones that failed (the old clone stayed). */
  compactions: number;
  compactionFailures: number;
  /** Trees opened by readFiles: a one-file change opens only those on the file's path. */
  treesRead: number;
  pushes: number;
  pushConflicts: number;
}

export interface ReadFilesResult {
  /** Every accepted file at the commit, sorted by path. */
  files: RepoFile[];
  /** Accepted paths added, modified or deleted since `previous` (every path when there is none), sorted. */
  changed: string[];
  /** The commit's parents, as its object says (read anyway for its tree). */
  parents: string[];
}

export interface SyncReportsOptions {
  /** Also delete every file under the reports dir that `desired` does not name with content. Default false. */
  prune?: boolean;
}

const ZERO_OID = '0000000000000000000000000000000000000000';
const REMOTE = 'origin';
const SYMLINK_MODE = 0o120000;
const FILE_TYPE_MASK = 0o170000;
/**
 * Blobs read at once. A cold read of 5,000 files all at once held a file
 * handle and an inflater per blob together and left ~700 MiB of freed
 * malloc heap in the agent; a few dozen keep the disk and the CPU as busy.
 */
const READ_CONCURRENCY = 32;

export class GitSource {
  readonly stats: GitSourceStats = { fetches: 0, blobsRead: 0, blobsSized: 0, treesRead: 0, pushes: 0, pushConflicts: 0, compactions: 0, compactionFailures: 0 };
  /** The repository URL without credentials: safe to log. */
  readonly url: string;
  readonly branch: string;

  private readonly gitdir: string;
  private readonly fs: FsClient;
  private readonly http: HttpClient;
  private readonly credentials: HttpCredentials | undefined;
  private readonly secrets: string[];
  private readonly author: { name: string; email: string };
  private readonly maxFileBytes: number;
  private readonly pushAttempts: number;
  private readonly pushBackoffMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** Blob sizes from object headers, so an oversized blob is refused without inflating it. */
  private readonly sizes: ObjectSizes;
  /** Shared by every isomorphic-git call: parsed pack indexes stay in memory (20x faster blob reads). Replaced by a compaction. */
  private cache: object = {};
  private readonly compaction: CompactionPolicy;
  /** A fetch brought a pack or a commit was written since the last compaction check. */
  private grew = false;
  /** After a failed compaction: packs + loose objects to reach before trying again. */
  private retryCompactionAt = 0;
  /** Serialises operations that fetch or write refs: one local clone, one writer at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private initialised = false;

  /** Does no I/O. Throws GIT_INVALID_URL for a non-http(s) URL and GIT_INVALID_PATH for a bad branch name. */
  constructor(opts: GitSourceOptions, deps: GitSourceDeps = {}) {
    assertBranchName(opts.branch);
    const split = splitUrlCredentials(opts.url);
    if (!/^https?:\/\/[^/]/i.test(split.url)) {
      throw new GitInvalidUrlError(`repository URL ${redact(split.url, [])} is not http(s); isomorphic-git speaks only smart HTTP`);
    }
    this.url = split.url;
    this.branch = opts.branch;
    this.gitdir = path.resolve(opts.dir);
    this.sizes = new ObjectSizes(this.gitdir);
    this.compaction = { ...DEFAULT_COMPACTION, ...opts.compaction };
    this.credentials = resolveCredentials(split, opts.token, opts.username);
    this.secrets = secretForms(this.credentials);
    this.author = opts.author ?? { name: 'Ozymandias', email: 'ozymandias@localhost' };
    this.maxFileBytes = opts.maxFileBytes ?? 1024 * 1024;
    this.pushAttempts = Math.max(1, opts.pushAttempts ?? 6);
    this.pushBackoffMs = opts.pushBackoffMs ?? 50;
    this.fs = deps.fs ?? promiseFs();
    this.http = deps.http ?? createHttpClient({ timeoutMs: opts.timeoutMs ?? 30_000, fetchLimits: { ...DEFAULT_FETCH_LIMITS, ...opts.fetchLimits } });
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => delay(ms));
    this.random = deps.random ?? Math.random;
  }

  /**
   * Creates the local clone if needed, then fetches the tracked branch and
   * returns its tip. A force-push is just a new tip: nothing assumes it
   * descends from the previous one. On failure the local clone and its refs
   * are left as they were.
   */
  sync(): Promise<{ head: string }> {
    return this.exclusive(async () => {
      await this.ensureClone();
      let head = await this.fetchBranch(this.branch);
      if (head === null) throw new GitBranchMissingError(this.branch);
      if (this.grew) head = (await this.compactIfNeeded()) ?? head;
      return { head };
    });
  }

  /**
   * The files at `commit` whose path `filter` accepts. With `previous` (the
   * result of an earlier call with the same filter), subtrees whose oid did
   * not change are not opened (tree-diff.ts) and blobs whose oid did not change are not
   * read: their RepoFile objects are reused. Symlinks come back with kind
   * "symlink" and no content; submodules are skipped.
   */
  async readFiles(
    commit: string,
    filter: (path: string) => boolean,
    previous?: { commit: string; files: readonly RepoFile[] },
  ): Promise<ReadFilesResult> {
    const op = `read files of ${commit}`;
    const read = await this.commitOf(commit);
    if (read === undefined) throw missingCommit(commit, op);
    const afterTree = read.tree;
    const parents = read.parent.slice();
    const beforeTree = previous ? await this.treeOf(previous.commit) : undefined;
    let diff: TreeDiff;
    try {
      diff = await diffTrees(this.treeReader(), beforeTree, afterTree, filter);
    } catch (err) {
      throw this.translate(err, op);
    }
    // Files under unchanged subtrees: the RepoFile objects passed in, as they were, in order.
    const split = splitPrevious(beforeTree !== undefined ? previous?.files ?? [] : [], new Set(diff.unchangedDirs));
    if (!split) return { ...(await this.assembleByPath(diff, previous?.files ?? [], op)), parents };
    // The directories the diff opened: blobs whose oid did not change keep their object too.
    const region: RepoFile[] = [];
    const toRead: BlobAt[] = [...diff.changedBlobs];
    for (const b of diff.sameBlobs) {
      const prev = split.others.get(b.path);
      if (prev) region.push(prev);
      else toRead.push(b); // `previous` did not hold it (another filter): read it
    }
    region.push(...(await this.readAll(toRead, op)));
    region.sort((a, b) => compare(a.path, b.path));

    // Changed: what was read, and what `previous` held there that the commit no longer has.
    const changed = toRead.map((b) => b.path);
    const present = new Set(region.map((f) => f.path));
    for (const p of split.others.keys()) if (!present.has(p)) changed.push(p);
    return { files: mergeByPath(split.kept, region), changed: changed.sort(compare), parents };
  }

  /** readFiles when `previous` is not sorted by path: the same result, with per-path lookups of everything. */
  private async assembleByPath(diff: TreeDiff, previous: readonly RepoFile[], op: string): Promise<Omit<ReadFilesResult, 'parents'>> {
    const prevByPath = new Map(previous.map((f) => [f.path, f]));
    const files: RepoFile[] = [];
    const unchangedDirs = new Set(diff.unchangedDirs);
    if (unchangedDirs.size > 0) {
      for (const f of prevByPath.values()) if (isUnder(f.path, unchangedDirs)) files.push(f);
    }
    const toRead: BlobAt[] = [...diff.changedBlobs];
    for (const b of diff.sameBlobs) {
      const prev = prevByPath.get(b.path);
      if (prev) files.push(prev);
      else toRead.push(b);
    }
    files.push(...(await this.readAll(toRead, op)));
    files.sort((a, b) => compare(a.path, b.path));
    const changed = new Set(toRead.map((b) => b.path));
    const now = new Set(files.map((f) => f.path));
    for (const p of prevByPath.keys()) if (!now.has(p)) changed.add(p);
    return { files, changed: [...changed].sort(compare) };
  }

  private async readAll(blobs: readonly BlobAt[], op: string): Promise<RepoFile[]> {
    try {
      return await mapLimited(blobs, READ_CONCURRENCY, (b) => this.readRepoFile(b));
    } catch (err) {
      throw this.translate(err, op);
    }
  }

  /**
   * Paths (files, symlinks, submodules) that differ between two commits,
   * sorted. Unchanged subtrees are skipped by oid, so a report commit that
   * only touched the reports dir costs a few tree reads.
   */
  async changedPaths(from: string, to: string): Promise<string[]> {
    const op = `diff ${from}..${to}`;
    await this.requireCommit(from, op);
    await this.requireCommit(to, op);
    if (from === to) return [];
    const out: string[] = [];
    try {
      await git.walk({
        fs: this.fs,
        gitdir: this.gitdir,
        cache: this.cache,
        trees: [git.TREE({ ref: from }), git.TREE({ ref: to })],
        reduce: async () => undefined,
        map: async (filepath, [a, b]) => {
          const ta = a ? await a.type() : undefined;
          const tb = b ? await b.type() : undefined;
          const sameOid = a && b ? (await a.oid()) === (await b.oid()) : false;
          if (ta === 'tree' && tb === 'tree') return sameOid ? null : undefined;
          const leafA = ta !== undefined && ta !== 'tree';
          const leafB = tb !== undefined && tb !== 'tree';
          if (!leafA && !leafB) return undefined;
          if (leafA && leafB && sameOid && (await a!.mode()) === (await b!.mode())) return undefined;
          out.push(filepath);
          return undefined;
        },
      });
    } catch (err) {
      throw this.translate(err, op);
    }
    return out.sort(compare);
  }

  /**
   * True when `ancestor` is `descendant` or in its history. False when either
   * commit is not in the local clone (e.g. it was force-pushed away or not
   * fetched yet): the caller decides what an unknown commit means.
   */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    if (ancestor === descendant) return this.hasCommit(ancestor);
    if (!(await this.hasCommit(ancestor)) || !(await this.hasCommit(descendant))) return false;
    try {
      return await git.isDescendent({ fs: this.fs, gitdir: this.gitdir, cache: this.cache, oid: descendant, ancestor, depth: -1 });
    } catch (err) {
      throw this.translate(err, `ancestry ${ancestor}..${descendant}`);
    }
  }

  /**
   * Makes `<reportsDir>/` on `branch` match `desired` (path relative to
   * reportsDir → JSON text, or null to delete; with `prune`, files not named
   * are deleted too). Fetches the branch tip first; if nothing differs,
   * returns null without committing. Otherwise commits once on top of the
   * tip, touching nothing outside reportsDir, and pushes. If another pusher
   * got there first, re-fetches and rebuilds on the new tip, so neither their
   * commit nor any report is lost — and if they pushed the same reports,
   * there is nothing left to commit. A missing branch is created with a
   * root commit holding only the reports.
   */
  async syncReports(
    branch: string,
    reportsDir: string,
    desired: ReadonlyMap<string, string | null>,
    message: string,
    options: SyncReportsOptions = {},
  ): Promise<string | null> {
    assertBranchName(branch);
    const encoder = new TextEncoder();
    const edit = planDirectoryUpdate({
      dir: reportsDir.replace(/^\/+|\/+$/g, ''),
      files: new Map([...desired].map(([p, text]) => [p, text === null ? null : encoder.encode(text)])),
      prune: options.prune ?? false,
    });
    return this.exclusive(async () => {
      await this.ensureClone();
      const op = `push reports to branch ${branch}`;
      for (let attempt = 1; ; attempt++) {
        const tip = await this.fetchBranch(branch);
        const baseTree = tip ? await this.commitTree(tip, op) : null;
        let tree: string | null;
        try {
          tree = await applyEdit(this.treeStore(), baseTree, edit);
        } catch (err) {
          throw this.translate(err, op);
        }
        if (tree === baseTree) return null;
        const commit = await this.writeCommit(tree, tip, message, op);
        try {
          await this.push(commit, branch, tip);
          this.stats.pushes++;
          return commit;
        } catch (err) {
          if (!isPushConflict(err)) throw this.translatePush(err, op);
          this.stats.pushConflicts++;
          if (attempt >= this.pushAttempts) throw new GitPushConflictError(branch, attempt);
          await this.sleep(backoffDelay(attempt, this.pushBackoffMs, 2_000, this.random));
        }
      }
    });
  }

  // ---- internals ----

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async ensureClone(): Promise<void> {
    if (this.initialised) return;
    try {
      // What an interrupted compaction left beside the clone.
      await removeLeftovers(this.gitdir);
      await this.initClone(this.gitdir);
    } catch (err) {
      throw this.translate(err, 'create local clone');
    }
    this.initialised = true;
  }

  private async initClone(gitdir: string): Promise<void> {
    await nodeFs.promises.mkdir(gitdir, { recursive: true });
    // init is a no-op on an existing clone (it checks for `config`).
    await git.init({ fs: this.fs, gitdir, dir: gitdir, bare: true, defaultBranch: this.branch });
    // isomorphic-git maps fetched refs to tracking refs through the remote's refspec.
    // The URL stored is the one without credentials.
    await git.setConfig({ fs: this.fs, gitdir, path: `remote.${REMOTE}.url`, value: this.url });
    await git.setConfig({ fs: this.fs, gitdir, path: `remote.${REMOTE}.fetch`, value: `+refs/heads/*:refs/remotes/${REMOTE}/*` });
  }

  /**
   * Re-clones into a sibling directory and swaps it in when packs or loose
   * objects piled up (clone-compaction.ts). Returns the fresh clone's tip of
   * the tracked branch, or undefined when nothing was done. A failed
   * re-clone leaves the clone as it was and is tried again only after
   * another quarter of the threshold has piled up.
   */
  private async compactIfNeeded(): Promise<string | undefined> {
    this.grew = false;
    const counts = await countObjects(this.gitdir);
    if (!needsCompaction(counts, this.compaction) || counts.packs + counts.loose < this.retryCompactionAt) return undefined;
    const fresh = freshCloneDir(this.gitdir);
    const cache = {};
    try {
      await removeLeftovers(this.gitdir);
      await this.initClone(fresh);
      const head = await this.fetchBranch(this.branch, fresh, cache);
      if (head === null) throw new GitBranchMissingError(this.branch);
      await swapIn(this.gitdir, fresh);
      // The old clone's parsed packs (whole .pack files) go with it.
      this.cache = cache;
      this.sizes.refresh();
      this.stats.compactions++;
      this.retryCompactionAt = 0;
      this.grew = false; // the fetch into the fresh clone set it: one pack is what compaction makes
      return head;
    } catch {
      await nodeFs.promises.rm(fresh, { recursive: true, force: true }).catch(() => undefined);
      this.stats.compactionFailures++;
      this.retryCompactionAt = counts.packs + counts.loose + Math.ceil(this.compaction.maxPacks / 4);
      return undefined;
    }
  }

  /** Fetches one branch into refs/remotes/origin/<branch>; null when the server has no such branch. */
  private async fetchBranch(branch: string, gitdir = this.gitdir, cache = this.cache): Promise<string | null> {
    const remoteRef = `refs/heads/${branch}`;
    const tracking = `refs/remotes/${REMOTE}/${branch}`;
    // isomorphic-git moves the tracking ref before it has received the pack: a fetch that
    // fails midway (refused, or a connection lost) would leave it on a commit we do not have.
    const before = await git.resolveRef({ fs: this.fs, gitdir, ref: tracking }).catch(() => null);
    try {
      const res = await git.fetch({
        fs: this.fs,
        http: this.http,
        gitdir,
        cache,
        url: this.url,
        remote: REMOTE,
        // `ref` names our tracking ref so that isomorphic-git offers its tip as a "have":
        // only new objects are sent, even after a force-push.
        ref: tracking,
        remoteRef,
        singleBranch: true,
        tags: false,
        headers: this.headers(),
      });
      this.stats.fetches++;
      if (wrotePack(res)) {
        // A new pack: object sizes must look at it, and the clone may need compacting.
        this.sizes.refresh();
        this.grew = true;
      }
      return res.fetchHead; // null: the repository has no refs at all
    } catch (err) {
      if (isNotFound(err, remoteRef)) return null;
      await this.restoreRef(gitdir, tracking, before);
      if (err instanceof GitRepoTooLargeError) {
        throw new GitRepoTooLargeError(
          err.reason,
          `fetch branch ${branch} (${this.url}) refused: the repository is too large: ${err.reason}; nothing was stored and the last fetched commit stays in use (${problemTypeUrl('repository-too-large')})`,
        );
      }
      throw this.translate(err, `fetch branch ${branch}`);
    }
  }

  /** Puts `ref` back to `oid` (or removes it when it did not exist) after a failed fetch. */
  private async restoreRef(gitdir: string, ref: string, oid: string | null): Promise<void> {
    try {
      const now = await git.resolveRef({ fs: this.fs, gitdir, ref }).catch(() => null);
      if (now === oid) return;
      if (oid === null) await git.deleteRef({ fs: this.fs, gitdir, ref });
      else await git.writeRef({ fs: this.fs, gitdir, ref, value: oid, force: true });
    } catch (err) {
      throw this.translate(err, `restore ${ref} after a failed fetch`);
    }
  }

  private async push(commit: string, branch: string, expectedRemote: string | null): Promise<void> {
    const localRef = `refs/ozy/push/${branch}`;
    await git.writeRef({ fs: this.fs, gitdir: this.gitdir, ref: localRef, value: commit, force: true });
    await git.push({
      fs: this.fs,
      http: this.http,
      gitdir: this.gitdir,
      cache: this.cache,
      url: this.url,
      remote: REMOTE,
      ref: localRef,
      remoteRef: `refs/heads/${branch}`,
      headers: this.headers(),
      // The branch moved since we fetched: cancel before packing (cheap), re-fetch and rebuild.
      // The server's own compare-and-swap covers the moment between this check and the update.
      onPrePush: ({ remoteRef }) => remoteRef.oid === (expectedRemote ?? ZERO_OID),
    });
  }

  private async writeCommit(tree: string | null, parent: string | null, message: string, op: string): Promise<string> {
    try {
      const treeOid = tree ?? (await git.writeTree({ fs: this.fs, gitdir: this.gitdir, tree: [] }));
      // Report commits write loose objects: they count towards compaction too.
      this.grew = true;
      const who = { ...this.author, timestamp: Math.floor(this.now() / 1000), timezoneOffset: 0 };
      return await git.writeCommit({
        fs: this.fs,
        gitdir: this.gitdir,
        commit: {
          message: message.endsWith('\n') ? message : `${message}\n`,
          tree: treeOid,
          parent: parent ? [parent] : [],
          author: who,
          committer: who,
        },
      });
    } catch (err) {
      throw this.translate(err, op);
    }
  }

  private treeStore(): TreeStore {
    const { fs, gitdir, cache } = this;
    return {
      readTree: async (oid) => (await git.readTree({ fs, gitdir, cache, oid })).tree,
      writeTree: (tree) => git.writeTree({ fs, gitdir, tree }),
      writeBlob: (blob) => git.writeBlob({ fs, gitdir, blob }),
    };
  }

  private async commitTree(oid: string, op: string): Promise<string> {
    try {
      return (await git.readCommit({ fs: this.fs, gitdir: this.gitdir, cache: this.cache, oid })).commit.tree;
    } catch (err) {
      throw this.translate(err, op);
    }
  }

  private async hasCommit(oid: string): Promise<boolean> {
    return (await this.treeOf(oid)) !== undefined;
  }

  /** The root tree of commit `oid`, or undefined when the clone does not have that commit. */
  private async treeOf(oid: string): Promise<string | undefined> {
    return (await this.commitOf(oid))?.tree;
  }

  /** Commit `oid`'s tree and parents, or undefined when the clone does not have that commit. */
  private async commitOf(oid: string): Promise<{ tree: string; parent: string[] } | undefined> {
    if (!/^[0-9a-f]{40}$/.test(oid)) return undefined;
    try {
      return (await git.readCommit({ fs: this.fs, gitdir: this.gitdir, cache: this.cache, oid })).commit;
    } catch {
      return undefined;
    }
  }

  /** The root tree of commit `oid`; GIT_OBJECT_MISSING when the clone does not have it. */
  private async requireCommit(oid: string, op: string): Promise<string> {
    const tree = await this.treeOf(oid);
    if (tree === undefined) throw missingCommit(oid, op);
    return tree;
  }

  /** Tree reads through the shared cache, counted (tests check a change opens only the trees on its path). */
  private treeReader(): TreeReader {
    return {
      readTree: async (oid) => {
        const { tree } = await git.readTree({ fs: this.fs, gitdir: this.gitdir, cache: this.cache, oid });
        this.stats.treesRead++;
        return tree;
      },
    };
  }

  private async readRepoFile({ path: filepath, oid, mode }: BlobAt): Promise<RepoFile> {
    if ((parseInt(mode, 8) & FILE_TYPE_MASK) === SYMLINK_MODE) return { path: filepath, content: '', kind: 'symlink' };
    // The size first, from the object's header: a blob over the limit is never inflated (object-size.ts).
    const size = await this.sizes.sizeOf(oid).catch(() => undefined);
    if (size !== undefined && size > this.maxFileBytes) {
      this.stats.blobsSized++;
      return { path: filepath, content: '', kind: 'file', tooLarge: true, size };
    }
    const { blob: bytes } = await git.readBlob({ fs: this.fs, gitdir: this.gitdir, cache: this.cache, oid });
    this.stats.blobsRead++;
    if (bytes.byteLength > this.maxFileBytes) {
      return { path: filepath, content: '', kind: 'file', tooLarge: true, size: bytes.byteLength };
    }
    // A copy of exactly its size: the blob isomorphic-git returns is a view
    // into a larger buffer (an inflate chunk), and a file kept between rounds
    // would keep all of it: 18 MiB for 2.5 MB of job files at 5,000 jobs.
    return { path: filepath, content: new Uint8Array(bytes), kind: 'file' };
  }

  private headers(): Record<string, string> {
    // Sent up front rather than through onAuth: onAuth only answers a 401,
    // which would double the requests of every poll against a private repository.
    return this.credentials ? { Authorization: basicAuthHeader(this.credentials) } : {};
  }

  private translate(err: unknown, operation: string): GitSourceError {
    return translateGitError(err, { operation, url: this.url, secrets: this.secrets });
  }

  private translatePush(err: unknown, operation: string): GitSourceError {
    const translated = this.translate(err, operation);
    if (translated.causeCode === 'GitPushError') {
      return new GitPushRefusedError(translated.message, translated.causeCode);
    }
    return translated;
  }
}

/** isomorphic-git's fetch returns the path of the pack it wrote (undocumented in its types) when the fetch brought objects. */
function wrotePack(res: object): boolean {
  return typeof (res as { packfile?: unknown }).packfile === 'string';
}

function isNotFound(err: unknown, what: string): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; data?: { what?: unknown } };
  return e.code === 'NotFoundError' && e.data?.what === what;
}

/** Byte-order comparison, so the order does not depend on the locale. */
/** Two lists sorted by path, with no path in both, as one. */
function mergeByPath(a: readonly RepoFile[], b: readonly RepoFile[]): RepoFile[] {
  const out: RepoFile[] = new Array<RepoFile>(a.length + b.length);
  let i = 0;
  let j = 0;
  for (let o = 0; o < out.length; o++) out[o] = j >= b.length || (i < a.length && a[i].path < b[j].path) ? a[i++] : b[j++];
  return out;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function missingCommit(oid: string, op: string): GitObjectMissingError {
  return new GitObjectMissingError(`${op}: commit ${oid} is not in the local clone (sync first)`);
}
