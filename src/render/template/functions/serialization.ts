// JSON and YAML in and out: Sprig's toJson/toPrettyJson/toRawJson and
// fromJson (with must* variants) and Helm's toYaml/fromYaml/fromYamlArray/
// fromJsonArray. As in Helm, the plain variants swallow errors (toJson of
// NaN is "", fromYaml of bad text is a map with an "Error" key) and the
// must* ones fail the call. Parsed values become prototype-less maps.
import { FunctionError, LimitExceeded } from '../errors';
import type { Budget } from '../limits';
import { toJson, toYaml } from '../serialize';
import { asString, isMap, newMap, setOwn } from '../values';
import { loadYamlDocument } from '../yaml';
import { spec, type FunctionSpec } from './types';

/** Copies parsed JSON/YAML into template values (maps without prototypes), bounded in depth. */
function adopt(v: unknown, budget: Budget, depth = 0): unknown {
  budget.step();
  if (depth > budget.limits.maxNesting) throw new LimitExceeded(`value nested more than ${budget.limits.maxNesting} levels deep`);
  if (Array.isArray(v)) return v.map((x) => adopt(x, budget, depth + 1));
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object' && v !== null) {
    const out = newMap();
    for (const [k, x] of Object.entries(v)) setOwn(out, k, adopt(x, budget, depth + 1));
    return out;
  }
  return v === undefined ? null : v;
}

function parseJson(text: string, budget: Budget): unknown {
  budget.step(Math.ceil(text.length / 16) + 1);
  try {
    return adopt(JSON.parse(text), budget);
  } catch (e) {
    if (e instanceof LimitExceeded) throw e;
    throw new FunctionError(e instanceof Error ? e.message : String(e));
  }
}

function parseYaml(text: string, budget: Budget): unknown {
  budget.step(Math.ceil(text.length / 16) + 1);
  const r = loadYamlDocument(text, 'yaml');
  if (!r.ok) throw new FunctionError(r.error.message);
  return adopt(r.value, budget);
}

/** encoding/json's name for a JSON value's kind in "cannot unmarshal X into ..." errors. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (isMap(v)) return 'object';
  return typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'bool' : 'string';
}

function errorMap(e: unknown): unknown {
  const m = newMap();
  setOwn(m, 'Error', e instanceof Error ? e.message : String(e));
  return m;
}

function mustJson(v: unknown, budget: Budget, indent: string, escapeHtml: boolean): string {
  return toJson(v, budget, indent, escapeHtml);
}

/** Helm's toJson: a value JSON cannot hold (NaN, infinities) gives "" instead of an error. */
function softJson(v: unknown, budget: Budget, indent: string, escapeHtml: boolean): string {
  try {
    return toJson(v, budget, indent, escapeHtml);
  } catch (e) {
    if (e instanceof FunctionError && !(e instanceof LimitExceeded) && e.message.startsWith('json: unsupported value')) return '';
    throw e;
  }
}

export const SERIALIZATION_FUNCTIONS: ReadonlyArray<[string, FunctionSpec]> = [
  ['toYaml', spec(1, 1, ([v], ctx) => toYaml(v, ctx.budget))],
  ['mustToYaml', spec(1, 1, ([v], ctx) => {
    toJson(v, ctx.budget); // fails like Helm's on what JSON cannot hold
    return toYaml(v, ctx.budget);
  })],
  ['toJson', spec(1, 1, ([v], ctx) => softJson(v, ctx.budget, '', true))],
  ['toPrettyJson', spec(1, 1, ([v], ctx) => softJson(v, ctx.budget, '  ', true))],
  ['toRawJson', spec(1, 1, ([v], ctx) => softJson(v, ctx.budget, '', false))],
  ['mustToJson', spec(1, 1, ([v], ctx) => mustJson(v, ctx.budget, '', true))],
  ['mustToPrettyJson', spec(1, 1, ([v], ctx) => mustJson(v, ctx.budget, '  ', true))],
  ['mustToRawJson', spec(1, 1, ([v], ctx) => mustJson(v, ctx.budget, '', false))],
  // Helm's fromJson (it replaces Sprig's): a map, or a map holding the error under "Error".
  ['fromJson', spec(1, 1, ([s], ctx) => {
    try {
      const v = parseJson(asString(s), ctx.budget);
      if (v === null) return newMap();
      if (!isMap(v)) throw new FunctionError(`json: cannot unmarshal ${jsonKind(v)} into Go value of type map[string]interface {}`);
      return v;
    } catch (e) {
      if (e instanceof LimitExceeded) throw e;
      return errorMap(e);
    }
  })],
  ['mustFromJson', spec(1, 1, ([s], ctx) => parseJson(asString(s), ctx.budget))],
  ['fromJsonArray', spec(1, 1, ([s], ctx) => {
    try {
      const v = parseJson(asString(s), ctx.budget);
      if (!Array.isArray(v)) throw new FunctionError(`json: cannot unmarshal ${jsonKind(v)} into Go value of type []interface {}`);
      return v;
    } catch (e) {
      if (e instanceof LimitExceeded) throw e;
      return [e instanceof Error ? e.message : String(e)];
    }
  })],
  ['fromYaml', spec(1, 1, ([s], ctx) => {
    try {
      const v = parseYaml(asString(s), ctx.budget);
      if (v === null) return newMap();
      if (!isMap(v)) throw new FunctionError('error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}');
      return v;
    } catch (e) {
      if (e instanceof LimitExceeded) throw e;
      return errorMap(e);
    }
  })],
  ['fromYamlArray', spec(1, 1, ([s], ctx) => {
    try {
      const v = parseYaml(asString(s), ctx.budget);
      if (!Array.isArray(v)) throw new FunctionError('error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go value of type []interface {}');
      return v;
    } catch (e) {
      if (e instanceof LimitExceeded) throw e;
      return [e instanceof Error ? e.message : String(e)];
    }
  })],
];
