// The function table templates can call. `include` and `tpl` are entries
// like the others; they reach the evaluator through the call context.
import { FunctionError } from '../errors';
import { asString, isNil, typeName } from '../values';
import { COLLECTION_FUNCTIONS } from './collections';
import { CONVERT_FUNCTIONS } from './convert';
import { FORMAT_FUNCTIONS } from './format';
import { LOGIC_FUNCTIONS } from './logic';
import { SERIALIZATION_FUNCTIONS } from './serialization';
import { SPRIG_LIST_FUNCTIONS } from './sprig-lists';
import { SPRIG_MATH_FUNCTIONS } from './sprig-math';
import { SPRIG_STRING_FUNCTIONS } from './sprig-strings';
import { STRING_FUNCTIONS } from './strings';
import { spec, type FunctionSpec, type FunctionTable } from './types';

export type { CallContext, FunctionSpec, FunctionTable } from './types';

const TEMPLATE_FUNCTIONS: ReadonlyArray<[string, FunctionSpec]> = [
  ['include', spec(1, 2, ([name, data], ctx) => ctx.include(asString(name, 'template name'), data ?? null))],
  ['tpl', spec(2, 2, ([text, data], ctx) => ctx.tpl(asString(text, 'template'), data))],
  // `call` runs a function value; template data here holds none, so every call fails as Go's does on a non-function.
  ['call', spec(1, Infinity, ([fn]) => {
    throw new FunctionError(isNil(fn) ? 'call of nil' : `non-function of type ${typeName(fn)}`);
  })],
];

export const FUNCTIONS: FunctionTable = new Map([
  ...LOGIC_FUNCTIONS,
  ...FORMAT_FUNCTIONS,
  ...STRING_FUNCTIONS,
  ...COLLECTION_FUNCTIONS,
  ...CONVERT_FUNCTIONS,
  ...SPRIG_LIST_FUNCTIONS,
  ...SPRIG_STRING_FUNCTIONS,
  ...SPRIG_MATH_FUNCTIONS,
  ...SERIALIZATION_FUNCTIONS,
  ...TEMPLATE_FUNCTIONS,
]);

export const FUNCTION_NAMES: ReadonlySet<string> = new Set(FUNCTIONS.keys());
