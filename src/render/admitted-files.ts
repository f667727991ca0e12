// Step 1 of the render: which files are read at all (safe paths, no
// symlinks, size limits, UTF-8). Text is decoded only when something reads
// it: a job file replayed from the render cache never is, so a one-file
// change does not decode the other thousands (isUtf8 checks validity
// without building a string).
import { isUtf8 } from 'node:buffer';
import { MAX_FILE_BYTES, MAX_REPO_BYTES, MAX_REPO_FILES } from './limits';
import type { CachedSource } from './render-cache';
import type { RenderContext } from './render-context';
import { unsafePathReason } from './repo-paths';

/** A file of the repository as the renderer consumes it (render-repo.ts re-exports it). */
export interface RepoFile {
  /** Repository-relative, posix separators. */
  path: string;
  content: Uint8Array | string;
  /** Symlinks are never followed: a symlink gets a problem. Default 'file'. */
  kind?: 'file' | 'symlink';
  /**
   * The file's size when `content` was deliberately not read because it is
   * over the limit (a loader may pass `content: ''` and the size): the file
   * is then refused as too large rather than forgotten.
   */
  size?: number;
}

/** The admitted files of one render, by path; text decoded on first use. */
export class AdmittedFiles {
  /** Files and bytes counted against the repository limits. */
  count = 0;
  bytes = 0;
  /** Some file was refused because the repository is over its limits. */
  overLimit = false;
  private readonly contents = new Map<string, Uint8Array | string>();
  private readonly texts = new Map<string, string>();

  add(p: string, content: Uint8Array | string): void {
    this.contents.set(p, content);
  }

  has(p: string): boolean {
    return this.contents.has(p);
  }

  paths(): IterableIterator<string> {
    return this.contents.keys();
  }

  get(p: string): string | undefined {
    let text = this.texts.get(p);
    if (text !== undefined) return text;
    const content = this.contents.get(p);
    if (content === undefined) return undefined;
    text = decode(content);
    this.texts.set(p, text);
    return text;
  }

  /** For the render cache: the content as given (its identity is the cache's first test) and its text on demand. */
  source(p: string): CachedSource {
    return { content: this.contents.get(p)!, text: () => this.get(p)! };
  }
}

export function admitFiles(files: readonly RepoFile[], ctx: RenderContext): AdmittedFiles {
  const admitted = new AdmittedFiles();
  let count = 0;
  let bytes = 0;
  for (const f of files) {
    const unsafe = unsafePathReason(f.path);
    if (unsafe) {
      ctx.reportFile(f.path, 'unsafe-path', `${JSON.stringify(f.path)} is refused: ${unsafe}`);
      continue;
    }
    if (admitted.has(f.path)) continue;
    if (f.kind === 'symlink') {
      ctx.reportFile(f.path, 'symlink-refused', `${f.path} is a symbolic link; links are not followed: commit the file itself`);
      continue;
    }
    const size = Math.max(f.size ?? 0, typeof f.content === 'string' ? Buffer.byteLength(f.content, 'utf8') : f.content.byteLength);
    if (size > MAX_FILE_BYTES) {
      ctx.reportFile(f.path, 'file-too-large', `${f.path} has ${size} bytes; files may have at most ${MAX_FILE_BYTES} bytes (1 MiB)`);
      continue;
    }
    count += 1;
    bytes += size;
    admitted.count = count;
    admitted.bytes = bytes;
    if (count > MAX_REPO_FILES || bytes > MAX_REPO_BYTES) {
      admitted.overLimit = true;
      ctx.reportFile(
        f.path,
        'repository-too-large',
        `${f.path} was not read: the repository exceeds ${MAX_REPO_FILES} relevant files or ${MAX_REPO_BYTES / (1024 * 1024)} MiB in total`,
      );
      continue;
    }
    if (typeof f.content !== 'string' && !isUtf8(f.content)) {
      ctx.reportFile(f.path, 'unparsable-yaml', `${f.path} is not valid UTF-8 text`);
      continue;
    }
    admitted.add(f.path, f.content);
  }
  return admitted;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Text without a byte-order mark; `content` was checked to be UTF-8 on admission. */
export function decode(content: Uint8Array | string): string {
  if (typeof content === 'string') return content.startsWith('\uFEFF') ? content.slice(1) : content;
  return UTF8.decode(content);
}
