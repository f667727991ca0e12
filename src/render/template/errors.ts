// Errors of the template engine. Everything that goes wrong while parsing or
// executing a template ends up as a TemplateFailure that knows its file, line
// and column; renderChart turns those into plain TemplateError values.
import type { Loc } from './source';

/** A template problem as other modules see it (plain data, no class). */
export interface TemplateError {
  /** File name under templates/ (or Chart.yaml / values.yaml). */
  template: string;
  /** 1-based. */
  line: number;
  /** 1-based, when known. */
  column?: number;
  message: string;
}

/** A located failure; never retryable: the same input fails the same way. */
export class TemplateFailure extends Error {
  readonly code = 'template-error';
  readonly retryable = false;

  constructor(readonly detail: TemplateError) {
    super(`${detail.template}:${detail.line}${detail.column !== undefined ? `:${detail.column}` : ''}: ${detail.message}`);
    this.name = 'TemplateFailure';
  }

  static at(loc: Loc, message: string): TemplateFailure {
    const { line, column } = loc.source.position(loc.pos);
    return new TemplateFailure({ template: loc.source.name, line, column, message });
  }
}

/**
 * Raised by template functions and value helpers, which do not know where
 * they were called from; the evaluator attaches the location of the call.
 * `bare` keeps the message as is (for `required` and `fail`, whose message
 * is the author's), otherwise it is prefixed with "error calling <fn>: ".
 */
export class FunctionError extends Error {
  readonly code: string = 'template-function-error';
  readonly retryable: boolean = false;

  constructor(message: string, readonly bare = false) {
    super(message);
    this.name = 'FunctionError';
  }
}

/** A resource bound was hit (steps, output size, nesting): the template is hostile or broken. */
export class LimitExceeded extends FunctionError {
  override readonly code = 'template-limit-exceeded';

  constructor(message: string) {
    super(message, true);
    this.name = 'LimitExceeded';
  }
}
