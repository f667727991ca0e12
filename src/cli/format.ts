// Output helpers shared by the commands that print problems.
import type { Problem } from '../model/problem';
import { problemTypeOf } from '../problems';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { RepoDirError, renderRepoDir, type RenderProblem, type RenderResult } from '../render';
import type { CommandIo } from './command';

/**
 * One block per problem: the file, the title and type, the job when known,
 * then each field error (pointer and message), or the detail when there are none.
 */
export function formatProblems(problems: readonly RenderProblem[]): string {
  return problems.map((p) => formatProblem(p.problem, p.file)).join('');
}

export function formatProblem(problem: Problem, fallbackFile: string): string {
  const file = typeof problem.file === 'string' ? problem.file : fallbackFile;
  const job = typeof problem.job === 'string' ? ` (job ${problem.job})` : '';
  const lines = [`${file}: ${problem.title} [${problemTypeOf(problem)}]${job}`];
  if (problem.errors && problem.errors.length > 0) {
    for (const e of problem.errors) lines.push(e.pointer === '' ? `  ${e.message}` : `  at ${e.pointer}: ${e.message}`);
  } else {
    lines.push(`  ${problem.detail}`);
  }
  lines.push(`  see ${problem.type}`);
  return `${lines.join('\n')}\n`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The shared start of `ozy validate` and `ozy render`: parse `[DIR] [--json]`
 * and render DIR. Returns the exit code 2 (usage error, unreadable DIR)
 * after printing why, or the result.
 */
export async function renderDirCommand(
  name: string,
  usage: string,
  argv: string[],
  io: CommandIo,
): Promise<number | { json: boolean; result: RenderResult }> {
  let json: boolean;
  let dirArg: string | undefined;
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
    if (positionals.length > 1) throw new Error(`expected at most one DIR, got ${positionals.length}`);
    json = values.json === true;
    dirArg = positionals[0];
  } catch (err) {
    io.stderr.write(`ozy ${name}: ${err instanceof Error ? err.message : String(err)}\n\n${usage}`);
    return 2;
  }
  try {
    return { json, result: await renderRepoDir(path.resolve(io.cwd, dirArg ?? '.')) };
  } catch (err) {
    if (!(err instanceof RepoDirError)) throw err;
    io.stderr.write(`ozy ${name}: ${err.message}\n`);
    return 2;
  }
}
