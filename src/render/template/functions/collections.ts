// Lists and maps: Go's index/slice/len and Sprig's list, dict and friends.
// Copies are charged to the step budget by size, so building a list in a
// loop costs what it really costs.
import { FunctionError, LimitExceeded } from '../errors';
import type { Budget } from '../limits';
import { asInt, asList, asMap, asString, getOwn, hasOwn, isMap, isNil, kindOf, newMap, setOwn, sortedKeys, strval, toInteger, typeName, type MapValue } from '../values';
import { spec, type FunctionSpec } from './types';

function copyList(budget: Budget, list: unknown[]): unknown[] {
  budget.step(list.length);
  return list.slice();
}

/** Deep merge of `src` into `dst` (mutating dst, like Sprig's merge/mergeOverwrite). */
export function mergeInto(budget: Budget, dst: MapValue, src: MapValue, overwrite: boolean, depth = 0): MapValue {
  if (depth > budget.limits.maxNesting) throw new LimitExceeded(`maps nested more than ${budget.limits.maxNesting} levels deep`);
  for (const key of Object.keys(src)) {
    budget.step();
    const from = src[key];
    const to = getOwn(dst, key);
    if (isMap(to) && isMap(from)) mergeInto(budget, to, from, overwrite, depth + 1);
    else if (!hasOwn(dst, key) || isNil(to) || (overwrite && !isNil(from))) setOwn(dst, key, from);
  }
  return dst;
}

function index(budget: Budget, target: unknown, keys: unknown[]): unknown {
  let v = target;
  for (const key of keys) {
    budget.step();
    if (Array.isArray(v)) {
      const i = asInt(key, 'index');
      if (i < 0 || i >= v.length) throw new FunctionError(`index out of range: ${i}`);
      v = v[i];
    } else if (typeof v === 'string') {
      const i = asInt(key, 'index');
      if (i < 0 || i >= v.length) throw new FunctionError(`index out of range: ${i}`);
      v = v.charCodeAt(i);
    } else if (isMap(v)) {
      if (typeof key !== 'string') throw new FunctionError(`value has type ${typeName(key)}; should be string`);
      v = getOwn(v, key);
    } else if (isNil(v)) {
      throw new FunctionError('index of untyped nil');
    } else {
      throw new FunctionError(`can't index item of type ${typeName(v)}`);
    }
  }
  return v;
}

/**
 * Sprig's slice, which replaces Go's builtin of the same name in Helm: lists
 * only (a string is an error), indexes converted leniently, an empty list
 * gives nil.
 */
function slice(target: unknown, bounds: unknown[]): unknown {
  if (!Array.isArray(target)) throw new FunctionError(`list should be type of slice or array but ${isNil(target) ? 'invalid' : kindOf(target) === 'map' ? 'map' : kindOf(target)}`);
  const len = target.length;
  if (len === 0) return null;
  const from = bounds.length > 0 ? toInteger(bounds[0]) : 0;
  const to = bounds.length > 1 ? toInteger(bounds[1]) : len;
  if (from < 0 || to > len || from > to) throw new FunctionError(`runtime error: slice bounds out of range [${from}:${to}] with capacity ${len}`);
  return target.slice(from, to);
}

function length(v: unknown): number {
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  if (isNil(v)) return 0;
  throw new FunctionError(`len of type ${typeName(v)}`);
}

export const COLLECTION_FUNCTIONS: ReadonlyArray<[string, FunctionSpec]> = [
  ['list', spec(0, Infinity, (args, ctx) => copyList(ctx.budget, args))],
  ['dict', spec(0, Infinity, (args, ctx) => {
    const out = newMap();
    ctx.budget.step(args.length);
    for (let i = 0; i < args.length; i += 2) setOwn(out, strval(args[i], ctx.budget), i + 1 < args.length ? args[i + 1] : '');
    return out;
  })],
  // Sprig's get returns "" for a missing key.
  ['get', spec(2, 2, ([m, key]) => {
    if (isNil(m)) return '';
    const map = asMap(m, 'map');
    const k = asString(key, 'key');
    return hasOwn(map, k) ? map[k] : '';
  })],
  ['set', spec(3, 3, ([m, key, value]) => {
    const map = asMap(m, 'map');
    setOwn(map, asString(key, 'key'), value);
    return map;
  })],
  ['unset', spec(2, 2, ([m, key]) => {
    const map = asMap(m, 'map');
    delete map[asString(key, 'key')];
    return map;
  })],
  ['hasKey', spec(2, 2, ([m, key]) => (isNil(m) ? false : hasOwn(asMap(m, 'map'), asString(key, 'key'))))],
  ['keys', spec(0, Infinity, (args, ctx) => {
    const out: string[] = [];
    for (const m of args) if (!isNil(m)) out.push(...sortedKeys(asMap(m, 'map')));
    ctx.budget.step(out.length);
    return out.sort();
  })],
  ['values', spec(1, 1, ([m], ctx) => {
    if (isNil(m)) return [];
    const map = asMap(m, 'map');
    const keys = sortedKeys(map);
    ctx.budget.step(keys.length);
    return keys.map((k) => map[k]);
  })],
  ['merge', spec(1, Infinity, ([dst, ...srcs], ctx) => {
    const d = asMap(dst, 'destination');
    for (const s of srcs) if (!isNil(s)) mergeInto(ctx.budget, d, asMap(s, 'source'), false);
    return d;
  })],
  ['mergeOverwrite', spec(1, Infinity, ([dst, ...srcs], ctx) => {
    const d = asMap(dst, 'destination');
    for (const s of srcs) if (!isNil(s)) mergeInto(ctx.budget, d, asMap(s, 'source'), true);
    return d;
  })],
  ['mustMerge', spec(1, Infinity, ([dst, ...srcs], ctx) => {
    const d = asMap(dst, 'destination');
    for (const s of srcs) if (!isNil(s)) mergeInto(ctx.budget, d, asMap(s, 'source'), false);
    return d;
  })],
  ['mustMergeOverwrite', spec(1, Infinity, ([dst, ...srcs], ctx) => {
    const d = asMap(dst, 'destination');
    for (const s of srcs) if (!isNil(s)) mergeInto(ctx.budget, d, asMap(s, 'source'), true);
    return d;
  })],
  ['first', spec(1, 1, ([l]) => {
    const list = asList(l, 'list');
    return list.length > 0 ? list[0] : null;
  })],
  ['last', spec(1, 1, ([l]) => {
    const list = asList(l, 'list');
    return list.length > 0 ? list[list.length - 1] : null;
  })],
  ['append', spec(2, 2, ([l, v], ctx) => [...copyList(ctx.budget, asList(l, 'list')), v])],
  ['prepend', spec(2, 2, ([l, v], ctx) => [v, ...copyList(ctx.budget, asList(l, 'list'))])],
  ['concat', spec(0, Infinity, (args, ctx) => {
    const out: unknown[] = [];
    for (const l of args) out.push(...copyList(ctx.budget, asList(l, 'list')));
    return out;
  })],
  ['has', spec(2, 2, ([needle, l], ctx) => {
    const list = asList(l, 'list');
    ctx.budget.step(list.length);
    return list.some((x) => x === needle || (isNil(x) && isNil(needle)));
  })],
  ['until', spec(1, 1, ([n], ctx) => {
    const count = asInt(n, 'count');
    const size = Math.abs(count);
    ctx.budget.step(size); // before allocating: a huge count fails here
    return Array.from({ length: size }, (_, i) => (count < 0 ? -i : i));
  })],
  ['index', spec(1, Infinity, ([target, ...keys], ctx) => index(ctx.budget, target, keys))],
  ['slice', spec(1, Infinity, ([target, ...bounds]) => slice(target, bounds))],
  ['mustSlice', spec(1, Infinity, ([target, ...bounds]) => slice(target, bounds))],
  ['len', spec(1, 1, ([v]) => length(v))],
];
