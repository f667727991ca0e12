// Compiling a set of template files into one library of named templates,
// and running one of them. renderChart builds on this; renderTemplate is
// the same machinery for a single text (unit tests, `tpl`-like uses).
import type { Node } from './ast';
import { TemplateFailure, type TemplateError } from './errors';
import { Evaluator, type TemplateLibrary } from './evaluator';
import { FUNCTION_NAMES } from './functions';
import { Budget, DEFAULT_LIMITS, Output, type Limits } from './limits';
import { parse } from './parser';
import { TemplateSource } from './source';

export interface CompiledTemplates {
  /** File name → its top-level body. */
  files: Map<string, Node[]>;
  /** Every `define`d template of every file (files later in name order win a clash). */
  library: TemplateLibrary;
}

/** Parses every file; reports the parse errors of all files at once. */
export function compileTemplates(
  files: Readonly<Record<string, string>>,
  limits: Readonly<Limits>,
  /** When set, each file is also a template named prefix + file name (Helm: `include "chart/templates/_x.tpl"`). */
  fileTemplatePrefix?: string,
): { ok: true; compiled: CompiledTemplates } | { ok: false; errors: TemplateError[] } {
  const bodies = new Map<string, Node[]>();
  const library = new Map<string, Node[]>();
  const errors: TemplateError[] = [];
  for (const name of Object.keys(files).sort()) {
    try {
      const parsed = parse(new TemplateSource(name, files[name] as string), { functions: FUNCTION_NAMES, maxNesting: limits.maxNesting });
      bodies.set(name, parsed.root);
      if (fileTemplatePrefix !== undefined) library.set(fileTemplatePrefix + name, parsed.root);
      for (const [defined, body] of parsed.defines) library.set(defined, body);
    } catch (e) {
      errors.push(asTemplateError(e, name));
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, compiled: { files: bodies, library } };
}

/** Runs one compiled file; the budget may be shared by several runs (one chart). */
export function executeFile(
  compiled: CompiledTemplates,
  name: string,
  data: unknown,
  budget: Budget,
): { ok: true; text: string } | { ok: false; error: TemplateError } {
  const body = compiled.files.get(name);
  if (!body) return { ok: false, error: { template: name, line: 1, message: `no template file ${JSON.stringify(name)}` } };
  const out = new Output(budget, true);
  try {
    new Evaluator(budget).execute(body, data, out, compiled.library);
    return { ok: true, text: out.text() };
  } catch (e) {
    return { ok: false, error: asTemplateError(e, name) };
  }
}

/**
 * Converts whatever a template run threw into a TemplateError. A failure
 * that is not a TemplateFailure is an engine bug; it is still reported as
 * a template error (untrusted input must not take the caller down).
 */
export function asTemplateError(e: unknown, template: string): TemplateError {
  if (e instanceof TemplateFailure) return e.detail;
  const message = e instanceof Error ? e.message : String(e);
  return { template, line: 1, message: `internal template engine error: ${message}` };
}

export interface RenderTemplateOptions {
  /** Name used in errors (default "template"). */
  name?: string;
  /** Other files whose `define`s the text may use, by file name. */
  helpers?: Readonly<Record<string, string>>;
  limits?: Partial<Limits>;
}

/** Renders a single template text with `data` as dot (and `$`). */
export function renderTemplate(
  text: string,
  data: unknown,
  opts: RenderTemplateOptions = {},
): { ok: true; text: string } | { ok: false; errors: TemplateError[] } {
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const name = opts.name ?? 'template';
  const compiled = compileTemplates({ ...opts.helpers, [name]: text }, limits);
  if (!compiled.ok) return compiled;
  const result = executeFile(compiled.compiled, name, data, new Budget(limits));
  return result.ok ? result : { ok: false, errors: [result.error] };
}
