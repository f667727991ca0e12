// Number literals as Go's template parser reads them (parse/node.go's
// newNumber over strconv.ParseInt / ParseFloat with base 0): decimal,
// 0x / 0o / 0b prefixes, a leading 0 for octal (0377 is 255), underscores
// between digits, decimal and hexadecimal floats (0x1.ep+2 is 7.5).
// Imaginary numbers exist in Go templates but not here.

export type ParsedNumber = { ok: true; value: number; isInt: boolean } | { ok: false; message: string };

const INT64_MAX = 9223372036854775807n;

/** strconv's underscoreOK: "_" only between digits, or after a base prefix. */
function underscoreOK(text: string): boolean {
  let s = text;
  if (s[0] === '+' || s[0] === '-') s = s.slice(1);
  let saw = '^';
  let i = 0;
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && /[bBoOxX]/.test(s[1] as string)) {
    i = 2;
    saw = '0';
    hex = (s[1] as string).toLowerCase() === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i] as string;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** strconv.ParseInt(text, 0, 64) / ParseUint, as a BigInt, or undefined. */
export function parseGoInt(text: string): bigint | undefined {
  if (text.includes('_') && !underscoreOK(text)) return undefined;
  const s = text.replace(/_/g, '');
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const body = m[2] as string;
  let v: bigint;
  if (/^0[oO]/.test(body)) v = BigInt(`0o${body.slice(2)}`);
  else if (/^0[0-7]+$/.test(body)) v = BigInt(`0o${body.slice(1)}`);
  else v = BigInt(body.toLowerCase());
  return m[1] === '-' ? -v : v;
}

/** strconv.ParseFloat(text, 64) for Go's decimal and hexadecimal float syntax. */
function parseGoFloat(text: string): number | undefined {
  if (text.includes('_') && !underscoreOK(text)) return undefined;
  const s = text.replace(/_/g, '');
  if (/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(s)) return Number(s);
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(s);
  if (hex) {
    const intPart = hex[2] as string;
    const frac = hex[3] ?? '';
    if (intPart === '' && frac === '') return undefined;
    const mantissa = parseInt(intPart + frac || '0', 16);
    const value = mantissa * 2 ** (Number(hex[4]) - 4 * frac.length);
    return hex[1] === '-' ? -value : value;
  }
  return undefined;
}

export function parseGoNumber(text: string): ParsedNumber {
  if (text.endsWith('i')) return { ok: false, message: `complex number ${text} is not supported` };
  const asInt = parseGoInt(text);
  if (asInt !== undefined) {
    if (asInt > INT64_MAX || asInt < -INT64_MAX - 1n) return { ok: false, message: `${text} overflows int` };
    return { ok: true, value: Number(asInt), isInt: true };
  }
  const asFloat = parseGoFloat(text);
  if (asFloat === undefined) return { ok: false, message: `bad number syntax: ${JSON.stringify(text)}` };
  if (!Number.isFinite(asFloat)) return { ok: false, message: `number out of range: ${text}` };
  if (!/[.eEpP]/.test(text)) return { ok: false, message: `integer overflow: ${JSON.stringify(text)}` };
  return { ok: true, value: asFloat, isInt: false };
}
