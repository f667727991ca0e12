// Helm-style chart templates (a Go text/template subset with Sprig's common
// functions), rendered safely from untrusted repositories.
//
//   lexer.ts → parser.ts (AST in ast.ts) → evaluator.ts, with functions/ as
//   the callable library, limits.ts bounding the work, chart.ts on top.
export { renderChart, isHelperFile, mergeValues } from './chart';
export type { Chart, RenderChartOptions, RenderChartResult, RenderedDocument } from './chart';
export { renderTemplate } from './engine';
export type { RenderTemplateOptions } from './engine';
export type { TemplateError } from './errors';
export { DEFAULT_LIMITS } from './limits';
export type { Limits } from './limits';
export { FUNCTION_NAMES } from './functions';
