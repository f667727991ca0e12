// Go's fmt formatting primitives (fmt/format.go): one verb's flags, width
// and precision applied to one operand — padding, quoting, integers in any
// base, floats (via gofloat.ts) — plus strconv's quoting. gofmt.ts decides
// which primitive an operand and verb need (fmt/print.go). Every string is
// checked against the budget before it grows.
import { formatGoFloat } from './gofloat';
import type { Budget } from './limits';

export interface Flags {
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

export function clearFlags(): Flags {
  return { plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false, wid: 0, widPresent: false, prec: 0, precPresent: false };
}

export const LDIGITS = '0123456789abcdefx';
export const UDIGITS = '0123456789ABCDEFX';
export const MAX_RUNE = 0x10ffff;

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
export class Printer {
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
    // With a precision the digits come from the exact value, whose length
    // grows with the exponent (hundreds of digits for 1e-300): charge for it.
    if (prec >= 0 && Number.isFinite(v) && v !== 0) this.budget.step(Math.ceil((Math.abs(Math.floor(Math.log2(Math.abs(v)))) + 53) / 64));
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
