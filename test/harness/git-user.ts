// A test "user" of the job repository: a working copy driven by the real git
// CLI, committing and pushing over smart HTTP like a person or a CI job would.
// Its config is local to its own temp dir; the machine's git config is
// neither read nor changed.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { isolatedGitEnv } from './git-server';
import { tempDir } from './tmp';

const run = promisify(execFile);

export interface GitUserOptions {
  /** Branch the user works on. Default "main". */
  branch?: string;
  /** Basic credentials, put into the clone's remote URL (test-only). */
  auth?: { username: string; password: string };
}

export interface GitUser {
  /** The working copy. */
  dir: string;
  branch: string;
  /** Writes (string) or deletes (null) files in the working copy, creating directories as needed. */
  writeFiles(files: Record<string, string | null>): void;
  /** Stages everything and commits; returns the new commit SHA. */
  commit(message: string): Promise<string>;
  /** Pushes the branch (fails if the remote moved); returns the pushed SHA. */
  push(): Promise<string>;
  commitAndPush(message: string): Promise<string>;
  /** Starts a history unrelated to the current one: an orphan branch with an empty index and work tree. */
  startUnrelatedHistory(): Promise<void>;
  /** Pushes with --force; returns the pushed SHA. */
  forcePush(): Promise<string>;
  /** Fetches and hard-resets to the remote branch (e.g. to pick up pushed reports); returns its SHA. */
  pull(): Promise<string>;
  /** The SHA of a branch on the server, or null when it does not exist. */
  remoteHead(branch?: string): Promise<string | null>;
  /** A file's content on a server branch (fetched fresh), or null when absent. */
  readRemoteFile(branch: string, filePath: string): Promise<string | null>;
  /** Paths under `dir` on a server branch (fetched fresh). */
  listRemoteFiles(branch: string, dir?: string): Promise<string[]>;
  /** Number of commits reachable from a server branch (fetched fresh). */
  commitCount(branch: string): Promise<number>;
  /** Runs any git command in the working copy; returns stdout. */
  git(...args: string[]): Promise<string>;
  cleanup(): void;
}

function withAuth(url: string, auth: GitUserOptions['auth']): string {
  if (!auth) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(auth.username);
  u.password = encodeURIComponent(auth.password);
  return u.toString();
}

/** Clones `url` (empty repositories too) into a fresh temp dir as a user with a local identity. */
export async function cloneAsUser(url: string, opts: GitUserOptions = {}): Promise<GitUser> {
  const branch = opts.branch ?? 'main';
  const tmp = tempDir('ozy-git-user-');
  const dir = path.join(tmp.dir, 'work');
  const env = isolatedGitEnv(tmp.dir);
  const git = async (...args: string[]): Promise<string> => (await run('git', args, { cwd: dir, env })).stdout.trim();

  await run('git', ['clone', '--quiet', withAuth(url, opts.auth), dir], { env });
  await git('config', 'user.name', 'Test User');
  await git('config', 'user.email', 'user@example.test');
  const remoteHasBranch = (await git('ls-remote', '--heads', 'origin', branch)) !== '';
  if (remoteHasBranch) await git('checkout', '--quiet', '-B', branch, `origin/${branch}`);
  else await git('symbolic-ref', 'HEAD', `refs/heads/${branch}`);

  const fetchBranch = async (b: string): Promise<boolean> => {
    if ((await git('ls-remote', '--heads', 'origin', b)) === '') return false;
    await git('fetch', '--quiet', '--force', 'origin', `+refs/heads/${b}:refs/remotes/origin/${b}`);
    return true;
  };

  const user: GitUser = {
    dir,
    branch,
    writeFiles(files) {
      for (const [rel, content] of Object.entries(files)) {
        const file = path.join(dir, rel);
        if (content === null) {
          fs.rmSync(file, { force: true });
        } else {
          fs.mkdirSync(path.dirname(file), { recursive: true });
          fs.writeFileSync(file, content);
        }
      }
    },
    async commit(message) {
      await git('add', '--all');
      await git('commit', '--quiet', '--allow-empty', '-m', message);
      return git('rev-parse', 'HEAD');
    },
    async push() {
      await git('push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
      return git('rev-parse', 'HEAD');
    },
    async commitAndPush(message) {
      await user.commit(message);
      return user.push();
    },
    async startUnrelatedHistory() {
      await git('checkout', '--quiet', '--orphan', `unrelated-${Date.now()}`);
      await git('rm', '-r', '--quiet', '--force', '--ignore-unmatch', '.');
      await git('clean', '-fdq');
    },
    async forcePush() {
      await git('push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`);
      return git('rev-parse', 'HEAD');
    },
    async pull() {
      await fetchBranch(branch);
      await git('checkout', '--quiet', '-B', branch, `origin/${branch}`);
      await git('reset', '--quiet', '--hard', `origin/${branch}`);
      return git('rev-parse', 'HEAD');
    },
    async remoteHead(b = branch) {
      const line = await git('ls-remote', '--heads', 'origin', b);
      return line === '' ? null : line.split(/\s+/)[0]!;
    },
    async readRemoteFile(b, filePath) {
      if (!(await fetchBranch(b))) return null;
      try {
        return (await run('git', ['show', `origin/${b}:${filePath}`], { cwd: dir, env })).stdout;
      } catch {
        return null;
      }
    },
    async listRemoteFiles(b, sub) {
      if (!(await fetchBranch(b))) return [];
      const out = await git('ls-tree', '-r', '--name-only', `origin/${b}`, ...(sub ? ['--', sub] : []));
      return out === '' ? [] : out.split('\n');
    },
    async commitCount(b) {
      if (!(await fetchBranch(b))) return 0;
      return Number(await git('rev-list', '--count', `origin/${b}`));
    },
    git,
    cleanup: () => tmp.cleanup(),
  };
  return user;
}
