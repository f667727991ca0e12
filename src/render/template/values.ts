// The values templates work on: plain JSON-like data (null, booleans,
// numbers, strings, arrays, maps). This file holds Go's notions over them:
// kinds, truthiness, `%v` printing, and argument coercion for functions.
// Maps are read with own-property checks only, so `.constructor` or
// `.__proto__` never reach JavaScript internals; maps that templates build
// have no prototype at all.
import { FunctionError } from './errors';
import { formatGoFloat } from './gofloat';
import { goFormatValue, goTypeName, isGoInt } from './gofmt';
import { parseGoInt } from './gonumber';
import type { Budget } from './limits';

export type MapValue = Record<string, unknown>;

export type Kind = 'invalid' | 'string' | 'int' | 'float64' | 'bool' | 'slice' | 'map' | 'unknown';

export function isMap(v: unknown): v is MapValue {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype;
}

export function newMap(): MapValue {
  return Object.create(null) as MapValue;
}

export function hasOwn(m: MapValue, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, key);
}

export function getOwn(m: MapValue, key: string): unknown {
  return hasOwn(m, key) ? m[key] : null;
}

/** Sets a key without ever touching a prototype (`__proto__` included). */
export function setOwn(m: MapValue, key: string, value: unknown): void {
  Object.defineProperty(m, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Go ranges over and prints maps in sorted key order. */
export function sortedKeys(m: MapValue): string[] {
  return Object.keys(m).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function isNil(v: unknown): v is null | undefined {
  return v === null || v === undefined;
}

export function kindOf(v: unknown): Kind {
  if (isNil(v)) return 'invalid';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'number':
      return isGoInt(v) ? 'int' : 'float64';
    case 'boolean':
      return 'bool';
    default:
      if (Array.isArray(v)) return 'slice';
      if (isMap(v)) return 'map';
      return 'unknown';
  }
}

/** The Go type name, as `typeOf`, `%T` and error messages show it (float64 for a fraction). */
export function typeName(v: unknown): string {
  return goTypeName(v);
}

/** Go template truth: false, 0, nil, and empty strings, lists and maps are false. */
export function isTrue(v: unknown): boolean {
  if (isNil(v)) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

/** Go's `%v` of a number: an int's digits, or a float64 in strconv's shortest 'g' form (1e+06). */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return BigInt(n).toString();
  return formatGoFloat(n, 'g', -1);
}

/**
 * Go's `%v`: nil is "<nil>", lists "[a b]", maps "map[k:v]". Composite
 * values are walked with the budget (they can be shared many times over, so
 * their printed size can be exponential in the steps that built them).
 */
export function formatValue(v: unknown, budget: Budget): string {
  return goFormatValue(v, budget);
}

/** What `{{ value }}` prints: like `%v`, but a missing value prints nothing (Helm). */
export function printValue(v: unknown, budget: Budget): string {
  return isNil(v) ? '' : formatValue(v, budget);
}

// ---- argument coercion for functions ----

/**
 * A string argument. Go would refuse a number where a string is expected;
 * we accept scalars (values files are full of numbers that end up in
 * strings) and treat a missing value as "".
 */
export function asString(v: unknown, what = 'argument'): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (isNil(v)) return '';
  throw new FunctionError(`${what}: expected string; got ${typeName(v)}`);
}

/** An integer argument (counts, widths, indexes). */
export function asInt(v: unknown, what = 'argument'): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  throw new FunctionError(`${what}: expected int; got ${typeName(v)}`);
}

export function asList(v: unknown, what = 'argument'): unknown[] {
  if (Array.isArray(v)) return v;
  if (isNil(v)) return [];
  throw new FunctionError(`${what}: expected list; got ${typeName(v)}`);
}

export function asMap(v: unknown, what = 'argument'): MapValue {
  if (isMap(v)) return v;
  throw new FunctionError(`${what}: expected map; got ${typeName(v)}`);
}

/**
 * Sprig's lenient integer conversion (spf13/cast ToInt64): numbers are
 * truncated, booleans are 0/1, a string is read by strconv.ParseInt with
 * base 0 (so "010" is 8 and "0x10" 16) after dropping a zero fraction
 * ("3.00" is 3), and anything else, "3.5" included, is 0.
 */
export function toInteger(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const n = parseGoInt(trimZeroDecimal(v));
    return n === undefined || n > INT64_MAX || n < -INT64_MAX - 1n ? 0 : Number(n);
  }
  return 0;
}

const INT64_MAX = 9223372036854775807n;

/** cast's trimZeroDecimal: "3.000" → "3"; anything else unchanged. */
function trimZeroDecimal(s: string): string {
  let foundZero = false;
  for (let i = s.length; i > 0; i--) {
    const c = s[i - 1];
    if (c === '.') {
      if (foundZero) return s.slice(0, i - 1);
    } else if (c === '0') {
      foundZero = true;
    } else {
      return s;
    }
  }
  return s;
}

/** strconv.Atoi: decimal only, anything else is 0 (Sprig swallows the error). */
export function atoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) return 0;
  const n = BigInt(s);
  return n > INT64_MAX || n < -INT64_MAX - 1n ? 0 : Number(n);
}

export function toFloat(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const n = Number(v.trim());
    return v.trim() !== '' && Number.isFinite(n) ? n : 0;
  }
  return 0;
}

/** Sprig's strval: strings as is, everything else as `%v`. */
export function strval(v: unknown, budget: Budget): string {
  return typeof v === 'string' ? v : formatValue(v, budget);
}
