// "RSS of an agent while a hostile 200 MB blob is pushed" (docs/benchmarks.md,
// docs/security.md "Untrusted repositories"). Two stand-ins for an agent's
// git side (test/integration/source/fetch-child.ts, each its own process so
// that its memory is measured alone) track one repository; a user pushes a
// 200 MB file of random bytes under jobs/; each then syncs: one with the
// fetch limits (the default), one with the limits lifted (what an agent did
// before them). Prints the peak-RSS growth, RSS after, time and outcome.
//   flock /tmp/ozy-integration.lock node dist/bench/hostile-fetch.js [MB]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { startGitServer } from '../test/harness/git-server';
import { cloneAsUser } from '../test/harness/git-user';
import { tempDir } from '../test/harness/tmp';
import type { ChildReply } from '../test/integration/source/fetch-child';
import { describeMachine } from './lib/machine';

const MB = 1024 * 1024;
const CHILD = path.join(__dirname, '..', 'test', 'integration', 'source', 'fetch-child.js');
const NO_LIMITS = { maxPackBytes: 1e15, maxObjects: 1e15, maxObjectBytes: 1e15, maxInflatedBytes: 1e15 };

function agent(url: string, dir: string, limits?: object): { sync(): Promise<ChildReply>; stop(): void } {
  const child = spawn(process.execPath, [CHILD, url, dir, ...(limits ? [JSON.stringify(limits)] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const queue: Array<(line: string) => void> = [];
  lines.on('line', (line) => queue.shift()?.(line));
  return {
    sync: () =>
      new Promise((resolve) => {
        queue.push((line) => resolve(JSON.parse(line) as ChildReply));
        child.stdin.write('{"cmd":"sync"}\n');
      }),
    stop: () => child.kill('SIGKILL'),
  };
}

async function main(): Promise<void> {
  const size = Number(process.argv[2] ?? 200) * MB;
  const tmp = tempDir('ozy-bench-hostile-');
  const server = await startGitServer();
  try {
    await server.createBareRepo('jobs');
    const user = await cloneAsUser(server.url('jobs'));
    user.writeFiles({ 'jobs/web.yaml': 'name: web\ncontainers:\n  app:\n    image: localhost/ozy-busybox:1\n' });
    await user.commitAndPush('web');
    const guarded = agent(server.url('jobs'), path.join(tmp.dir, 'guarded'));
    const open = agent(server.url('jobs'), path.join(tmp.dir, 'open'), NO_LIMITS);
    const before = { guarded: await guarded.sync(), open: await open.sync() };

    const fd = fs.openSync(path.join(user.dir, 'jobs/huge.yaml'), 'w');
    for (let left = size; left > 0; left -= MB) fs.writeSync(fd, randomBytes(Math.min(MB, left)));
    fs.closeSync(fd);
    await user.commitAndPush(`a ${size / MB} MB job file`);

    const m = describeMachine();
    console.log(`machine: ${m.cpuModel}, ${m.cores} cores, ${(m.ramBytes / 2 ** 30).toFixed(0)} GiB, Node ${m.node}, git ${m.tools.git}, load ${m.loadAverage}`);
    for (const [name, a] of [['with the fetch limits', guarded], ['limits lifted', open]] as const) {
      const start = Date.now();
      const r = await a.sync();
      const ms = Date.now() - start;
      const b = name === 'limits lifted' ? before.open : before.guarded;
      console.log(
        `${name}: peak RSS +${((r.maxRssAfter - r.maxRssBefore) / MB).toFixed(1)} MiB ` +
          `(${(b.rss / MB).toFixed(1)} → peak ${(r.maxRssAfter / MB).toFixed(1)} MiB, ${(r.rss / MB).toFixed(1)} MiB after), ` +
          `${ms} ms, ${r.error ? `${r.error.code}` : `fetched; problems: ${r.problems.map((p) => `${p.file} ${p.type}`).join(', ')}`}`,
      );
      a.stop();
    }
    user.cleanup();
  } finally {
    await server.stop();
    tmp.cleanup();
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
