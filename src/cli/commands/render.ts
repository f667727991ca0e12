// `ozy render [DIR]`: the job set after templates, as the agents will see it,
// in the raw job format with every default spelled out.
import { redactSpec } from '../../model/redact';
import type { Command } from '../command';
import { formatProblems, plural, renderDirCommand } from '../format';
import { toRawJob, toYaml } from '../../render';

const USAGE = `Usage: ozy render [DIR] [--json] [--show-values]

Renders the job repository checked out in DIR (default: the current
directory): job files and charts become job documents, printed as YAML
separated by '---' (each preceded by a "# Source:" comment), with defaults
filled in and units normalized. Environment values print as (redacted);
a secret prints as its name. Problems go to stderr.

Options:
  --json          print a JSON array of jobs instead
  --show-values   print plain environment values (secrets stay encrypted)
  -h, --help

Exit status: 0 every job rendered, 1 some problems, 2 usage error or unreadable DIR.
`;

export const command: Command = {
  summary: 'print the job set after templates, as YAML',
  usage: USAGE,
  async run(argv, io) {
    const showValues = argv.includes('--show-values');
    const start = await renderDirCommand('render', USAGE, argv.filter((a) => a !== '--show-values'), io);
    if (typeof start === 'number') return start;
    const { json, result } = start;
    const { problems } = result;
    // Environment values are redacted unless asked for (secrets are never decrypted here).
    const jobs = showValues ? result.jobs : result.jobs.map((j) => ({ ...j, spec: redactSpec(j.spec) }));
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
