// Sprig's remaining deterministic string, path and type functions
// (ported from Masterminds/sprig strings.go, functions.go and
// the goutils / xstrings helpers they call). Functions that read the clock,
// randomness, the environment or the network are left out on purpose.
import { createHash } from 'node:crypto';
import { FunctionError } from '../errors';
import { asInt, asString, newMap, setOwn, typeName } from '../values';
import { spec, type FunctionSpec } from './types';

// ---- goutils / xstrings ----

function abbreviateFull(str: string, offsetIn: number, maxWidth: number): string {
  if (str === '') return '';
  if (maxWidth < 4) throw new FunctionError('minimum abbreviation width is 4');
  if (str.length <= maxWidth) return str;
  let offset = Math.min(offsetIn, str.length);
  if (str.length - offset < maxWidth - 3) offset = str.length - (maxWidth - 3);
  if (offset <= 4) return `${str.slice(0, maxWidth - 3)}...`;
  if (maxWidth < 7) throw new FunctionError('minimum abbreviation width with offset is 7');
  if (offset + maxWidth - 3 < str.length) return `...${abbreviateFull(str.slice(offset), 0, maxWidth - 3)}`;
  return `...${str.slice(str.length - (maxWidth - 3))}`;
}

function wrapCustom(str: string, wrapLengthIn: number, newLineIn: string, wrapLongWords: boolean): string {
  if (str === '') return '';
  const newLine = newLineIn === '' ? '\n' : newLineIn;
  const wrapLength = Math.max(1, wrapLengthIn);
  const n = str.length;
  let offset = 0;
  let out = '';
  while (n - offset > wrapLength) {
    if (str[offset] === ' ') {
      offset++;
      continue;
    }
    const end = wrapLength + offset + 1;
    const space = str.slice(offset, end).lastIndexOf(' ');
    if (space >= 0) {
      out += str.slice(offset, offset + space) + newLine;
      offset += space + 1;
    } else if (wrapLongWords) {
      out += str.slice(offset, wrapLength + offset) + newLine;
      offset += wrapLength;
    } else {
      const e = wrapLength + offset;
      const index = str.indexOf(' ', e);
      if (index < 0) {
        out += str.slice(offset);
        offset = n;
      } else {
        out += str.slice(offset, index) + newLine;
        offset = index + 1;
      }
    }
  }
  return out + str.slice(offset);
}

const isUpper = (c: string): boolean => c !== c.toLowerCase() && c === c.toUpperCase();
const isLower = (c: string): boolean => c !== c.toUpperCase() && c === c.toLowerCase();
const isAlnum = (c: string): boolean => /^[\p{L}\p{N}]$/u.test(c);

/** Words of an identifier: split at separators, lower→Upper and Upper→Upper+lower (HTTPServer → HTTP Server). */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  const chars = Array.from(s);
  chars.forEach((c, i) => {
    if (!isAlnum(c)) {
      if (cur) out.push(cur);
      cur = '';
      return;
    }
    const prev = chars[i - 1] ?? '';
    const next = chars[i + 1] ?? '';
    if (cur && isUpper(c) && (isLower(prev) || /\p{N}/u.test(prev) || (isUpper(prev) && isLower(next)))) {
      out.push(cur);
      cur = '';
    }
    cur += c;
  });
  if (cur) out.push(cur);
  return out;
}

/** xstrings.ToCamelCase as Sprig's camelcase uses it: "_" separated, first letter upper, leading "_" kept. */
function toCamelCase(str: string): string {
  const chars = Array.from(str);
  let i = 0;
  let out = '';
  while (i < chars.length && chars[i] === '_') out += chars[i++];
  if (i >= chars.length) return out;
  let r0 = (chars[i++] as string).toUpperCase();
  while (i < chars.length) {
    const r1 = r0;
    r0 = chars[i++] as string;
    if (r1 === '_' && r0 === '_') {
      out += r1;
      continue;
    }
    r0 = r1 === '_' ? r0.toUpperCase() : r0.toLowerCase();
    if (r1 !== '_') out += r1;
  }
  return out + r0;
}

function swapCase(s: string): string {
  return Array.from(s, (c) => (isUpper(c) ? c.toLowerCase() : isLower(c) ? c.toUpperCase() : c)).join('');
}

function adler32(s: string): number {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(s, 'utf8')) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return (b * 65536 + a) >>> 0;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function b32enc(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i += 5) {
    const chunk = bytes.subarray(i, i + 5);
    let bits = 0n;
    for (let j = 0; j < 5; j++) bits = (bits << 8n) | BigInt(chunk[j] ?? 0);
    const chars = Math.ceil((chunk.length * 8) / 5);
    for (let j = 0; j < 8; j++) out += j < chars ? B32[Number((bits >> BigInt(35 - 5 * j)) & 31n)] : '=';
  }
  return out;
}

function b32dec(s: string): string {
  if (s.length % 8 !== 0 || !/^[A-Z2-7]*=*$/.test(s)) return 'illegal base32 data at input byte 0';
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i += 8) {
    const block = s.slice(i, i + 8).replace(/=+$/, '');
    let bits = 0n;
    for (let j = 0; j < 8; j++) bits = (bits << 5n) | BigInt(j < block.length ? B32.indexOf(block[j] as string) : 0);
    const n = Math.floor((block.length * 5) / 8);
    for (let j = 0; j < n; j++) bytes.push(Number((bits >> BigInt(32 - 8 * j)) & 255n));
  }
  return Buffer.from(bytes).toString('utf8');
}

// ---- Go's path package ----

export function pathClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

function pathBase(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function pathDir(p: string): string {
  return pathClean(p.slice(0, p.lastIndexOf('/') + 1));
}

function pathExt(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

function splitN(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  const parts = sep === '' ? Array.from(s) : s.split(sep);
  if (n < 0 || parts.length <= n) return parts;
  const head = parts.slice(0, n - 1);
  return [...head, parts.slice(n - 1).join(sep)];
}

export const SPRIG_STRING_FUNCTIONS: ReadonlyArray<[string, FunctionSpec]> = [
  ['hello', spec(0, 0, () => 'Hello!')],
  ['abbrev', spec(2, 2, ([w, s]) => {
    const width = asInt(w, 'width');
    return width < 4 ? asString(s) : abbreviateFull(asString(s), 0, width);
  })],
  ['abbrevboth', spec(3, 3, ([l, r, s]) => {
    const left = asInt(l, 'left');
    const right = asInt(r, 'right');
    if (right < 4 || (left > 0 && right < 7)) return asString(s);
    return abbreviateFull(asString(s), left, right);
  })],
  // goutils.Uncapitalize: the first letter of every whitespace-separated word.
  ['untitle', spec(1, 1, ([s]) => {
    let prevSpace = true;
    return Array.from(asString(s), (c) => {
      const out = prevSpace ? c.toLowerCase() : c;
      prevSpace = /\s/u.test(c);
      return out;
    }).join('');
  })],
  ['trimall', spec(2, 2, ([cutset, s]) => {
    const cut = new Set(Array.from(asString(cutset)));
    const chars = Array.from(asString(s));
    let a = 0;
    let b = chars.length;
    while (a < b && cut.has(chars[a] as string)) a++;
    while (b > a && cut.has(chars[b - 1] as string)) b--;
    return chars.slice(a, b).join('');
  })],
  ['initials', spec(1, 1, ([s]) => asString(s).split(/\s+/u).filter((w) => w !== '').map((w) => Array.from(w)[0]).join(''))],
  ['swapcase', spec(1, 1, ([s]) => swapCase(asString(s)))],
  ['snakecase', spec(1, 1, ([s]) => words(asString(s)).map((w) => w.toLowerCase()).join('_'))],
  ['kebabcase', spec(1, 1, ([s]) => words(asString(s)).map((w) => w.toLowerCase()).join('-'))],
  ['camelcase', spec(1, 1, ([s]) => toCamelCase(asString(s)))],
  ['wrap', spec(2, 2, ([l, s]) => wrapCustom(asString(s), asInt(l, 'width'), '', false))],
  ['wrapWith', spec(3, 3, ([l, sep, s]) => wrapCustom(asString(s), asInt(l, 'width'), asString(sep), true))],
  ['plural', spec(3, 3, ([one, many, n]) => (asInt(n, 'count') === 1 ? asString(one) : asString(many)))],
  ['sha1sum', spec(1, 1, ([s]) => createHash('sha1').update(asString(s), 'utf8').digest('hex'))],
  ['sha512sum', spec(1, 1, ([s]) => createHash('sha512').update(asString(s), 'utf8').digest('hex'))],
  ['adler32sum', spec(1, 1, ([s]) => String(adler32(asString(s))))],
  ['b32enc', spec(1, 1, ([s]) => b32enc(asString(s)))],
  ['b32dec', spec(1, 1, ([s]) => b32dec(asString(s)))],
  ['splitn', spec(3, 3, ([sep, n, s], ctx) => {
    const out = newMap();
    const parts = splitN(asString(s), asString(sep), asInt(n, 'count'));
    ctx.budget.step(parts.length);
    parts.forEach((p, i) => setOwn(out, `_${i}`, p));
    return out;
  })],
  ['typeIs', spec(2, 2, ([t, v]) => asString(t) === typeName(v))],
  ['typeIsLike', spec(2, 2, ([t, v]) => {
    const want = asString(t);
    const got = typeName(v);
    return want === got || `*${want}` === got;
  })],
  ['base', spec(1, 1, ([p]) => pathBase(asString(p)))],
  ['dir', spec(1, 1, ([p]) => pathDir(asString(p)))],
  ['clean', spec(1, 1, ([p]) => pathClean(asString(p)))],
  ['ext', spec(1, 1, ([p]) => pathExt(asString(p)))],
  ['isAbs', spec(1, 1, ([p]) => asString(p).startsWith('/'))],
  ['osBase', spec(1, 1, ([p]) => pathBase(asString(p)))],
  ['osDir', spec(1, 1, ([p]) => pathDir(asString(p)))],
  ['osClean', spec(1, 1, ([p]) => pathClean(asString(p)))],
  ['osExt', spec(1, 1, ([p]) => pathExt(asString(p)))],
  ['osIsAbs', spec(1, 1, ([p]) => asString(p).startsWith('/'))],
];
