// Output helpers shared by the commands that print problems.
import type { Problem } from '../model/problem';
import { problemTypeOf } from '../problems';
import type { RenderProblem } from '../render';

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
