// What a template function is: an arity range and a pure call over values.
// Functions get a narrow context (the budget, and include/tpl which need
// the evaluator); nothing in it reaches the file system, the environment or
// the clock.
import type { Budget } from '../limits';

export interface CallContext {
  budget: Budget;
  /** Renders the named template with `data` as dot (for include). */
  include(name: string, data: unknown): string;
  /** Renders `text` as a template with `data` as dot (for tpl). */
  tpl(text: string, data: unknown): string;
}

export interface FunctionSpec {
  /** Fewest and most arguments; a piped value counts as the last argument. */
  min: number;
  max: number;
  call(args: unknown[], ctx: CallContext): unknown;
}

export type FunctionTable = ReadonlyMap<string, FunctionSpec>;

export function spec(min: number, max: number, call: (args: unknown[], ctx: CallContext) => unknown): FunctionSpec {
  return { min, max, call };
}
