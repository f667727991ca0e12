// Go's fmt (Sprint, Sprintln, Sprintf) over the values templates see:
// nil, bool, int (a whole number), float64, string, []interface {} and
// map[string]interface {}. Ported from fmt/print.go and fmt/format.go so
// that printf output, `%!d(string=x)` errors included, matches Go's.
// Every string built here is checked against the budget's string limit
// before it grows (widths and precisions come from untrusted templates).
import { formatGoFloat } from './gofloat';
import type { Budget } from './limits';
import { LimitExceeded } from './errors';
import { isMap, isNil, sortedKeys } from './values';

/** Go's type name of a template value (what %T and error strings show). */
export function goTypeName(v: unknown): string {
  if (isNil(v)) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return isGoInt(v) ? 'int' : 'float64';
  if (Array.isArray(v)) return '[]interface {}';
  if (isMap(v)) return 'map[string]interface {}';
  return typeof v;
}

/** A whole number an int64 can hold is an int; any other number is a float64. */
export function isGoInt(n: number): boolean {
  return Number.isInteger(n) && Math.abs(n) < 2 ** 63;
}

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  widPresent: boolean;
  prec: number;
  precPresent: boolean;
}

function clearFlags(): Flags {
  return { plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false, wid: 0, widPresent: false, prec: 0, precPresent: false };
}

const LDIGITS = '0123456789abcdefx';
const UDIGITS = '0123456789ABCDEFX';
const MAX_RUNE = 0x10ffff;

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** strconv.IsPrint, approximated with Unicode categories (letters, marks, numbers, punctuation, symbols, ASCII space). */
function isPrint(r: number): boolean {
  if (r === 0x20) return true;
  if (r < 0x20 || r === 0x7f) return false;
  if (r < 0x7f) return true;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(String.fromCodePoint(r));
}

function escapeRune(r: number, quote: number, ascii: boolean): string {
  if (r === quote || r === 0x5c) return `\\${String.fromCodePoint(r)}`;
  if (ascii ? r < 0x80 && isPrint(r) : isPrint(r)) return String.fromCodePoint(r);
  switch (r) {
    case 0x07: return '\\a';
    case 0x08: return '\\b';
    case 0x0c: return '\\f';
    case 0x0a: return '\\n';
    case 0x0d: return '\\r';
    case 0x09: return '\\t';
    case 0x0b: return '\\v';
  }
  if (r < 0x20 || r === 0x7f) return `\\x${r.toString(16).padStart(2, '0')}`;
  if (r < 0x10000) return `\\u${r.toString(16).padStart(4, '0')}`;
  return `\\U${r.toString(16).padStart(8, '0')}`;
}

/** strconv.Quote (ascii: QuoteToASCII). */
export function goQuote(s: string, ascii = false): string {
  let out = '"';
  for (const ch of s) {
    let r = ch.codePointAt(0) as number;
    if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd; // a lone surrogate is not valid UTF-8
    out += escapeRune(r, 0x22, ascii);
  }
  return `${out}"`;
}

function quoteRune(r: number, ascii: boolean): string {
  let c = r;
  if (c > MAX_RUNE || (c >= 0xd800 && c <= 0xdfff) || c < 0) c = 0xfffd;
  return `'${escapeRune(c, 0x27, ascii)}'`;
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const r = ch.codePointAt(0) as number;
    if (r === 0x60 || r === 0xfeff) return false;
    if ((r < 0x20 && r !== 0x09) || r === 0x7f) return false;
    if (r >= 0xd800 && r <= 0xdfff) return false;
  }
  return true;
}

/** One Sprintf/Sprint run: an output buffer plus fmt's per-verb state. */
class Printer {
  private buf = '';
  f: Flags = clearFlags();
  readonly maxDepth: number;

  constructor(readonly budget: Budget) {
    this.maxDepth = budget.limits.maxNesting;
  }

  step(): void {
    this.budget.step();
  }

  text(): string {
    return this.buf;
  }

  write(s: string): void {
    this.budget.checkLength(this.buf.length + s.length);
    this.buf += s;
  }

  private writePadding(n: number): void {
    if (n <= 0) return;
    this.budget.checkLength(this.buf.length + n);
    this.buf += (this.f.zero ? '0' : ' ').repeat(n);
  }

  /** fmt.pad: width counts runes; zero padding only on the left. */
  pad(s: string): void {
    if (!this.f.widPresent || this.f.wid === 0) return this.write(s);
    const width = this.f.wid - runeCount(s);
    if (!this.f.minus) {
      this.writePadding(width);
      this.write(s);
    } else {
      this.write(s);
      const zero = this.f.zero;
      this.f.zero = false;
      this.writePadding(width);
      this.f.zero = zero;
    }
  }

  private truncate(s: string): string {
    if (!this.f.precPresent) return s;
    return Array.from(s).slice(0, this.f.prec).join('');
  }

  fmtS(s: string): void {
    this.pad(this.truncate(s));
  }

  fmtQ(s: string): void {
    const t = this.truncate(s);
    if (this.f.sharp && canBackquote(t)) this.pad(`\`${t}\``);
    else this.pad(goQuote(t, this.f.plus));
  }

  fmtSx(s: string, digits: string): void {
    const bytes = Buffer.from(s, 'utf8');
    let length = bytes.length;
    if (this.f.precPresent && this.f.prec < length) length = this.f.prec;
    let width = 2 * length;
    if (width > 0) {
      if (this.f.space) {
        if (this.f.sharp) width *= 2;
        width += length - 1;
      } else if (this.f.sharp) {
        width += 2;
      }
    } else {
      if (this.f.widPresent) this.writePadding(this.f.wid);
      return;
    }
    if (this.f.widPresent && this.f.wid > width && !this.f.minus) this.writePadding(this.f.wid - width);
    this.budget.checkLength(this.buf.length + width);
    let out = '';
    if (this.f.sharp) out += `0${digits[16]}`;
    for (let i = 0; i < length; i++) {
      if (this.f.space && i > 0) {
        out += ' ';
        if (this.f.sharp) out += `0${digits[16]}`;
      }
      const c = bytes[i] as number;
      out += (digits[c >> 4] as string) + (digits[c & 0xf] as string);
    }
    this.write(out);
    if (this.f.widPresent && this.f.wid > width && this.f.minus) {
      const zero = this.f.zero;
      this.f.zero = false;
      this.writePadding(this.f.wid - width);
      this.f.zero = zero;
    }
  }

  fmtBoolean(v: boolean): void {
    this.pad(v ? 'true' : 'false');
  }

  /** fmt.fmtInteger. */
  fmtInteger(value: bigint, base: number, verb: string, digits: string): void {
    const negative = value < 0n;
    const u = negative ? -value : value;
    let prec = 0;
    if (this.f.precPresent) {
      prec = this.f.prec;
      if (prec === 0 && u === 0n) {
        const zero = this.f.zero;
        this.f.zero = false;
        this.writePadding(this.f.wid);
        this.f.zero = zero;
        return;
      }
    } else if (this.f.zero && !this.f.minus && this.f.widPresent) {
      prec = this.f.wid;
      if (negative || this.f.plus || this.f.space) prec--;
    }
    this.budget.checkLength(this.buf.length + prec + 70);
    let s = '';
    let x = u;
    const b = BigInt(base);
    do {
      s = (digits[Number(x % b)] as string) + s;
      x /= b;
    } while (x > 0n);
    if (prec > s.length) s = '0'.repeat(prec - s.length) + s;
    if (this.f.sharp) {
      if (base === 2) s = `0b${s}`;
      else if (base === 8) {
        if (s[0] !== '0') s = `0${s}`;
      } else if (base === 16) s = `0${digits[16]}${s}`;
    }
    if (verb === 'O') s = `0o${s}`;
    if (negative) s = `-${s}`;
    else if (this.f.plus) s = `+${s}`;
    else if (this.f.space) s = ` ${s}`;
    const zero = this.f.zero;
    this.f.zero = false;
    this.pad(s);
    this.f.zero = zero;
  }

  fmtUnicode(value: bigint): void {
    const u = BigInt.asUintN(64, value);
    let prec = 4;
    if (this.f.precPresent && this.f.prec > 4) prec = this.f.prec;
    this.budget.checkLength(this.buf.length + prec + 20);
    let s = `U+${u.toString(16).toUpperCase().padStart(prec, '0')}`;
    if (this.f.sharp && u <= BigInt(MAX_RUNE) && isPrint(Number(u))) s += ` '${String.fromCodePoint(Number(u))}'`;
    const zero = this.f.zero;
    this.f.zero = false;
    this.pad(s);
    this.f.zero = zero;
  }

  fmtC(value: bigint): void {
    let r = 0xfffd;
    if (value >= 0n && value <= BigInt(MAX_RUNE)) {
      const n = Number(value);
      if (n < 0xd800 || n > 0xdfff) r = n;
    }
    this.pad(String.fromCodePoint(r));
  }

  fmtQc(value: bigint): void {
    const r = Number(value);
    if (this.f.sharp && canBackquote(String.fromCodePoint(r >= 0xd800 && r <= 0xdfff ? 0xfffd : r))) this.pad(`'${String.fromCodePoint(r >= 0xd800 && r <= 0xdfff ? 0xfffd : r)}'`);
    else this.pad(quoteRune(r, this.f.plus));
  }

  /** fmt.fmtFloat. */
  fmtFloat(v: number, verb: string, defaultPrec: number): void {
    const prec = this.f.precPresent ? this.f.prec : defaultPrec;
    if (prec > 0) this.budget.checkLength(this.buf.length + prec + 30);
    const fmtVerb = (verb === 'v' ? 'g' : verb) as 'e' | 'E' | 'f' | 'F' | 'g' | 'G';
    let num = formatGoFloat(v, fmtVerb, prec);
    if (num[0] !== '-' && num[0] !== '+') num = `+${num}`;
    if (this.f.space && num[0] === '+' && !this.f.plus) num = ` ${num.slice(1)}`;
    if (num[1] === 'I' || num[1] === 'N') {
      const zero = this.f.zero;
      this.f.zero = false;
      if (num[1] === 'N' && !this.f.space && !this.f.plus) num = num.slice(1);
      this.pad(num);
      this.f.zero = zero;
      return;
    }
    if (this.f.sharp && verb !== 'b') num = sharpFloat(num, verb, prec);
    if (this.f.plus || num[0] !== '+') {
      if (this.f.zero && !this.f.minus && this.f.widPresent && this.f.wid > num.length) {
        this.write(num[0] as string);
        this.writePadding(this.f.wid - num.length);
        this.write(num.slice(1));
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }
}

/** The `#` flag on floats: always a decimal point; %g keeps trailing zeros. */
function sharpFloat(num: string, verb: string, prec: number): string {
  let digits = 0;
  if (verb === 'v' || verb === 'g' || verb === 'G') digits = prec === -1 ? 6 : prec;
  let tail = '';
  let body = num;
  const e = body.search(/[eE]/);
  if (e >= 0) {
    tail = body.slice(e);
    body = body.slice(0, e);
  }
  let sawNonzero = false;
  let hasPoint = false;
  for (let i = 1; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '.') hasPoint = true;
    else if (c >= '0' && c <= '9') {
      if (c !== '0') sawNonzero = true;
      if (sawNonzero) digits--;
    }
  }
  if (!hasPoint) {
    if (body.length === 2 && body[1] === '0') digits--; // "0" has one significant digit
    body += '.';
  }
  while (digits > 0) {
    body += '0';
    digits--;
  }
  return body + tail;
}

/** printValue / printArg: formats one operand with one verb. */
function printArg(p: Printer, arg: unknown, verb: string, depth: number): void {
  if (depth > p.maxDepth) throw new LimitExceeded(`value nested more than ${p.maxDepth} levels deep (self-referential?)`);
  p.step();
  if (isNil(arg)) {
    if (depth > 0 && verb !== 'T') {
      // A nil inside a list or map is an empty interface: always "<nil>".
      p.pad(p.f.sharpV ? 'interface {}(nil)' : '<nil>');
      return;
    }
    if (verb === 'T' || verb === 'v') p.pad('<nil>');
    else badVerb(p, arg, verb, depth);
    return;
  }
  if (verb === 'T') {
    p.fmtS(goTypeName(arg));
    return;
  }
  if (typeof arg === 'boolean') {
    if (verb === 't' || verb === 'v') p.fmtBoolean(arg);
    else badVerb(p, arg, verb, depth);
  } else if (typeof arg === 'number') {
    if (isGoInt(arg)) printInt(p, arg, verb, depth);
    else printFloat(p, arg, verb, depth);
  } else if (typeof arg === 'string') {
    switch (verb) {
      case 'v':
        if (p.f.sharpV) p.fmtQ(arg);
        else p.fmtS(arg);
        break;
      case 's':
        p.fmtS(arg);
        break;
      case 'x':
        p.fmtSx(arg, LDIGITS);
        break;
      case 'X':
        p.fmtSx(arg, UDIGITS);
        break;
      case 'q':
        p.fmtQ(arg);
        break;
      default:
        badVerb(p, arg, verb, depth);
    }
  } else if (Array.isArray(arg)) {
    if (p.f.sharpV) {
      p.write('[]interface {}{');
      arg.forEach((item, i) => {
        if (i > 0) p.write(', ');
        printArg(p, item, verb, depth + 1);
      });
      p.write('}');
      return;
    }
    p.write('[');
    arg.forEach((item, i) => {
      if (i > 0) p.write(' ');
      printArg(p, item, verb, depth + 1);
    });
    p.write(']');
  } else if (isMap(arg)) {
    p.write(p.f.sharpV ? 'map[string]interface {}{' : 'map[');
    sortedKeys(arg).forEach((key, i) => {
      if (i > 0) p.write(p.f.sharpV ? ', ' : ' ');
      printArg(p, key, verb, depth + 1);
      p.write(':');
      printArg(p, arg[key], verb, depth + 1);
    });
    p.write(p.f.sharpV ? '}' : ']');
  } else {
    p.fmtS(String(arg));
  }
}

function printInt(p: Printer, n: number, verb: string, depth: number): void {
  const v = BigInt(n);
  switch (verb) {
    case 'v':
    case 'd':
      p.fmtInteger(v, 10, verb, LDIGITS);
      break;
    case 'b':
      p.fmtInteger(v, 2, verb, LDIGITS);
      break;
    case 'o':
    case 'O':
      p.fmtInteger(v, 8, verb, LDIGITS);
      break;
    case 'x':
      p.fmtInteger(v, 16, verb, LDIGITS);
      break;
    case 'X':
      p.fmtInteger(v, 16, verb, UDIGITS);
      break;
    case 'c':
      p.fmtC(v);
      break;
    case 'q':
      if (v >= 0n && v <= BigInt(MAX_RUNE)) p.fmtQc(v);
      else badVerb(p, n, verb, depth);
      break;
    case 'U':
      p.fmtUnicode(v);
      break;
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      // A whole number may be a float64 in Helm (every number from a values
      // file is): float verbs format it as one instead of %!f(int=1).
      printFloat(p, n, verb, depth);
      break;
    default:
      badVerb(p, n, verb, depth);
  }
}

function printFloat(p: Printer, n: number, verb: string, depth: number): void {
  switch (verb) {
    case 'v':
      p.fmtFloat(n, 'g', -1);
      break;
    case 'g':
    case 'G':
      p.fmtFloat(n, verb, -1);
      break;
    case 'f':
    case 'F':
    case 'e':
    case 'E':
      p.fmtFloat(n, verb, 6);
      break;
    default:
      badVerb(p, n, verb, depth);
  }
}

/** `%!d(string=hello)`: the verb does not fit the operand's type. */
function badVerb(p: Printer, arg: unknown, verb: string, depth: number): void {
  p.write(`%!${verb}(`);
  if (isNil(arg)) {
    p.write('<nil>');
  } else {
    p.write(`${goTypeName(arg)}=`);
    printArg(p, arg, 'v', depth);
  }
  p.write(')');
}

const TOO_LARGE = 1_000_000;

/** fmt.Sprintf. */
export function goSprintf(format: string, args: unknown[], budget: Budget): string {
  const p = new Printer(budget);
  let argNum = 0;
  let reordered = false;
  let afterIndex = false;
  let goodArgNum = true;
  const end = format.length;
  let i = 0;

  /** Parses a decimal number; undefined (and i at end) when absurdly large, like Go's parsenum. */
  const parsenum = (): number | undefined => {
    const start = i;
    let num = 0;
    while (i < end && format[i]! >= '0' && format[i]! <= '9') {
      if (num > TOO_LARGE) {
        i = end;
        return undefined;
      }
      num = num * 10 + (format.charCodeAt(i) - 48);
      i++;
    }
    return i > start ? num : undefined;
  };
  /** `[n]` argument index. */
  const argNumber = (): void => {
    if (i >= end || format[i] !== '[') return;
    reordered = true;
    const close = format.indexOf(']', i + 1);
    if (close < 0) {
      goodArgNum = false;
      return;
    }
    const text = format.slice(i + 1, close);
    const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > args.length) {
      goodArgNum = false;
    } else {
      argNum = n - 1;
    }
    i = close + 1;
    afterIndex = true;
  };
  const intFromArg = (): { n: number; ok: boolean } => {
    if (argNum >= args.length) return { n: 0, ok: false };
    const a = args[argNum++];
    if (typeof a === 'number' && Number.isInteger(a) && Math.abs(a) <= TOO_LARGE) return { n: a, ok: true };
    return { n: 0, ok: false };
  };

  while (i < end) {
    goodArgNum = true;
    const lasti = i;
    while (i < end && format[i] !== '%') i++;
    if (i > lasti) p.write(format.slice(lasti, i));
    if (i >= end) break;
    i++; // skip %
    p.f = clearFlags();
    // flags
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case '#':
          p.f.sharp = true;
          break;
        case '0':
          p.f.zero = !p.f.minus;
          break;
        case '+':
          p.f.plus = true;
          break;
        case '-':
          p.f.minus = true;
          p.f.zero = false;
          break;
        case ' ':
          p.f.space = true;
          break;
        default:
          break flags;
      }
    }
    afterIndex = false;
    argNumber();
    // width
    if (i < end && format[i] === '*') {
      i++;
      const w = intFromArg();
      p.f.wid = w.n;
      p.f.widPresent = w.ok;
      if (!w.ok) p.write('%!(BADWIDTH)');
      if (p.f.wid < 0) {
        p.f.wid = -p.f.wid;
        p.f.minus = true;
        p.f.zero = false;
      }
      afterIndex = false;
    } else {
      const w = parsenum();
      if (w !== undefined) {
        p.f.wid = w;
        p.f.widPresent = true;
        if (afterIndex) goodArgNum = false;
      }
    }
    // precision
    if (i + 1 < end && format[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      argNumber();
      if (i < end && format[i] === '*') {
        i++;
        const pr = intFromArg();
        p.f.prec = pr.n;
        p.f.precPresent = pr.ok;
        if (p.f.prec < 0) {
          p.f.prec = 0;
          p.f.precPresent = false;
        }
        if (!pr.ok) p.write('%!(BADPREC)');
        afterIndex = false;
      } else {
        const pr = parsenum();
        p.f.prec = pr ?? 0;
        p.f.precPresent = true;
      }
    }
    if (!afterIndex) argNumber();
    if (i >= end) {
      p.write('%!(NOVERB)');
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) as number);
    i += verb.length;
    if (p.f.widPresent) p.budget.checkLength(p.f.wid);
    if (verb === '%') {
      p.write('%');
    } else if (!goodArgNum) {
      p.write(`%!${verb}(BADINDEX)`);
    } else if (argNum >= args.length) {
      p.write(`%!${verb}(MISSING)`);
    } else {
      if (verb === 'v') {
        if (p.f.sharp) {
          p.f.sharp = false;
          p.f.sharpV = true;
        }
        if (p.f.plus) {
          p.f.plus = false;
          p.f.plusV = true;
        }
      }
      if (verb === 'w') badVerb(p, args[argNum], verb, 0);
      else printArg(p, args[argNum], verb, 0);
      argNum++;
    }
  }
  if (!reordered && argNum < args.length) {
    p.f = clearFlags();
    p.write('%!(EXTRA ');
    args.slice(argNum).forEach((arg, k) => {
      if (k > 0) p.write(', ');
      if (isNil(arg)) p.write('<nil>');
      else {
        p.write(`${goTypeName(arg)}=`);
        printArg(p, arg, 'v', 0);
      }
    });
    p.write(')');
  }
  return p.text();
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function goSprint(args: unknown[], budget: Budget): string {
  const p = new Printer(budget);
  args.forEach((arg, i) => {
    const isString = typeof arg === 'string';
    if (i > 0 && !isString && typeof args[i - 1] !== 'string') p.write(' ');
    p.f = clearFlags();
    printArg(p, arg, 'v', 0);
  });
  return p.text();
}

/** fmt.Sprintln: spaces between all operands, and a newline. */
export function goSprintln(args: unknown[], budget: Budget): string {
  const p = new Printer(budget);
  args.forEach((arg, i) => {
    if (i > 0) p.write(' ');
    p.f = clearFlags();
    printArg(p, arg, 'v', 0);
  });
  p.write('\n');
  return p.text();
}

/** `%v` of one value (what `{{ . }}` prints, and Sprig's toString). */
export function goFormatValue(v: unknown, budget: Budget): string {
  if (typeof v === 'string') return v;
  return goSprint([v], budget);
}
