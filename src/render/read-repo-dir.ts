// Safe loading of a job repository checkout from disk (`ozy validate DIR`,
// `ozy render DIR`). Reads only ozy.yaml and what is under jobs/; never
// follows a symlink (lstat, O_NOFOLLOW), checks that every file it opens
// resolves inside the root, and stops at the size and count limits without
// reading further. The result goes to renderRepo, which reports symlinks and
// oversized files; problems only this loader can see are returned beside.
import { isSecretPath, SECRETS_DIR } from '../secrets/paths';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeProblem, type ProblemType } from '../problems';
import { MAX_DIR_DEPTH, MAX_DIR_ENTRIES, MAX_FILE_BYTES, MAX_REPO_BYTES, MAX_REPO_FILES } from './limits';
import type { RenderProblem, RepoFile } from './render-repo';
import { isRelevantPath, JOBS_DIR, SETTINGS_FILE } from './repo-paths';

/** The directory itself cannot be read: a usage error, not a problem of the repository. */
export class RepoDirError extends Error {
  readonly code = 'REPO_DIR_UNREADABLE';
  readonly retryable = false;
}

export interface RepoDirContents {
  files: RepoFile[];
  problems: RenderProblem[];
}

export async function readRepoDir(dir: string): Promise<RepoDirContents> {
  let root: string;
  try {
    root = await fs.promises.realpath(dir);
    if (!(await fs.promises.stat(root)).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    throw new RepoDirError(`cannot read the repository directory ${dir}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const loader = new Loader(root);
  await loader.entry(SETTINGS_FILE, 0);
  await loader.entry(JOBS_DIR, 0);
  await loader.entry(SECRETS_DIR, 0);
  return { files: loader.files, problems: loader.problems };
}

class Loader {
  readonly files: RepoFile[] = [];
  readonly problems: RenderProblem[] = [];
  private entries = 0;
  private count = 0;
  private bytes = 0;
  private stopped = false;

  constructor(private readonly root: string) {}

  /** Visit one repository-relative path (a file or a directory under jobs/). */
  async entry(rel: string, depth: number): Promise<void> {
    if (this.stopped) return;
    if (++this.entries > MAX_DIR_ENTRIES) {
      this.stopped = true;
      this.problem(JOBS_DIR, 'repository-too-large', `stopped reading after ${MAX_DIR_ENTRIES} directory entries under ${JOBS_DIR}/`);
      return;
    }
    const abs = path.join(this.root, rel);
    let st: fs.Stats;
    try {
      st = await fs.promises.lstat(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.problem(rel, 'unreadable-file', `${rel} cannot be read: ${errorCode(err)}`);
      return;
    }
    // A name the renderer will refuse (backslash, control characters): pass the path only.
    if (/[\\\u0000-\u001f\u007f]/.test(rel)) {
      this.files.push({ path: rel, content: '' });
      return;
    }
    if (st.isSymbolicLink()) {
      this.files.push({ path: rel, content: '', kind: 'symlink' });
      return;
    }
    if (st.isDirectory()) {
      if (rel === SETTINGS_FILE) return;
      if (depth >= MAX_DIR_DEPTH) {
        this.problem(rel, 'repository-too-large', `${rel} is nested deeper than ${MAX_DIR_DEPTH} directories; it was not read`);
        return;
      }
      let names: string[];
      try {
        names = (await fs.promises.readdir(abs)).sort();
      } catch (err) {
        this.problem(rel, 'unreadable-file', `${rel} cannot be listed: ${errorCode(err)}`);
        return;
      }
      for (const name of names) await this.entry(`${rel}/${name}`, depth + 1);
      return;
    }
    if (!isRelevantPath(rel) && !isSecretPath(rel)) return;
    if (!st.isFile()) {
      this.problem(rel, 'unsafe-path', `${rel} is not a regular file (a device, socket or pipe); it was not read`);
      return;
    }
    if (st.size > MAX_FILE_BYTES) {
      this.files.push({ path: rel, content: '', size: st.size });
      return;
    }
    if (this.count + 1 > MAX_REPO_FILES || this.bytes + st.size > MAX_REPO_BYTES) {
      this.problem(rel, 'repository-too-large', `${rel} was not read: the repository exceeds ${MAX_REPO_FILES} relevant files or ${MAX_REPO_BYTES / (1024 * 1024)} MiB in total`);
      return;
    }
    const content = await this.read(rel, abs);
    if (content === undefined) return;
    this.count += 1;
    this.bytes += content.byteLength;
    this.files.push(content.byteLength > MAX_FILE_BYTES ? { path: rel, content: '', size: content.byteLength } : { path: rel, content });
  }

  /** Reads at most MAX_FILE_BYTES + 1 bytes, refusing to follow a link swapped in since lstat. */
  private async read(rel: string, abs: string): Promise<Uint8Array | undefined> {
    let handle: fs.promises.FileHandle | undefined;
    try {
      const real = await fs.promises.realpath(abs);
      if (!real.startsWith(`${this.root}${path.sep}`)) {
        this.problem(rel, 'unsafe-path', `${rel} resolves outside the repository; it was not read`);
        return undefined;
      }
      handle = await fs.promises.open(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
      const st = await handle.stat();
      if (!st.isFile()) {
        this.problem(rel, 'unsafe-path', `${rel} is not a regular file; it was not read`);
        return undefined;
      }
      const buf = Buffer.alloc(Math.min(st.size, MAX_FILE_BYTES) + 1);
      let filled = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buf, filled, buf.length - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
        if (filled === buf.length) break;
      }
      return buf.subarray(0, filled);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') {
        this.files.push({ path: rel, content: '', kind: 'symlink' });
        return undefined;
      }
      this.problem(rel, 'unreadable-file', `${rel} cannot be read: ${errorCode(err)}`);
      return undefined;
    } finally {
      await handle?.close();
    }
  }

  private problem(rel: string, type: ProblemType, detail: string): void {
    this.problems.push({ key: rel, file: rel, problem: makeProblem(type, { detail, file: rel }) });
  }
}

function errorCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? (err instanceof Error ? err.message : String(err));
}
