// `ozy validate [DIR]`: judge a checkout of a job repository the way the
// agents will, and print every problem. Exit 0 valid, 1 invalid, 2 usage.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command';
import { formatProblems, plural } from '../format';
import { renderRepoDir, RepoDirError } from '../../render';

const USAGE = `Usage: ozy validate [DIR] [--json]

Validates the job repository checked out in DIR (default: the current
directory): jobs/**/*.yaml, charts under jobs/, and ozy.yaml. Prints each
problem with its file, JSON pointer and message.

Options:
  --json   print a JSON array of problem-details objects (RFC 9457)
  -h, --help

Exit status: 0 valid, 1 invalid, 2 usage error or unreadable DIR.
`;

export const command: Command = {
  summary: 'validate a job repository checkout (exit 0 valid, 1 invalid)',
  usage: USAGE,
  async run(argv, io) {
    let json: boolean;
    let dirArg: string | undefined;
    try {
      const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
      if (positionals.length > 1) throw new Error(`expected at most one DIR, got ${positionals.length}`);
      json = values.json === true;
      dirArg = positionals[0];
    } catch (err) {
      io.stderr.write(`ozy validate: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
      return 2;
    }
    const dir = path.resolve(io.cwd, dirArg ?? '.');
    let result;
    try {
      result = await renderRepoDir(dir);
    } catch (err) {
      if (!(err instanceof RepoDirError)) throw err;
      io.stderr.write(`ozy validate: ${err.message}\n`);
      return 2;
    }
    const { jobs, problems } = result;
    if (json) {
      io.stdout.write(`${JSON.stringify(problems.map((p) => p.problem), null, 2)}\n`);
    } else if (problems.length > 0) {
      io.stdout.write(`${formatProblems(problems)}\n${plural(problems.length, 'problem')}; ${plural(jobs.length, 'valid job')}.\n`);
    } else {
      io.stdout.write(`ok: ${plural(jobs.length, 'valid job')}${jobs.length > 0 ? `: ${jobs.map((j) => j.spec.name).join(', ')}` : ''}\n`);
    }
    return problems.length > 0 ? 1 : 0;
  },
};
