// `ozy render [DIR]`: the job set after templates, as the agents will see it,
// in the raw job format with every default spelled out.
import type { Command } from '../command';
import { formatProblems, plural, renderDirCommand } from '../format';
import { toRawJob, toYaml } from '../../render';

const USAGE = `Usage: ozy render [DIR] [--json]

Renders the job repository checked out in DIR (default: the current
directory): job files and charts become job documents, printed as YAML
separated by '---' (each preceded by a "# Source:" comment), with defaults
filled in and units normalized. Problems go to stderr.

Options:
  --json   print a JSON array of jobs instead
  -h, --help

Exit status: 0 every job rendered, 1 some problems, 2 usage error or unreadable DIR.
`;

export const command: Command = {
  summary: 'print the job set after templates, as YAML',
  usage: USAGE,
  async run(argv, io) {
    const start = await renderDirCommand('render', USAGE, argv, io);
    if (typeof start === 'number') return start;
    const { json, result } = start;
    const { jobs, problems } = result;
    if (json) {
      io.stdout.write(`${JSON.stringify(jobs.map((j) => toRawJob(j.spec)), null, 2)}\n`);
    } else {
      io.stdout.write(jobs.map((j) => `# Source: ${j.file}\n${toYaml(toRawJob(j.spec))}`).join('---\n'));
    }
    if (problems.length > 0) {
      io.stderr.write(`${formatProblems(problems)}\n${plural(problems.length, 'problem')}; ${plural(jobs.length, 'job')} rendered.\n`);
      return 1;
    }
    return 0;
  },
};
