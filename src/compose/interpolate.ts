// Compose variable interpolation (compose-spec 12-interpolation.md), applied
// to every string VALUE of the file (never to keys): `$VAR`, `${VAR}`,
// `${VAR:-default}` (unset or empty), `${VAR-default}` (unset),
// `${VAR:?err}` / `${VAR?err}` (an error), `${VAR:+alt}` / `${VAR+alt}`
// (compose-go's replacement forms), nesting inside the word
// (`${A:-${B:-x}}`), and `$$` for a literal `$`. A `$` not followed by a name
// or `{` stays as it is. An unset variable without a default becomes the
// empty string, and is reported, as Compose warns.
import { fieldPath, type Segment } from '../render/findings';
import { ComposeError } from './types';

export type Lookup = (name: string) => string | undefined;

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const BRACED = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-|:\?|\?|:\+|\+)([\s\S]*))?$/;

export interface Interpolation {
  value: string;
  /** Variables that were unset and had no default, in order of use. */
  unset: string[];
}

/** Interpolates one string; throws ComposeError for `${VAR?err}` and malformed `${…}`. */
export function interpolate(input: string, lookup: Lookup, where = ''): Interpolation {
  const unset: string[] = [];
  const value = expand(input, lookup, where, unset, 0);
  return { value, unset };
}

function expand(input: string, lookup: Lookup, where: string, unset: string[], depth: number): string {
  // Nesting only comes from the defaults' own `${…}`: bounded by the input, but keep it sane.
  if (depth > 32) throw new ComposeError(`${where}: variables are nested too deeply`);
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      const end = closingBrace(input, i + 2);
      if (end < 0) throw new ComposeError(`${where}: "\${" without a closing "}"`);
      out += braced(input.slice(i + 2, end), lookup, where, unset, depth);
      i = end + 1;
    } else if (next !== undefined && NAME_START.test(next)) {
      let j = i + 1;
      while (j < input.length && NAME_CHAR.test(input[j]!)) j++;
      const name = input.slice(i + 1, j);
      const v = lookup(name);
      if (v === undefined) unset.push(name);
      out += v ?? '';
      i = j;
    } else {
      out += '$';
      i++;
    }
  }
  return out;
}

/** Index of the `}` closing a `${` whose content starts at `from`; nested `${…}` count. */
function closingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') {
      i++;
    } else if (s[i] === '$' && s[i + 1] === '{') {
      depth++;
      i++;
    } else if (s[i] === '}') {
      if (--depth === 0) return i;
    }
  }
  return -1;
}

function braced(content: string, lookup: Lookup, where: string, unset: string[], depth: number): string {
  const m = BRACED.exec(content);
  if (!m) throw new ComposeError(`${where}: "\${${content.length > 40 ? `${content.slice(0, 37)}...` : content}}" is not a valid variable reference`);
  const [, name, op, word = ''] = m as unknown as [string, string, string | undefined, string | undefined];
  const v = lookup(name);
  const word$ = () => expand(word, lookup, where, unset, depth + 1);
  switch (op) {
    case undefined:
      if (v === undefined) unset.push(name);
      return v ?? '';
    case ':-':
      return v === undefined || v === '' ? word$() : v;
    case '-':
      return v === undefined ? word$() : v;
    case ':?':
    case '?':
      if (v === undefined || (op === ':?' && v === '')) {
        const msg = word$();
        throw new ComposeError(`${where}: required variable ${name} is ${v === undefined ? 'not set' : 'empty'}${msg ? `: ${msg}` : ''}`);
      }
      return v;
    case ':+':
      return v === undefined || v === '' ? '' : word$();
    case '+':
      return v === undefined ? '' : word$();
    default:
      return v ?? '';
  }
}

/**
 * Interpolates every string value of a parsed YAML document (keys are left
 * alone). Returns a new value and each unset variable with where it was used.
 */
export interface DocumentInterpolation {
  value: unknown;
  unset: Array<{ at: Segment[]; name: string }>;
  /** Where a variable's value went into the document (for the secrets warning on environment values). */
  substituted: Segment[][];
}

export function interpolateDocument(doc: unknown, lookup: Lookup): DocumentInterpolation {
  const unset: Array<{ at: Segment[]; name: string }> = [];
  const substituted: Segment[][] = [];
  const walk = (v: unknown, at: Segment[]): unknown => {
    if (typeof v === 'string') {
      const r = interpolate(v, lookup, fieldPath(at));
      for (const name of r.unset) unset.push({ at, name });
      if (/\$(?!\$)/.test(v.replace(/\$\$/g, ''))) substituted.push(at);
      return r.value;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...at, i]));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        // Extension fields (x-…, allowed anywhere) are not imported: left as written.
        out[k] = k.startsWith('x-') ? x : walk(x, [...at, k]);
      }
      return out;
    }
    return v;
  };
  return { value: walk(doc, []), unset, substituted };
}
