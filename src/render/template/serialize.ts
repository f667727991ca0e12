// toYaml / toJson. Values reachable from a template can share structure
// (`dict "a" $x "b" $x` repeated) or even contain themselves (`set $d "me"
// $d`), so before serializing we copy the value into a plain tree while
// counting nodes, depth and an estimate of the text size against the budget.
import { FunctionError, LimitExceeded } from './errors';
import type { Budget } from './limits';
import { formatNumber, isMap, isNil, newMap, setOwn, sortedKeys } from './values';
import { emitYaml } from './yaml-emit';

/** A sorted-key deep copy; throws before it grows past the string limit. */
export function toPlainTree(value: unknown, budget: Budget): unknown {
  let estimate = 0;
  const grow = (n: number): void => {
    estimate += n;
    budget.checkLength(estimate);
  };
  const copy = (v: unknown, depth: number): unknown => {
    budget.step();
    if (depth > budget.limits.maxNesting) {
      throw new LimitExceeded(`value nested more than ${budget.limits.maxNesting} levels deep (self-referential?)`);
    }
    const indent = depth * 2;
    if (Array.isArray(v)) {
      grow(indent + 4);
      return v.map((item) => copy(item, depth + 1));
    }
    if (isMap(v)) {
      grow(indent + 4);
      const out = newMap();
      for (const key of sortedKeys(v)) {
        grow(indent + key.length + 4);
        setOwn(out, key, copy(v[key], depth + 1));
      }
      return out;
    }
    if (isNil(v)) {
      grow(indent + 4);
      return null;
    }
    if (typeof v === 'string') {
      grow(indent + v.length * 2 + 4); // escapes can double a string
      return v;
    }
    if (typeof v === 'number' || typeof v === 'boolean') {
      grow(indent + 24);
      return v;
    }
    grow(indent + 24);
    return String(v);
  };
  return copy(value, 0);
}

/**
 * Helm's toYaml: the text go-yaml v2 writes (yaml-emit.ts) without its
 * final newline. A value JSON cannot hold (NaN, infinities) makes Helm's
 * toYaml return "" (it swallows the marshalling error); so does this.
 */
export function toYaml(value: unknown, budget: Budget): string {
  const tree = toPlainTree(value, budget);
  if (hasNonFinite(tree)) return '';
  const text = emitYaml(tree);
  budget.checkLength(text.length);
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

function hasNonFinite(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (Array.isArray(v)) return v.some(hasNonFinite);
  if (isMap(v)) return Object.keys(v).some((k) => hasNonFinite(v[k]));
  return false;
}

/**
 * Go's json.Marshal output: sorted keys, `<`, `>`, `&`, U+2028 and U+2029
 * escaped; `indent` gives MarshalIndent's layout (toPrettyJson).
 */
export function toJson(value: unknown, budget: Budget, indent = '', escapeHtml = true): string {
  const tree = toPlainTree(value, budget);
  const parts: string[] = [];
  const write = (v: unknown, prefix: string): void => {
    const inner = prefix + indent;
    const nl = indent ? `\n${inner}` : '';
    if (Array.isArray(v)) {
      if (v.length === 0) return void parts.push('[]');
      parts.push('[');
      v.forEach((item, i) => {
        parts.push(i > 0 ? `,${nl}` : nl);
        write(item, inner);
      });
      parts.push(indent ? `\n${prefix}]` : ']');
    } else if (isMap(v)) {
      const keys = Object.keys(v); // already sorted by toPlainTree (insertion order, strings)
      if (keys.length === 0) return void parts.push('{}');
      parts.push('{');
      keys.sort().forEach((k, i) => {
        parts.push(i > 0 ? `,${nl}` : nl, jsonString(k, escapeHtml), indent ? ': ' : ':');
        write(v[k], inner);
      });
      parts.push(indent ? `\n${prefix}}` : '}');
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new FunctionError(`json: unsupported value: ${formatNumber(v)}`);
      parts.push(String(v));
    } else if (typeof v === 'string') {
      parts.push(jsonString(v, escapeHtml));
    } else if (typeof v === 'boolean') {
      parts.push(v ? 'true' : 'false');
    } else {
      parts.push('null');
    }
  };
  write(tree, '');
  return parts.join('');
}

function jsonString(s: string, escapeHtml: boolean): string {
  return JSON.stringify(s).replace(escapeHtml ? /[<>&\u2028\u2029]/g : /[\u2028\u2029]/g, (c) => `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`);
}
