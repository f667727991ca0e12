// The template engine's only use of js-yaml: loading Chart.yaml/values.yaml
// with safe bounds (toYaml's text comes from yaml-emit.ts).
import { loadAll } from 'js-yaml';
import type { TemplateError } from './errors';

/** Deepest nesting accepted in Chart.yaml / values.yaml. */
const MAX_DEPTH = 64;

/**
 * Loads one YAML document. Aliases are refused outright: they let a small
 * file describe a huge (shared) value that later walks would expand. An
 * empty file (or only comments) is `null`.
 */
export function loadYamlDocument(text: string, file: string): { ok: true; value: unknown } | { ok: false; error: TemplateError } {
  let docs: unknown[];
  try {
    docs = loadAll(text, { filename: file, maxAliases: 0, maxDepth: MAX_DEPTH });
  } catch (e) {
    return { ok: false, error: yamlError(e, file) };
  }
  if (docs.length > 1) return { ok: false, error: { template: file, line: 1, message: `${file} must hold a single YAML document` } };
  return { ok: true, value: docs.length === 0 ? null : docs[0] };
}

function yamlError(e: unknown, file: string): TemplateError {
  if (e instanceof Error) {
    const mark = (e as { mark?: { line?: unknown; column?: unknown } }).mark;
    const reason = (e as { reason?: unknown }).reason;
    const message = `invalid YAML: ${typeof reason === 'string' ? reason : e.message.split('\n')[0]}`;
    if (mark && typeof mark.line === 'number' && typeof mark.column === 'number') {
      return { template: file, line: mark.line + 1, column: mark.column + 1, message };
    }
    return { template: file, line: 1, message };
  }
  return { template: file, line: 1, message: 'invalid YAML' };
}
