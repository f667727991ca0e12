// `ozy import compose FILE [-o DIR] [--pod NAME]`: a docker-compose file →
// job files DIR/jobs/<job>.yaml (docs/compose.md). The mapping is the pure
// core in src/compose/; this reads the files, prints what was not carried
// over, and writes the jobs (never over an existing one).
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { composeDirReader, readBounded, readDotenv, writeJobFiles } from '../../compose/disk';
import { importCompose } from '../../compose/import-compose';
import { ComposeError, isLoss, type ComposeFinding, type ImportResult } from '../../compose/types';
import { isValidJobName } from '../../render/job-name';
import type { Command, CommandIo } from '../command';
import { plural } from '../format';

const USAGE = `Usage: ozy import compose FILE [-o DIR] [--pod NAME]

Turns a docker-compose file into job files: one job per service, named after
it (as a DNS-1123 label), or with --pod one job NAME whose containers are all
the services (sharing localhost; depends_on becomes their start order).
Writes DIR/jobs/<job>.yaml, which \`ozy validate DIR\` accepts, and never
overwrites a job file: if one of the jobs exists under DIR/jobs already,
nothing is written.

Variables are interpolated as Compose does (\${VAR}, \${VAR:-default},
\${VAR:?error}, $$ …) from the environment and the .env file beside FILE.
Every compose key that could not be carried over is printed on stderr with
its path and why; so are notes on keys carried with a change (a default
memory or cpu, env_file values that belong in secrets). See docs/compose.md.

Options:
  -o, --output DIR   the job repository's root (default: the current directory)
  --pod NAME         all services as containers of one job NAME
  -h, --help

Exit status: 0 everything carried over, 3 some keys or services left out,
1 nothing could be imported (not a compose file, no importable service,
a job file exists already), 2 usage error.
`;

const KIND: Record<ComposeFinding['kind'], string> = { refused: 'refused', 'left-out': 'left out', note: 'note' };

export const command: Command = {
  summary: 'turn a docker-compose file into job files (exit 0 all carried, 3 partly, 1 none)',
  usage: USAGE,
  async run(argv: string[], io: CommandIo): Promise<number> {
    let file: string;
    let shown: string;
    let dir: string;
    let pod: string | undefined;
    try {
      const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { output: { type: 'string', short: 'o' }, pod: { type: 'string' } },
      });
      if (positionals[0] !== 'compose') throw new Error('expected: compose FILE');
      if (positionals.length !== 2) throw new Error(`expected one FILE, got ${positionals.length - 1}`);
      shown = positionals[1]!;
      file = path.resolve(io.cwd, shown);
      dir = path.resolve(io.cwd, values.output ?? '.');
      pod = values.pod;
      if (pod !== undefined && !isValidJobName(pod)) throw new Error(`--pod ${JSON.stringify(pod)} is not a job name: a DNS-1123 label of at most 52 characters (lowercase letters, digits and '-')`);
    } catch (err) {
      io.stderr.write(`ozy import: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
      return 2;
    }
    let result: ImportResult;
    try {
      const text = readBounded(file);
      const dotenv = readDotenv(file);
      result = importCompose({
        text,
        source: path.basename(file),
        env: io.env,
        files: composeDirReader(path.dirname(file)),
        ...(dotenv !== undefined ? { dotenv } : {}),
        ...(pod !== undefined ? { pod } : {}),
      });
    } catch (err) {
      if (!(err instanceof ComposeError) && !isFsError(err)) throw err;
      io.stderr.write(`ozy import: ${shown}: ${err.message}\n`);
      return 1;
    }
    for (const f of result.findings) io.stderr.write(`${f.path || '(file)'}: ${KIND[f.kind]}: ${f.why}\n`);
    const losses = result.findings.filter(isLoss).length;
    if (result.jobs.length === 0) {
      io.stderr.write(`ozy import: ${shown}: no service could be imported; nothing written\n`);
      return 1;
    }
    const outcome = writeJobFiles(dir, result.jobs);
    if (!outcome.ok) {
      io.stderr.write(`ozy import: ${outcome.why}${outcome.conflicts.length > 0 ? `: ${outcome.conflicts.join(', ')}` : ''}; nothing written (remove them, or import into another -o DIR)\n`);
      return 1;
    }
    const shownDir = displayed(io.cwd, dir);
    result.jobs.forEach((j, i) => {
      const from = j.services.length === 1 ? `service ${j.services[0]}` : `services ${j.services.join(', ')}`;
      io.stdout.write(`wrote ${path.join(shownDir, outcome.written[i]!)} (${from})\n`);
    });
    const summary = losses === 0 ? 'everything carried over' : `${plural(losses, 'key')} not carried over (listed on stderr)`;
    io.stdout.write(`${plural(result.jobs.length, 'job')} written; ${summary}. Next: ozy validate ${shownDir}\n`);
    return losses > 0 ? 3 : 0;
  },
};

/** DIR as the user would type it: relative below the working directory, else absolute. */
function displayed(cwd: string, dir: string): string {
  const rel = path.relative(cwd, dir);
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? dir : rel;
}

function isFsError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}
