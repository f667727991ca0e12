// The renderer's only js-yaml user: bounded parsing of untrusted YAML and
// dumping of rendered jobs. Only the YAML 1.2 core schema is understood: no
// custom or language tags, no merge keys (`<<` stays an ordinary key and is
// then rejected as an unknown field).
import { CORE_SCHEMA, dump, loadAll } from 'js-yaml';
import { YAML_MAX_ALIASES, YAML_MAX_DEPTH, YAML_MAX_NODES } from './limits';

export interface YamlError {
  /** `too-complex`: a resource bound was hit (depth, aliases, expanded size). */
  kind: 'unparsable' | 'too-complex';
  /** Never quotes the source: a snippet could show an environment value. */
  message: string;
  /** 1-based, when known. */
  line?: number;
  column?: number;
}

export type YamlResult = { ok: true; documents: unknown[] } | { ok: false; error: YamlError };

/**
 * Keys through which a naive deep merge downstream (chart values) could reach
 * Object.prototype: `__proto__`, and `constructor` holding a mapping.
 */
function isForbiddenKey(key: string, value: unknown): boolean {
  return key === '__proto__' || (key === 'constructor' && value !== null && typeof value === 'object');
}

/** Parse every document of `text`; empty documents come back as null. */
export function parseYaml(text: string): YamlResult {
  let documents: unknown[];
  try {
    documents = loadAll(text, { schema: CORE_SCHEMA, maxDepth: YAML_MAX_DEPTH, maxAliases: YAML_MAX_ALIASES });
  } catch (err) {
    return { ok: false, error: translateError(err) };
  }
  const budget = { nodes: YAML_MAX_NODES };
  for (const doc of documents) {
    const why = checkShape(doc, 0, budget);
    if (why) return { ok: false, error: why };
  }
  for (const doc of documents) detachStrings(doc, new Set());
  return { ok: true, documents };
}

/**
 * js-yaml's scalars are substrings of the file's text, and V8 keeps a
 * substring of 13 characters or more as a slice of its parent: one image
 * name in a rendered spec held the whole file alive (1.8 MiB of YAML text
 * in an agent with 5,000 jobs). Each such string becomes a copy of its own.
 * Runs after checkShape, so the walk is bounded; aliases are walked once.
 */
function detachStrings(value: unknown, seen: Set<object>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    const v = o[key];
    if (typeof v === 'string') {
      if (v.length >= 13) o[key] = (' ' + v).slice(1);
    } else detachStrings(v, seen);
  }
}

function translateError(err: unknown): YamlError {
  const e = err as { reason?: unknown; mark?: { line?: unknown; column?: unknown }; message?: unknown };
  const reason = typeof e.reason === 'string' ? e.reason : 'the YAML parser failed';
  if (err instanceof RangeError) {
    // Call stack exhausted somewhere inside the parser: treat as too complex.
    return { kind: 'too-complex', message: 'the document is nested too deeply' };
  }
  const out: YamlError = /maxDepth/.test(reason)
    ? { kind: 'too-complex', message: `collections are nested deeper than ${YAML_MAX_DEPTH} levels` }
    : /maxAliases/.test(reason)
      ? { kind: 'too-complex', message: `the document uses more than ${YAML_MAX_ALIASES} aliases (*name)` }
      : { kind: 'unparsable', message: reason };
  if (typeof e.mark?.line === 'number') out.line = e.mark.line + 1;
  if (typeof e.mark?.column === 'number') out.column = e.mark.column + 1;
  return out;
}

/** Walk the value as a consumer would (aliases expanded), within a node budget. */
function checkShape(value: unknown, depth: number, budget: { nodes: number }): YamlError | undefined {
  if (--budget.nodes < 0) {
    return { kind: 'too-complex', message: `the document expands to more than ${YAML_MAX_NODES} values (aliases included)` };
  }
  // Aliases can stack nesting beyond the parser's depth limit.
  if (depth > YAML_MAX_DEPTH * 2) return { kind: 'too-complex', message: 'the document is nested too deeply (aliases included)' };
  if (Array.isArray(value)) {
    for (const item of value) {
      const why = checkShape(item, depth + 1, budget);
      if (why) return why;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      if (isForbiddenKey(key, (value as Record<string, unknown>)[key])) return { kind: 'unparsable', message: `the mapping key "${key}" is not allowed` };
      const why = checkShape((value as Record<string, unknown>)[key], depth + 1, budget);
      if (why) return why;
    }
  }
  return undefined;
}

/** Block-style YAML of one document, without references or line folding. */
export function toYaml(value: unknown): string {
  return dump(value, { lineWidth: -1, noRefs: true });
}
