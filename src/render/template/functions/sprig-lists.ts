// Sprig's list and dict functions beyond the basics in collections.ts
// (sortAlpha, uniq, compact, without, rest, initial, reverse, chunk,
// tuple, pluck, pick, omit, dig, deepCopy, the must* variants, all/any,
// deepEqual), ported from Masterminds/sprig list.go, dict.go, defaults.go.
// Sprig's plain variants panic where the must* ones return an error; a
// template sees both as a failed call, so they share an implementation.
import { FunctionError, LimitExceeded } from '../errors';
import type { Budget } from '../limits';
import { asInt, asMap, asString, getOwn, hasOwn, isMap, isNil, isTrue, newMap, setOwn, sortedKeys, strval, typeName } from '../values';
import { spec, type FunctionSpec } from './types';

/** A list argument; Sprig reports other kinds by their Go kind name. */
function listOf(v: unknown, what: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new FunctionError(`Cannot ${what} on type ${isNil(v) ? 'invalid' : kindName(v)}`);
}

function kindName(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (isMap(v)) return 'map';
  return typeof v === 'boolean' ? 'bool' : typeof v === 'string' ? 'string' : typeName(v);
}

/** reflect.DeepEqual over template values (an int and a float are different types in Go; here one number type). */
export function deepEqual(a: unknown, b: unknown, budget: Budget, depth = 0): boolean {
  budget.step();
  if (depth > budget.limits.maxNesting) throw new LimitExceeded(`value nested more than ${budget.limits.maxNesting} levels deep (self-referential?)`);
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i], budget, depth + 1));
  if (isMap(a)) {
    if (!isMap(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => hasOwn(b, k) && deepEqual(a[k], b[k], budget, depth + 1));
  }
  return a === b;
}

function inList(budget: Budget, haystack: unknown[], needle: unknown): boolean {
  return haystack.some((h) => deepEqual(needle, h, budget));
}

/** Sprig's strslice: items as strings, nil items dropped; a lone value is a one-item list. */
function strslice(v: unknown, budget: Budget): string[] {
  if (Array.isArray(v)) {
    budget.step(v.length);
    return v.filter((x) => !isNil(x)).map((x) => strval(x, budget));
  }
  return isNil(v) ? [] : [strval(v, budget)];
}

/** Go's sort.Strings: byte-wise (UTF-8) order. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function deepCopy(v: unknown, budget: Budget, depth = 0): unknown {
  budget.step();
  if (depth > budget.limits.maxNesting) throw new LimitExceeded(`value nested more than ${budget.limits.maxNesting} levels deep (self-referential?)`);
  if (Array.isArray(v)) return v.map((x) => deepCopy(x, budget, depth + 1));
  if (isMap(v)) {
    const out = newMap();
    for (const k of Object.keys(v)) setOwn(out, k, deepCopy(v[k], budget, depth + 1));
    return out;
  }
  return v;
}

function chunk(size: number, list: unknown[]): unknown[][] {
  if (size <= 0) throw new FunctionError('chunk size must be positive');
  const out: unknown[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function dig(args: unknown[]): unknown {
  const dict = args[args.length - 1];
  const fallback = args[args.length - 2];
  const keys = args.slice(0, -2);
  let cur: unknown = dict;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (typeof k !== 'string') throw new FunctionError(`dig: key must be a string; got ${typeName(k)}`);
    if (!isMap(cur)) throw new FunctionError(`dig: value at ${JSON.stringify(keys.slice(0, i).join('.'))} is not a map`);
    if (!hasOwn(cur, k)) return fallback;
    cur = cur[k];
  }
  return cur;
}

const both = (names: string[], s: FunctionSpec): Array<[string, FunctionSpec]> => names.map((n) => [n, s]);

export const SPRIG_LIST_FUNCTIONS: ReadonlyArray<[string, FunctionSpec]> = [
  ['tuple', spec(0, Infinity, (args, ctx) => {
    ctx.budget.step(args.length);
    return args.slice();
  })],
  // sortAlpha: a list's items as strings in byte order; any other value becomes a one-item list.
  ['sortAlpha', spec(1, 1, ([l], ctx) => {
    if (!Array.isArray(l)) return [strval(l, ctx.budget)];
    const out = strslice(l, ctx.budget);
    ctx.budget.step(out.length * Math.max(1, Math.ceil(Math.log2(out.length + 1))));
    return out.sort(compareBytes);
  })],
  ...both(['uniq', 'mustUniq'], spec(1, 1, ([l], ctx) => {
    const out: unknown[] = [];
    for (const item of listOf(l, 'find uniq')) if (!inList(ctx.budget, out, item)) out.push(item);
    return out;
  })),
  ...both(['compact', 'mustCompact'], spec(1, 1, ([l], ctx) => {
    const list = listOf(l, 'compact');
    ctx.budget.step(list.length);
    return list.filter((x) => isTrue(x));
  })),
  ...both(['without', 'mustWithout'], spec(1, Infinity, ([l, ...omit], ctx) => listOf(l, 'find without').filter((x) => !inList(ctx.budget, omit, x)))),
  ...both(['rest', 'mustRest'], spec(1, 1, ([l], ctx) => {
    const list = listOf(l, 'find rest');
    ctx.budget.step(list.length);
    return list.slice(1);
  })),
  ...both(['initial', 'mustInitial'], spec(1, 1, ([l], ctx) => {
    const list = listOf(l, 'find initial');
    ctx.budget.step(list.length);
    return list.slice(0, -1);
  })),
  ...both(['reverse', 'mustReverse'], spec(1, 1, ([l], ctx) => {
    const list = listOf(l, 'find reverse');
    ctx.budget.step(list.length);
    return list.slice().reverse();
  })),
  ...both(['chunk', 'mustChunk'], spec(2, 2, ([size, l], ctx) => {
    const list = listOf(l, 'chunk');
    ctx.budget.step(list.length);
    return chunk(asInt(size, 'size'), list);
  })),
  ['mustFirst', spec(1, 1, ([l]) => {
    const list = listOf(l, 'find first');
    return list.length > 0 ? list[0] : null;
  })],
  ['mustLast', spec(1, 1, ([l]) => {
    const list = listOf(l, 'find last');
    return list.length > 0 ? list[list.length - 1] : null;
  })],
  ['mustAppend', spec(2, 2, ([l, v], ctx) => {
    const list = listOf(l, 'push');
    ctx.budget.step(list.length);
    return [...list, v];
  })],
  ['mustPush', spec(2, 2, ([l, v], ctx) => {
    const list = listOf(l, 'push');
    ctx.budget.step(list.length);
    return [...list, v];
  })],
  ['push', spec(2, 2, ([l, v], ctx) => {
    const list = listOf(l, 'push');
    ctx.budget.step(list.length);
    return [...list, v];
  })],
  ['mustPrepend', spec(2, 2, ([l, v], ctx) => {
    const list = listOf(l, 'prepend');
    ctx.budget.step(list.length);
    return [v, ...list];
  })],
  ['mustHas', spec(2, 2, ([needle, l], ctx) => (isNil(l) ? false : inList(ctx.budget, listOf(l, 'find has'), needle)))],
  ['pluck', spec(1, Infinity, ([key, ...dicts]) => {
    const k = asString(key, 'key');
    const out: unknown[] = [];
    for (const d of dicts) {
      const m = asMap(d, 'dict');
      if (hasOwn(m, k)) out.push(m[k]);
    }
    return out;
  })],
  ['pick', spec(1, Infinity, ([d, ...keys]) => {
    const m = asMap(d, 'dict');
    const out = newMap();
    for (const k of keys) if (typeof k === 'string' && hasOwn(m, k)) setOwn(out, k, m[k]);
    return out;
  })],
  ['omit', spec(1, Infinity, ([d, ...keys]) => {
    const m = asMap(d, 'dict');
    const drop = new Set(keys.filter((k): k is string => typeof k === 'string'));
    const out = newMap();
    for (const k of sortedKeys(m)) if (!drop.has(k)) setOwn(out, k, getOwn(m, k));
    return out;
  })],
  ['dig', spec(3, Infinity, (args) => dig(args))],
  ...both(['deepCopy', 'mustDeepCopy'], spec(1, 1, ([v], ctx) => deepCopy(v, ctx.budget))),
  ['all', spec(0, Infinity, (args) => args.every((a) => isTrue(a)))],
  ['any', spec(0, Infinity, (args) => args.some((a) => isTrue(a)))],
  ['deepEqual', spec(2, 2, ([a, b], ctx) => deepEqual(a, b, ctx.budget))],
  ['toStrings', spec(1, 1, ([v], ctx) => strslice(v, ctx.budget))],
];

