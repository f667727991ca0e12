// The function table templates can call. `include` and `tpl` are entries
// like the others; they reach the evaluator through the call context.
import { asString } from '../values';
import { COLLECTION_FUNCTIONS } from './collections';
import { CONVERT_FUNCTIONS } from './convert';
import { FORMAT_FUNCTIONS } from './format';
import { LOGIC_FUNCTIONS } from './logic';
import { STRING_FUNCTIONS } from './strings';
import { spec, type FunctionSpec, type FunctionTable } from './types';

export type { CallContext, FunctionSpec, FunctionTable } from './types';

const TEMPLATE_FUNCTIONS: ReadonlyArray<[string, FunctionSpec]> = [
  ['include', spec(1, 2, ([name, data], ctx) => ctx.include(asString(name, 'template name'), data ?? null))],
  ['tpl', spec(2, 2, ([text, data], ctx) => ctx.tpl(asString(text, 'template'), data))],
];

export const FUNCTIONS: FunctionTable = new Map([
  ...LOGIC_FUNCTIONS,
  ...FORMAT_FUNCTIONS,
  ...STRING_FUNCTIONS,
  ...COLLECTION_FUNCTIONS,
  ...CONVERT_FUNCTIONS,
  ...TEMPLATE_FUNCTIONS,
]);

export const FUNCTION_NAMES: ReadonlySet<string> = new Set(FUNCTIONS.keys());
