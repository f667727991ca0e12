// The importer's I/O, kept out of the pure core: reading the files a compose
// file names (env_file) without letting it reach outside its own directory,
// and writing job files without overwriting anything or following links.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_DIR_DEPTH, MAX_DIR_ENTRIES, MAX_FILE_BYTES } from '../render/limits';
import type { FileReader } from './environment';

/**
 * Files below `dir` only: a compose file from elsewhere must not be able to
 * copy, say, ~/.aws/credentials into a job file that is then committed.
 */
export function composeDirReader(dir: string): FileReader {
  const root = fs.realpathSync(dir);
  return {
    read(rel) {
      if (path.isAbsolute(rel) || rel.startsWith('~')) {
        return { ok: false, missing: false, why: 'not read: only files in the compose file\'s directory (or below it) are read, by a relative path' };
      }
      let real: string;
      try {
        real = fs.realpathSync(path.resolve(root, rel));
      } catch (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        return { ok: false, missing, why: missing ? 'no such file' : `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
      }
      if (!real.startsWith(root + path.sep)) return { ok: false, missing: false, why: 'not read: it is outside the compose file\'s directory' };
      const st = fs.statSync(real);
      if (!st.isFile()) return { ok: false, missing: false, why: 'not a regular file' };
      if (st.size > MAX_FILE_BYTES) return { ok: false, missing: false, why: `larger than ${MAX_FILE_BYTES} bytes` };
      return { ok: true, text: fs.readFileSync(real, 'utf8') };
    },
  };
}

/** A compose file's text, bounded like every file the project reads. */
export function readBounded(file: string): string {
  const st = fs.statSync(file);
  if (!st.isFile()) throw new Error(`${file} is not a regular file`);
  if (st.size > MAX_FILE_BYTES) throw new Error(`${file} is larger than ${MAX_FILE_BYTES} bytes`);
  return fs.readFileSync(file, 'utf8');
}

/** `.env` beside the compose file, if it is a regular file. */
export function readDotenv(composeFile: string): string | undefined {
  const file = path.join(path.dirname(composeFile), '.env');
  try {
    return fs.lstatSync(file).isFile() ? readBounded(file) : undefined;
  } catch {
    return undefined;
  }
}

export type WriteOutcome = { ok: true; written: string[] } | { ok: false; why: string; conflicts: string[] };

/**
 * Writes `<dir>/jobs/<name>.yaml` for every file, or nothing: a job name
 * that some file under jobs/ already holds (any directory: names are unique
 * in a repository) is a conflict, and nothing is overwritten. Names are
 * DNS labels (checked by the caller's validator), so they cannot leave jobs/.
 */
export function writeJobFiles(dir: string, files: ReadonlyArray<{ name: string; text: string }>): WriteOutcome {
  const jobsDir = path.join(dir, 'jobs');
  const st = lstatOrUndefined(jobsDir);
  if (st && !st.isDirectory()) return { ok: false, why: `${jobsDir} is not a directory (a symbolic link is not followed)`, conflicts: [] };
  const existing = st ? existingJobNames(jobsDir) : new Map<string, string>();
  const conflicts = files.flatMap((f) => (existing.has(f.name) ? [path.join('jobs', existing.get(f.name)!)] : []));
  if (conflicts.length > 0) return { ok: false, why: 'these job files exist already', conflicts };
  fs.mkdirSync(jobsDir, { recursive: true });
  const written: string[] = [];
  for (const f of files) {
    // `wx`: fails if anything (a file, a dangling link) appeared there meanwhile.
    fs.writeFileSync(path.join(jobsDir, `${f.name}.yaml`), f.text, { flag: 'wx' });
    written.push(path.join('jobs', `${f.name}.yaml`));
  }
  return { ok: true, written };
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

/** Job name (file base name) → path under jobs/, for every *.yaml / *.yml, links not followed. */
function existingJobNames(jobsDir: string): Map<string, string> {
  const out = new Map<string, string>();
  let budget = MAX_DIR_ENTRIES;
  const walk = (rel: string, depth: number): void => {
    if (depth > MAX_DIR_DEPTH) return;
    for (const e of fs.readdirSync(path.join(jobsDir, rel), { withFileTypes: true })) {
      if (--budget < 0) return;
      const p = rel === '' ? e.name : path.join(rel, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (/\.ya?ml$/.test(e.name)) out.set(e.name.replace(/\.ya?ml$/, ''), p);
    }
  };
  walk('', 0);
  return out;
}
