// A stand-in for an agent's git side, run as its own process so that its
// memory can be measured alone (the git server and the pushing user live in
// the test's process). Reads one JSON command per stdin line, answers one
// JSON line on stdout: { cmd: 'sync' } fetches, reads the job files of the
// head it has (the new one, or the last good one when the fetch failed) and
// renders them, as the agent's brain does.
import * as readline from 'node:readline';
import { renderRepo, isRelevantPath } from '../../../src/render';
import { problemTypeOf } from '../../../src/problems';
import { GitSource, GitSourceError, type FetchLimits, type RepoFile } from '../../../src/source';

export interface ChildReply {
  head: string | undefined;
  error?: { code: string; message: string };
  jobs: string[];
  problems: Array<{ file: string; type: string }>;
  /** Resident set size now, and its high-water mark before and after this command, bytes. */
  rss: number;
  maxRssBefore: number;
  maxRssAfter: number;
  blobsRead: number;
  blobsSized: number;
}

const [url, dir, limitsJson] = process.argv.slice(2);
const limits = limitsJson ? (JSON.parse(limitsJson) as Partial<FetchLimits>) : undefined;
const source = new GitSource({ url: url!, branch: 'main', dir: dir!, ...(limits ? { fetchLimits: limits } : {}) });
let head: string | undefined;
let files: RepoFile[] = [];

async function sync(): Promise<ChildReply> {
  const maxRssBefore = process.resourceUsage().maxRSS * 1024;
  let error: ChildReply['error'];
  try {
    const next = (await source.sync()).head;
    const read = await source.readFiles(next, isRelevantPath, head ? { commit: head, files } : undefined);
    head = next;
    files = read.files;
  } catch (err) {
    error = err instanceof GitSourceError ? { code: err.code, message: err.message } : { code: 'UNEXPECTED', message: String(err) };
  }
  const render = renderRepo(files, head ? { commit: head } : {});
  return {
    head,
    ...(error ? { error } : {}),
    jobs: render.jobs.map((j) => j.spec.name),
    problems: render.problems.map((p) => ({ file: p.file, type: problemTypeOf(p.problem) })),
    rss: process.memoryUsage().rss,
    maxRssBefore,
    maxRssAfter: process.resourceUsage().maxRSS * 1024,
    blobsRead: source.stats.blobsRead,
    blobsSized: source.stats.blobsSized,
  };
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const { cmd } = JSON.parse(line) as { cmd: string };
  if (cmd !== 'sync') throw new Error(`unknown command ${cmd}`);
  void sync().then((reply) => process.stdout.write(`${JSON.stringify(reply)}\n`));
});
