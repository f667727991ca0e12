// The job repository `ozy up` serves, made with the git CLI. It lives in
// the state dir, so a restart of `ozy up` keeps what the user pushed; it is
// created once:
//   - from examples/ (default) or any directory of job files: its files
//     become the first commit on the branch;
//   - from a git working copy (--repo-dir with a .git): a bare clone, all
//     branches kept (git refuses pushes into a checked-out branch, and the
//     agents push their reports to the tracked branch).
// A bare repository given with --repo-dir is served in place.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { UpError } from './errors';
import { isolatedGitEnv } from './git-http';

const run = promisify(execFile);

/** Name of the file in our bare repositories that records what they were made from. */
const SOURCE_MARKER = 'ozy-up-source';

export interface PrepareRepoOptions {
  /** Files or repository to serve (absolute). */
  source: string;
  /** Where our own bare repository lives (absolute), e.g. <state>/git/jobs.git. */
  bareDir: string;
  /** The branch the agents track. */
  branch: string;
  /** HOME for git (an empty dir of ours). */
  home: string;
  /** Commit message of the first commit when importing files. */
  message?: string;
}

export interface PreparedRepo {
  /** The bare repository served. */
  dir: string;
  /** created: made now; reused: made by an earlier run; in-place: the user's bare repository. */
  how: 'created' | 'reused' | 'in-place';
  /** The tracked branch's commit, or null when the branch does not exist yet. */
  head: string | null;
}

export async function prepareJobRepo(opts: PrepareRepoOptions): Promise<PreparedRepo> {
  const env = { ...isolatedGitEnv(opts.home), ...identity() };
  fs.mkdirSync(opts.home, { recursive: true });
  const git = async (args: string[], cwd?: string): Promise<string> => {
    try {
      return (await run('git', args, { env, ...(cwd ? { cwd } : {}), maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new UpError('UP_REPO_INVALID', `git ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`, false, { cause: err });
    }
  };
  const headOf = (dir: string): Promise<string | null> =>
    git(['--git-dir', dir, 'rev-parse', '--verify', '--quiet', `refs/heads/${opts.branch}^{commit}`]).catch(() => null).then((s) => s || null);

  if (!fs.existsSync(opts.source) || !fs.statSync(opts.source).isDirectory()) {
    throw new UpError('UP_REPO_INVALID', `${opts.source} is not a directory`);
  }
  if (await isBareRepo(opts.source, git)) {
    return { dir: opts.source, how: 'in-place', head: await headOf(opts.source) };
  }

  if (fs.existsSync(opts.bareDir)) {
    const recorded = readMarker(opts.bareDir);
    if (recorded !== undefined && recorded !== opts.source) {
      throw new UpError(
        'UP_REPO_INVALID',
        `the state dir already serves a repository made from ${recorded} (${opts.bareDir}); ` +
          `use another --state-dir to serve ${opts.source}, or remove ${opts.bareDir} to start over`,
      );
    }
    return { dir: opts.bareDir, how: 'reused', head: await headOf(opts.bareDir) };
  }

  // Build in a temporary sibling and rename at the end: a half-made repository is never served.
  const building = `${opts.bareDir}.partial-${process.pid}`;
  fs.rmSync(building, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(opts.bareDir), { recursive: true });
  try {
    if (fs.existsSync(path.join(opts.source, '.git'))) {
      await git(['clone', '--quiet', '--bare', opts.source, building]);
      if ((await headOf(building)) === null) {
        throw new UpError('UP_REPO_INVALID', `${opts.source} has no branch "${opts.branch}" (choose one with --branch)`);
      }
      await git(['--git-dir', building, 'symbolic-ref', 'HEAD', `refs/heads/${opts.branch}`]);
    } else {
      await git(['init', '--quiet', '--bare', `--initial-branch=${opts.branch}`, building]);
      // Commit the directory's files straight into the bare repository through a throwaway index.
      const index = path.join(building, 'ozy-up-import-index');
      const withIndex = { ...env, GIT_INDEX_FILE: index };
      const plumbing = (args: string[]) => run('git', ['--git-dir', building, '--work-tree', opts.source, ...args], { env: withIndex });
      await plumbing(['add', '--all', '--', '.']);
      await plumbing(['commit', '--quiet', '--allow-empty', '-m', opts.message ?? `Initial job repository, copied from ${opts.source}`]);
      fs.rmSync(index, { force: true });
    }
    // receive-pack over HTTP is on when REMOTE_USER is set; say so explicitly anyway.
    await git(['--git-dir', building, 'config', 'http.receivepack', 'true']);
    fs.writeFileSync(path.join(building, SOURCE_MARKER), `${opts.source}\n`);
    fs.renameSync(building, opts.bareDir);
  } catch (err) {
    fs.rmSync(building, { recursive: true, force: true });
    throw err;
  }
  return { dir: opts.bareDir, how: 'created', head: await headOf(opts.bareDir) };
}

async function isBareRepo(dir: string, git: (args: string[], cwd?: string) => Promise<string>): Promise<boolean> {
  // A bare repository has HEAD, objects/ and refs/ at its top; rev-parse confirms it is one of its own,
  // not a directory inside some other repository's work tree.
  if (!['HEAD', 'objects', 'refs'].every((f) => fs.existsSync(path.join(dir, f)))) return false;
  const out = await git(['--git-dir', dir, 'rev-parse', '--is-bare-repository']).catch(() => 'false');
  return out === 'true';
}

function readMarker(bareDir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(bareDir, SOURCE_MARKER), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function identity(): NodeJS.ProcessEnv {
  return {
    GIT_AUTHOR_NAME: 'ozy up',
    GIT_AUTHOR_EMAIL: 'ozy-up@localhost',
    GIT_COMMITTER_NAME: 'ozy up',
    GIT_COMMITTER_EMAIL: 'ozy-up@localhost',
  };
}
