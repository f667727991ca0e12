// Go's fmt (Sprint, Sprintln, Sprintf) over the values templates see:
// nil, bool, int (a whole number), float64, string, []interface {} and
// map[string]interface {}. Ported from fmt/print.go (which primitive of
// gofmt-printer.ts an operand and verb need, %!verb errors, argument
// indexes, EXTRA/MISSING/NOVERB) so that printf output matches Go's.
import { LimitExceeded } from './errors';
import { clearFlags, goQuote, LDIGITS, MAX_RUNE, Printer, UDIGITS } from './gofmt-printer';
import type { Budget } from './limits';
import { isMap, isNil, sortedKeys } from './values';

export { goQuote };

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
