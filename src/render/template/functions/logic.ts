// Comparison and logic: Go's eq/ne/lt/le/gt/ge/not (and/or are evaluated
// lazily by the evaluator; their entries here fix arity and naming), and
// Sprig's default/empty/coalesce/ternary/required/fail.
import { FunctionError } from '../errors';
import { asString, isNil, isTrue, kindOf, typeName } from '../values';
import { spec, type FunctionSpec } from './types';

/** Basic kinds for comparison: all numbers compare with each other (JavaScript has one number type). */
function basicKind(v: unknown): 'nil' | 'bool' | 'number' | 'string' | 'other' {
  if (isNil(v)) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  return 'other';
}

function equal(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'nil' || kb === 'nil') return ka === kb;
  if (ka === 'other' || kb === 'other') throw new FunctionError(`non-comparable type ${typeName(ka === 'other' ? a : b)}`);
  if (ka !== kb) throw new FunctionError(`incompatible types for comparison: ${kindOf(a)} and ${kindOf(b)}`);
  return a === b;
}

function less(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka !== 'number' && ka !== 'string') throw new FunctionError(`invalid type for comparison: ${typeName(a)}`);
  if (kb !== 'number' && kb !== 'string') throw new FunctionError(`invalid type for comparison: ${typeName(b)}`);
  if (ka !== kb) throw new FunctionError(`incompatible types for comparison: ${kindOf(a)} and ${kindOf(b)}`);
  return (a as number | string) < (b as number | string);
}

function lazyOnly(): never {
  throw new Error('and/or are evaluated by the evaluator');
}

export const LOGIC_FUNCTIONS: ReadonlyArray<[string, FunctionSpec]> = [
  // eq a b c: true if a equals any of b, c (Go).
  ['eq', spec(2, Infinity, ([a, ...rest]) => rest.some((b) => equal(a, b)))],
  ['ne', spec(2, 2, ([a, b]) => !equal(a, b))],
  ['lt', spec(2, 2, ([a, b]) => less(a, b))],
  ['le', spec(2, 2, ([a, b]) => less(a, b) || equal(a, b))],
  ['gt', spec(2, 2, ([a, b]) => less(b, a))],
  ['ge', spec(2, 2, ([a, b]) => less(b, a) || equal(a, b))],
  ['not', spec(1, 1, ([v]) => !isTrue(v))],
  ['and', spec(1, Infinity, lazyOnly)],
  ['or', spec(1, Infinity, lazyOnly)],
  ['empty', spec(1, 1, ([v]) => !isTrue(v))],
  // default DEFAULT VALUE: VALUE unless it is empty; `default "x"` alone gives "x".
  ['default', spec(1, 2, ([fallback, ...given]) => (given.length > 0 && isTrue(given[0]) ? given[0] : fallback))],
  ['coalesce', spec(0, Infinity, (args) => args.find((a) => isTrue(a)) ?? null)],
  ['ternary', spec(3, 3, ([whenTrue, whenFalse, cond]) => (isTrue(cond) ? whenTrue : whenFalse))],
  // Helm's required: nil or "" fails with the author's message; 0 and false pass.
  ['required', spec(2, 2, ([message, v]) => {
    if (isNil(v) || v === '') throw new FunctionError(asString(message, 'message'), true);
    return v;
  })],
  ['fail', spec(1, 1, ([message]) => {
    throw new FunctionError(asString(message, 'message'), true);
  })],
];
