// Go's fmt as templates see it: print, println, printf (the common verbs),
// and Sprig's quote/squote/toString built on it.
import type { Budget } from '../limits';
import { formatValue, isNil, strval, typeName } from '../values';
import { spec, type FunctionSpec } from './types';

/** Go's %q for strings: double quotes, Go escapes for control characters. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    switch (ch) {
      case '"': out += '\\"'; break;
      case '\\': out += '\\\\'; break;
      case '\n': out += '\\n'; break;
      case '\t': out += '\\t'; break;
      case '\r': out += '\\r'; break;
      case '\x07': out += '\\a'; break;
      case '\b': out += '\\b'; break;
      case '\f': out += '\\f'; break;
      case '\v': out += '\\v'; break;
      default:
        if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
        else if (c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16)}`;
        else out += ch;
    }
  }
  return `${out}"`;
}

/** Go's Sprint: a space between operands when neither side is a string. */
function sprint(args: unknown[], budget: Budget): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a, budget);
    budget.checkLength(out.length);
  });
  return out;
}

interface Directive {
  flags: string;
  width?: number;
  precision?: number;
  verb: string;
}

function bad(verb: string, v: unknown, budget: Budget): string {
  return isNil(v) ? `%!${verb}(<nil>)` : `%!${verb}(${typeName(v)}=${formatValue(v, budget)})`;
}

function formatOne(d: Directive, v: unknown, budget: Budget): string {
  switch (d.verb) {
    case 'v':
      return formatValue(v, budget);
    case 's': {
      if (isNil(v)) return bad('s', v, budget);
      const s = formatValue(v, budget);
      return d.precision !== undefined ? Array.from(s).slice(0, d.precision).join('') : s;
    }
    case 'q':
      return isNil(v) ? bad('q', v, budget) : goQuote(formatValue(v, budget));
    case 'd':
      if (typeof v !== 'number' || !Number.isInteger(v)) return bad('d', v, budget);
      return (d.flags.includes('+') && v >= 0 ? '+' : '') + String(v);
    case 'f':
    case 'F':
      if (typeof v !== 'number') return bad(d.verb, v, budget);
      return (d.flags.includes('+') && v >= 0 ? '+' : '') + v.toFixed(Math.min(d.precision ?? 6, 100));
    case 'g':
      if (typeof v !== 'number') return bad('g', v, budget);
      return formatValue(v, budget);
    case 't':
      return typeof v === 'boolean' ? String(v) : bad('t', v, budget);
    case 'x':
    case 'X': {
      let hex: string;
      if (typeof v === 'number' && Number.isInteger(v)) hex = (v < 0 ? '-' : '') + Math.abs(v).toString(16);
      else if (typeof v === 'string') hex = Buffer.from(v, 'utf8').toString('hex');
      else return bad(d.verb, v, budget);
      return d.verb === 'X' ? hex.toUpperCase() : hex;
    }
    case 'c':
      return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x10ffff ? String.fromCodePoint(v) : bad('c', v, budget);
    default:
      return bad(d.verb, v, budget);
  }
}

function pad(s: string, d: Directive, budget: Budget): string {
  if (d.width === undefined || s.length >= d.width) return s;
  budget.checkLength(d.width);
  const fill = d.width - s.length;
  if (d.flags.includes('-')) return s + ' '.repeat(fill);
  if (d.flags.includes('0') && /^[+-]?[0-9]/.test(s) && 'dfFgxX'.includes(d.verb)) {
    const sign = s[0] === '-' || s[0] === '+' ? s[0] : '';
    return sign + '0'.repeat(fill) + s.slice(sign.length);
  }
  return ' '.repeat(fill) + s;
}

/** Go's Sprintf for the verbs charts use: %v %s %q %d %f %g %t %x %X %c %%, with flags, width, precision. */
export function sprintf(format: string, args: unknown[], budget: Budget): string {
  const parts: string[] = [];
  let length = 0;
  const add = (s: string): void => {
    length += s.length;
    budget.checkLength(length);
    parts.push(s);
  };
  let argIndex = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      add(format.slice(i));
      break;
    }
    if (pct > i) add(format.slice(i, pct));
    let j = pct + 1;
    let flags = '';
    while (j < format.length && '+-# 0'.includes(format[j] as string)) flags += format[j++];
    let width: number | undefined;
    let precision: number | undefined;
    const digits = (): number | undefined => {
      const start = j;
      while (j < format.length && (format[j] as string) >= '0' && (format[j] as string) <= '9') j++;
      return j > start ? Number(format.slice(start, j)) : undefined;
    };
    width = digits();
    if (format[j] === '.') {
      j++;
      precision = digits() ?? 0;
    }
    const verb = format[j];
    if (verb === undefined) {
      add('%!(NOVERB)');
      break;
    }
    i = j + 1;
    if (verb === '%') {
      add('%');
      continue;
    }
    if (argIndex >= args.length) {
      add(`%!${verb}(MISSING)`);
      continue;
    }
    const d: Directive = { flags, width, precision, verb };
    add(pad(formatOne(d, args[argIndex++], budget), d, budget));
  }
  if (argIndex < args.length) {
    const extra = args.slice(argIndex).map((a) => (isNil(a) ? '<nil>' : `${typeName(a)}=${formatValue(a, budget)}`));
    add(`%!(EXTRA ${extra.join(', ')})`);
  }
  return parts.join('');
}

export const FORMAT_FUNCTIONS: ReadonlyArray<[string, FunctionSpec]> = [
  ['print', spec(0, Infinity, (args, ctx) => sprint(args, ctx.budget))],
  ['println', spec(0, Infinity, (args, ctx) => {
    const s = args.map((a) => formatValue(a, ctx.budget)).join(' ');
    ctx.budget.checkLength(s.length + 1);
    return `${s}\n`;
  })],
  ['printf', spec(1, Infinity, ([format, ...rest], ctx) => sprintf(strval(format, ctx.budget), rest, ctx.budget))],
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
