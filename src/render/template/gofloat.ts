// Go's strconv.FormatFloat for float64 ('e', 'E', 'f', 'F', 'g', 'G'; a
// precision or -1 for the shortest text that reads back as the same
// number). JavaScript's own formatting differs in the exponent's spelling
// (e+6 vs e+06), in when it switches to exponents, and in rounding exact
// ties (Go rounds the exact binary value half to even), so the digits are
// computed here from the exact value of the double.

interface Digits {
  /** Decimal digits without leading zeros ("" for zero). */
  d: string;
  /** Position of the decimal point relative to d: value = 0.d × 10^dp. */
  dp: number;
}

/** The shortest digits that read back as `abs` (what JavaScript and Go both compute). */
function shortestDigits(abs: number): Digits {
  if (abs === 0) return { d: '', dp: 0 };
  const [mant, exp] = abs.toExponential().split('e') as [string, string];
  const d = mant.replace('.', '');
  return { d: d.replace(/0+$/, ''), dp: Number(exp) + 1 };
}

/** 5^k for k ≤ 1074 (the most a double needs), computed once each: formatting a tiny number repeatedly stays cheap. */
const POW5 = new Map<number, bigint>();
function pow5(k: number): bigint {
  let p = POW5.get(k);
  if (p === undefined) {
    p = 5n ** BigInt(k);
    POW5.set(k, p);
  }
  return p;
}

/** The exact decimal expansion of a finite, non-negative double. */
function exactDigits(abs: number): Digits {
  if (abs === 0) return { d: '', dp: 0 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, abs);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2: number;
  if (biased === 0) e2 = -1074;
  else {
    mant |= 1n << 52n;
    e2 = biased - 1075;
  }
  let digits: string;
  let dp: number;
  if (e2 >= 0) {
    digits = (mant << BigInt(e2)).toString();
    dp = digits.length;
  } else {
    // mant × 2^e2 = mant × 5^-e2 / 10^-e2
    digits = (mant * pow5(-e2)).toString();
    dp = digits.length + e2;
  }
  const trimmed = digits.replace(/^0+/, '');
  dp -= digits.length - trimmed.length;
  return { d: trimmed.replace(/0+$/, ''), dp };
}

/** Rounds exact digits to `nd` digits, half to even on exact ties (strconv's decimal.Round). */
function roundDigits(x: Digits, nd: number): Digits {
  if (nd < 0) return { d: '', dp: x.dp };
  if (nd >= x.d.length) return x;
  const next = x.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (nd + 1 < x.d.length) up = true; // more non-zero digits follow (trailing zeros were trimmed)
  else up = nd > 0 && (x.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  let d = x.d.slice(0, nd);
  let dp = x.dp;
  if (up) {
    let i = d.length - 1;
    const chars = d.split('');
    while (i >= 0 && chars[i] === '9') {
      chars[i] = '0';
      i--;
    }
    if (i < 0) {
      chars.unshift('1');
      chars.pop();
      dp++;
      if (chars.length === 0) chars.push('1');
    } else {
      chars[i] = String.fromCharCode((chars[i] as string).charCodeAt(0) + 1);
    }
    d = chars.join('');
  }
  return { d: d.replace(/0+$/, ''), dp };
}

function fmtE(neg: boolean, x: Digits, prec: number, fmt: 'e' | 'E'): string {
  let s = neg ? '-' : '';
  s += x.d.length === 0 ? '0' : (x.d[0] as string);
  if (prec > 0) {
    s += '.';
    const rest = x.d.slice(1, 1 + prec);
    s += rest + '0'.repeat(prec - rest.length);
  }
  s += fmt;
  let exp = x.d.length === 0 ? 0 : x.dp - 1;
  s += exp < 0 ? '-' : '+';
  exp = Math.abs(exp);
  s += exp < 10 ? `0${exp}` : String(exp);
  return s;
}

function fmtF(neg: boolean, x: Digits, prec: number): string {
  let s = neg ? '-' : '';
  if (x.dp > 0) {
    const m = Math.min(x.d.length, x.dp);
    s += x.d.slice(0, m) + '0'.repeat(x.dp - m);
  } else {
    s += '0';
  }
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = x.dp + i - 1;
      s += j >= 0 && j < x.d.length ? (x.d[j] as string) : '0';
    }
  }
  return s;
}

export type FloatFormat = 'e' | 'E' | 'f' | 'F' | 'g' | 'G';

/** strconv.FormatFloat(v, fmt, prec, 64). */
export function formatGoFloat(v: number, fmt: FloatFormat, prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  const abs = Math.abs(v);
  const shortest = prec < 0;
  let x: Digits;
  let p = prec;
  if (shortest) {
    x = shortestDigits(abs);
    switch (fmt) {
      case 'e':
      case 'E':
        p = Math.max(x.d.length - 1, 0);
        break;
      case 'f':
      case 'F':
        p = Math.max(x.d.length - x.dp, 0);
        break;
      default:
        p = x.d.length;
    }
  } else {
    const exact = exactDigits(abs);
    switch (fmt) {
      case 'e':
      case 'E':
        x = roundDigits(exact, p + 1);
        break;
      case 'f':
      case 'F':
        x = roundDigits(exact, exact.dp + p);
        break;
      default:
        if (p === 0) p = 1;
        x = roundDigits(exact, p);
    }
  }
  if (fmt === 'e' || fmt === 'E') return fmtE(neg, x, p, fmt);
  if (fmt === 'f' || fmt === 'F') return fmtF(neg, x, p);
  // %g: %e for large and small exponents, %f otherwise.
  let eprec = p;
  if (eprec > x.d.length && x.d.length >= x.dp) eprec = x.d.length;
  if (shortest) eprec = 6;
  const exp = x.dp - 1;
  if (x.d.length !== 0 && (exp < -4 || exp >= eprec)) {
    if (p > x.d.length) p = x.d.length;
    return fmtE(neg, x, p - 1, fmt === 'g' ? 'e' : 'E');
  }
  if (p > x.dp) p = x.d.length;
  return fmtF(neg, x, Math.max(p - x.dp, 0));
}
