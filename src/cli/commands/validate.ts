// `ozy validate [DIR]`: judge a checkout of a job repository the way the
// agents will, and print every problem. Exit 0 valid, 1 invalid, 2 usage.
import type { Command } from '../command';
import { formatProblems, plural, renderDirCommand } from '../format';

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
    const start = await renderDirCommand('validate', USAGE, argv, io);
    if (typeof start === 'number') return start;
    const { json, result } = start;
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
