// Go's fmt as templates see it (print, println, printf: gofmt.ts), the
// escapers text/template predefines (html, js, urlquery), and Sprig's
// quote/squote/toString built on fmt.
import { FunctionError } from '../errors';
import { goQuote, goSprint, goSprintf, goSprintln, goTypeName } from '../gofmt';
import type { Budget } from '../limits';
import { isNil, strval } from '../values';
import { spec, type FunctionSpec } from './types';

export { goQuote };

/** text/template's evalArgs: one string as is, otherwise Sprint (a missing value shows as "<no value>"). */
function evalArgs(args: unknown[], budget: Budget): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return goSprint(args.map((a) => (isNil(a) ? '<no value>' : a)), budget);
}

function htmlEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    switch (ch) {
      case '&': out += '&amp;'; break;
      case "'": out += '&#39;'; break;
      case '<': out += '&lt;'; break;
      case '>': out += '&gt;'; break;
      case '"': out += '&#34;'; break;
      case '\0': out += '\uFFFD'; break;
      default: out += ch;
    }
  }
  return out;
}

function hex4(c: number): string {
  return `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** text/template's JSEscapeString. */
function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    switch (ch) {
      case '\\': out += '\\\\'; break;
      case "'": out += "\\'"; break;
      case '"': out += '\\"'; break;
      case '<': case '>': case '&': case '=': out += hex4(c); break;
      default:
        if (c < 0x20) out += hex4(c);
        else if (c < 0x80 || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch)) out += ch;
        else out += hex4(c);
    }
  }
  return out;
}

/** net/url's QueryEscape. */
function queryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export const FORMAT_FUNCTIONS: ReadonlyArray<[string, FunctionSpec]> = [
  ['print', spec(0, Infinity, (args, ctx) => goSprint(args, ctx.budget))],
  ['println', spec(0, Infinity, (args, ctx) => goSprintln(args, ctx.budget))],
  // Go's printf takes its format as a string: anything else is a call error, as in Go.
  ['printf', spec(1, Infinity, ([format, ...rest], ctx) => {
    if (typeof format !== 'string') {
      throw new FunctionError(isNil(format) ? 'invalid value; expected string' : `wrong type for value; expected string; got ${goTypeName(format)}`);
    }
    return goSprintf(format, rest, ctx.budget);
  })],
  ['html', spec(0, Infinity, (args, ctx) => htmlEscape(evalArgs(args, ctx.budget)))],
  ['js', spec(0, Infinity, (args, ctx) => jsEscape(evalArgs(args, ctx.budget)))],
  ['urlquery', spec(0, Infinity, (args, ctx) => queryEscape(evalArgs(args, ctx.budget)))],
  // Sprig skips nil arguments, so a missing value quotes to "" (no quotes at all).
  ['quote', spec(0, Infinity, (args, ctx) => {
    const parts = args.filter((a) => !isNil(a)).map((a) => goQuote(strval(a, ctx.budget)));
    ctx.budget.checkLength(parts.reduce((n, p) => n + p.length + 1, 0));
    return parts.join(' ');
  })],
  ['squote', spec(0, Infinity, (args, ctx) => {
    const parts = args.filter((a) => !isNil(a)).map((a) => `'${strval(a, ctx.budget)}'`);
    ctx.budget.checkLength(parts.reduce((n, p) => n + p.length + 1, 0));
    return parts.join(' ');
  })],
  ['toString', spec(1, 1, ([v], ctx) => strval(v, ctx.budget))],
];
