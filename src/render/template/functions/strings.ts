// Sprig's string functions (argument order as in Sprig: the subject string
// comes last so it can be piped). Every function that can grow a string
// checks the size before building it.
import { createHash } from 'node:crypto';
import { FunctionError } from '../errors';
import type { Budget } from '../limits';
import { asInt, asString, isNil, newMap, setOwn, strval } from '../values';
import { spec, type FunctionSpec } from './types';

function countOccurrences(s: string, sub: string): number {
  if (sub === '') return Array.from(s).length + 1;
  let n = 0;
  for (let i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length)) n++;
  return n;
}

/** Go's strings.Title: upper-cases the first letter of every word. */
function title(s: string): string {
  let out = '';
  let prev = ' ';
  for (const r of s) {
    out += isSeparator(prev) ? r.toUpperCase() : r;
    prev = r;
  }
  return out;
}
function isSeparator(r: string): boolean {
  if (r <= '\x7f') return !/[0-9A-Za-z_]/.test(r);
  if (/[\p{L}\p{N}]/u.test(r)) return false;
  return /\s/u.test(r);
}

function indent(budget: Budget, n: number, s: string, leadingNewline: boolean): string {
  const width = Math.max(0, n);
  const lines = countOccurrences(s, '\n') + 1;
  budget.checkLength(s.length + lines * width + 1);
  const pad = ' '.repeat(width);
  return (leadingNewline ? '\n' : '') + pad + s.split('\n').join(`\n${pad}`);
}

function replaceAll(budget: Budget, old: string, replacement: string, s: string): string {
  const count = countOccurrences(s, old);
  budget.checkLength(s.length + count * (replacement.length - old.length));
  if (old === '') return replacement + Array.from(s).join(replacement) + (s === '' ? '' : replacement);
  return s.split(old).join(replacement);
}

function trimCutset(s: string, cutset: string): string {
  const cut = new Set(Array.from(cutset));
  const chars = Array.from(s);
  let start = 0;
  let end = chars.length;
  while (start < end && cut.has(chars[start] as string)) start++;
  while (end > start && cut.has(chars[end - 1] as string)) end--;
  return chars.slice(start, end).join('');
}

/** Sprig's strslice: a list's non-nil items as strings, or a lone value as a one-item list. */
function stringList(v: unknown, budget: Budget): string[] {
  if (Array.isArray(v)) {
    budget.step(v.length);
    return v.filter((x) => !isNil(x)).map((x) => strval(x, budget));
  }
  return isNil(v) ? [] : [strval(v, budget)];
}

function splitParts(budget: Budget, sep: string, s: string): string[] {
  const parts = sep === '' ? Array.from(s) : s.split(sep);
  budget.step(parts.length);
  return parts;
}

export const STRING_FUNCTIONS: ReadonlyArray<[string, FunctionSpec]> = [
  ['upper', spec(1, 1, ([s]) => asString(s).toUpperCase())],
  ['lower', spec(1, 1, ([s]) => asString(s).toLowerCase())],
  ['title', spec(1, 1, ([s]) => title(asString(s)))],
  ['trim', spec(1, 1, ([s]) => asString(s).trim())],
  ['trimAll', spec(2, 2, ([cutset, s]) => trimCutset(asString(s), asString(cutset)))],
  ['trimPrefix', spec(2, 2, ([prefix, s]) => {
    const p = asString(prefix);
    const str = asString(s);
    return p !== '' && str.startsWith(p) ? str.slice(p.length) : str;
  })],
  ['trimSuffix', spec(2, 2, ([suffix, s]) => {
    const x = asString(suffix);
    const str = asString(s);
    return x !== '' && str.endsWith(x) ? str.slice(0, str.length - x.length) : str;
  })],
  ['replace', spec(3, 3, ([old, rep, s], ctx) => replaceAll(ctx.budget, asString(old), asString(rep), asString(s)))],
  ['contains', spec(2, 2, ([sub, s]) => asString(s).includes(asString(sub)))],
  ['hasPrefix', spec(2, 2, ([p, s]) => asString(s).startsWith(asString(p)))],
  ['hasSuffix', spec(2, 2, ([x, s]) => asString(s).endsWith(asString(x)))],
  ['repeat', spec(2, 2, ([count, s], ctx) => {
    const n = Math.max(0, asInt(count, 'count'));
    const str = asString(s);
    ctx.budget.checkLength(n * str.length);
    return str.repeat(n);
  })],
  ['nospace', spec(1, 1, ([s]) => asString(s).replace(/\s+/gu, ''))],
  ['trunc', spec(2, 2, ([count, s]) => {
    const c = asInt(count, 'length');
    const str = asString(s);
    if (c < 0 && str.length + c > 0) return str.slice(str.length + c);
    if (c >= 0 && str.length > c) return str.slice(0, c);
    return str;
  })],
  ['substr', spec(3, 3, ([start, end, s]) => {
    const a = asInt(start, 'start');
    const b = asInt(end, 'end');
    const str = asString(s);
    if (a < 0) return str.slice(0, Math.max(0, b));
    if (b < 0 || b > str.length) return str.slice(a);
    return a > b ? '' : str.slice(a, b);
  })],
  ['cat', spec(0, Infinity, (args, ctx) => {
    const parts = args.filter((a) => !isNil(a)).map((a) => strval(a, ctx.budget));
    ctx.budget.checkLength(parts.reduce((n, p) => n + p.length + 1, 0));
    return parts.join(' ');
  })],
  ['indent', spec(2, 2, ([n, s], ctx) => indent(ctx.budget, asInt(n, 'width'), asString(s), false))],
  ['nindent', spec(2, 2, ([n, s], ctx) => indent(ctx.budget, asInt(n, 'width'), asString(s), true))],
  ['split', spec(2, 2, ([sep, s], ctx) => {
    const out = newMap();
    splitParts(ctx.budget, asString(sep), asString(s)).forEach((part, i) => setOwn(out, `_${i}`, part));
    return out;
  })],
  ['splitList', spec(2, 2, ([sep, s], ctx) => splitParts(ctx.budget, asString(sep), asString(s)))],
  ['join', spec(2, 2, ([sep, list], ctx) => {
    const parts = stringList(list, ctx.budget);
    const separator = asString(sep);
    ctx.budget.checkLength(parts.reduce((n, p) => n + p.length + separator.length, 0));
    return parts.join(separator);
  })],
  ['b64enc', spec(1, 1, ([s]) => Buffer.from(asString(s), 'utf8').toString('base64'))],
  ['b64dec', spec(1, 1, ([s]) => {
    const str = asString(s);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(str) || str.length % 4 !== 0) throw new FunctionError('illegal base64 data');
    return Buffer.from(str, 'base64').toString('utf8');
  })],
  ['sha256sum', spec(1, 1, ([s]) => createHash('sha256').update(asString(s), 'utf8').digest('hex'))],
];
