// Type conversion, type inspection, serialization and integer arithmetic
// (Sprig's math converts its operands to int64 first; so do we).
import { FunctionError } from '../errors';
import { asString, atoi, kindOf, toFloat, toInteger, typeName } from '../values';
import { spec, type FunctionSpec } from './types';

function ints(args: unknown[]): number[] {
  return args.map(toInteger);
}

export const CONVERT_FUNCTIONS: ReadonlyArray<[string, FunctionSpec]> = [
  ['int', spec(1, 1, ([v]) => toInteger(v))],
  ['int64', spec(1, 1, ([v]) => toInteger(v))],
  ['atoi', spec(1, 1, ([v]) => atoi(asString(v)))],
  ['float64', spec(1, 1, ([v]) => toFloat(v))],
  ['kindOf', spec(1, 1, ([v]) => kindOf(v))],
  ['kindIs', spec(2, 2, ([kind, v]) => asString(kind) === kindOf(v))],
  ['typeOf', spec(1, 1, ([v]) => typeName(v))],
  ['add', spec(0, Infinity, (args) => ints(args).reduce((a, b) => a + b, 0))],
  ['add1', spec(1, 1, ([v]) => toInteger(v) + 1)],
  ['sub', spec(2, 2, ([a, b]) => toInteger(a) - toInteger(b))],
  ['mul', spec(1, Infinity, (args) => ints(args).reduce((a, b) => a * b, 1))],
  ['div', spec(2, 2, ([a, b]) => {
    const d = toInteger(b);
    if (d === 0) throw new FunctionError('integer divide by zero');
    return Math.trunc(toInteger(a) / d);
  })],
  ['mod', spec(2, 2, ([a, b]) => {
    const d = toInteger(b);
    if (d === 0) throw new FunctionError('integer divide by zero');
    return toInteger(a) % d;
  })],
  ['max', spec(1, Infinity, (args) => ints(args).reduce((a, b) => (b > a ? b : a)))],
  ['min', spec(1, Infinity, (args) => ints(args).reduce((a, b) => (b < a ? b : a)))],
];
