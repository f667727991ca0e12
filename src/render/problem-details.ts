// Findings of one document → one RFC 9457 problem (src/problems.ts). The
// problem's type is the first finding's; `errors` lists them all.
import type { Problem } from '../model/problem';
import { makeProblem, type ProblemType } from '../problems';
import type { Finding } from './findings';

export interface ProblemContext {
  /** Repository-relative path the user should open. */
  file: string;
  job?: string;
  commit?: string;
  extra?: Record<string, unknown>;
}

export function problemFromFindings(findings: Finding[], ctx: ProblemContext): Problem {
  if (findings.length === 0) throw new Error('problemFromFindings: no findings');
  const first = findings[0]!;
  const detail = findings.length === 1 ? first.message : `${findings.length} problems; the first: ${first.message}`;
  return simpleProblem(first.type, detail, ctx, findings.map((f) => ({ pointer: f.pointer, message: f.message })));
}

export function simpleProblem(type: ProblemType, detail: string, ctx: ProblemContext, errors?: Problem['errors']): Problem {
  return makeProblem(type, {
    detail,
    file: ctx.file,
    ...(ctx.job !== undefined ? { job: ctx.job } : {}),
    ...(ctx.commit !== undefined ? { commit: ctx.commit } : {}),
    ...(errors !== undefined ? { errors } : {}),
    ...(ctx.extra !== undefined ? { extra: ctx.extra } : {}),
  });
}
