// The test git smart-HTTP server (test/harness/git-server.ts) in a process
// of its own: serving a fetch spawns `git http-backend` and pipes packs,
// work that must not count into the CPU of the process being measured.
// The child creates one bare repository and prints its URL; closing its
// stdin (or the parent dying) stops it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startGitServer } from '../../test/harness/git-server';

export interface GitServerProcess {
  /** URL of the bare repository the child created. */
  url: string;
  pid: number;
  /** Every request the server received so far, as "METHOD /path?query", in arrival order. */
  requests: string[];
  stop(): Promise<void>;
}

export async function startGitServerProcess(repo = 'jobs'): Promise<GitServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [__filename, '--serve', repo], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const requests: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch (err) {
        reject(err);
      }
      // Every later line is one request the server received.
      lines.on('line', (req) => requests.push(req));
    });
    child.once('exit', (code) => reject(new Error(`git server process exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid!,
    requests,
    async stop() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function serve(repo: string): Promise<void> {
  const server = await startGitServer({ onRequest: (method, pathAndQuery) => process.stdout.write(`${method} ${pathAndQuery}\n`) });
  await server.createBareRepo(repo);
  process.stdout.write(`${JSON.stringify({ url: server.url(repo) })}\n`);
  const stop = (): void => {
    void server.stop().finally(() => process.exit(0));
  };
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
}

if (require.main === module && process.argv[2] === '--serve') {
  serve(process.argv[3] ?? 'jobs').catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
