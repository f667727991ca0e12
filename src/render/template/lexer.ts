// Lexer for the Go text/template syntax used by Helm charts: text outside
// `{{ }}`, and inside actions identifiers, fields, variables, literals and
// punctuation. Trim markers (`{{- ` and ` -}}`) are applied here, and
// comments (`{{/* */}}`) are dropped here, so the parser never sees either.
// Hand-written scanning (no regular expressions over the whole input) keeps
// the cost linear in the template size whatever the input.
import { TemplateFailure } from './errors';
import { parseGoNumber } from './gonumber';
import type { TemplateSource } from './source';

export type TokenKind =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'field' // .Name (val without the dot)
  | 'variable' // $ or $name (val includes the $)
  | 'identifier'
  | 'keyword'
  | 'string' // val is the unquoted value
  | 'number'
  | 'bool'
  | 'nil'
  | 'dot'
  | 'pipe'
  | 'leftParen'
  | 'rightParen'
  | 'declare' // :=
  | 'assign' // =
  | 'comma'
  | 'eof';

export interface Token {
  kind: TokenKind;
  val: string;
  pos: number;
  /** Whitespace came right before this token inside an action (chains like `(x).y` need none). */
  spaceBefore: boolean;
  /** For numbers: the parsed value and whether it was written as an integer. */
  num?: number;
  isInt?: boolean;
}

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);
const LEFT = '{{';
const RIGHT = '}}';

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}
function isAlnum(c: string | undefined): boolean {
  if (c === undefined) return false;
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_' || c > '\x7f';
}
function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

export function lex(source: TemplateSource): Token[] {
  const text = source.text;
  const tokens: Token[] = [];
  let pos = 0;
  let trimNextText = false;

  const fail = (at: number, message: string): never => {
    throw TemplateFailure.at({ source, pos: at }, message);
  };
  const push = (kind: TokenKind, val: string, at: number, spaceBefore = false, extra?: Partial<Token>): void => {
    tokens.push({ kind, val, pos: at, spaceBefore, ...extra });
  };

  while (pos < text.length) {
    const open = text.indexOf(LEFT, pos);
    let chunk = text.slice(pos, open < 0 ? text.length : open);
    let chunkPos = pos;
    if (trimNextText) {
      let skip = 0;
      while (isSpace(chunk[skip])) skip++;
      chunkPos += skip;
      chunk = chunk.slice(skip);
      trimNextText = false;
    }
    if (open < 0) {
      if (chunk) push('text', chunk, chunkPos);
      break;
    }
    let inner = open + LEFT.length;
    const trimLeft = text[inner] === '-' && isSpace(text[inner + 1]);
    if (trimLeft) {
      // A manual scan: a regex like /\s+$/ is quadratic on long runs of spaces.
      let end = chunk.length;
      while (end > 0 && isSpace(chunk[end - 1])) end--;
      chunk = chunk.slice(0, end);
      inner += 2;
    }
    if (chunk) push('text', chunk, chunkPos);

    // A comment must be the whole action: `{{/* ... */}}`, trim markers allowed.
    let commentStart = inner;
    while (trimLeft && isSpace(text[commentStart])) commentStart++;
    if (text.startsWith('/*', commentStart)) {
      const end = text.indexOf('*/', commentStart + 2);
      if (end < 0) fail(open, 'unclosed comment');
      const after = end + 2;
      if (text.startsWith(RIGHT, after)) {
        pos = after + RIGHT.length;
      } else if (isSpace(text[after]) && text[after + 1] === '-' && text.startsWith(RIGHT, after + 2)) {
        pos = after + 2 + RIGHT.length;
        trimNextText = true;
      } else {
        fail(after, 'comment ends before closing delimiter');
      }
      continue;
    }

    push('leftDelim', LEFT, open);
    const closed = lexAction(inner);
    pos = closed.end;
    trimNextText = closed.trimRight;
  }
  push('eof', '', text.length);
  return tokens;

  /** Lexes one action starting after its left delimiter; returns where the text resumes. */
  function lexAction(start: number): { end: number; trimRight: boolean } {
    let p = start;
    let parenDepth = 0;
    let space = false;
    for (;;) {
      if (p >= text.length) return fail(start - LEFT.length, 'unclosed action');
      const c = text[p] as string;
      // Right delimiter, possibly with a trim marker (" -}}"); checked before spaces are eaten.
      if (isSpace(c) && text[p + 1] === '-' && text.startsWith(RIGHT, p + 2)) {
        if (parenDepth > 0) fail(p, 'unclosed left paren');
        push('rightDelim', RIGHT, p + 2, true);
        return { end: p + 2 + RIGHT.length, trimRight: true };
      }
      if (text.startsWith(RIGHT, p)) {
        if (parenDepth > 0) fail(p, 'unclosed left paren');
        push('rightDelim', RIGHT, p, space);
        return { end: p + RIGHT.length, trimRight: false };
      }
      if (isSpace(c)) {
        space = true;
        p++;
        continue;
      }
      const at = p;
      const sp = space;
      space = false;
      if (c === '|') {
        push('pipe', c, at, sp);
        p++;
      } else if (c === '(') {
        parenDepth++;
        push('leftParen', c, at, sp);
        p++;
      } else if (c === ')') {
        if (parenDepth === 0) fail(at, 'unexpected right paren');
        parenDepth--;
        push('rightParen', c, at, sp);
        p++;
      } else if (c === ',') {
        push('comma', c, at, sp);
        p++;
      } else if (c === ':') {
        if (text[p + 1] !== '=') fail(at, 'expected :=');
        push('declare', ':=', at, sp);
        p += 2;
      } else if (c === '=') {
        push('assign', c, at, sp);
        p++;
      } else if (c === '"') {
        p = lexQuoted(at, sp);
      } else if (c === '`') {
        const end = text.indexOf('`', at + 1);
        if (end < 0) fail(at, 'unterminated raw quoted string');
        push('string', text.slice(at + 1, end), at, sp);
        p = end + 1;
      } else if (c === "'") {
        p = lexChar(at, sp);
      } else if (c === '$') {
        p = at + 1;
        while (isAlnum(text[p])) p++;
        push('variable', text.slice(at, p), at, sp);
      } else if (c === '.') {
        if (isDigit(text[p + 1])) {
          p = lexNumber(at, sp);
        } else if (isAlnum(text[p + 1])) {
          p = at + 1;
          while (isAlnum(text[p])) p++;
          push('field', text.slice(at + 1, p), at, sp);
        } else {
          push('dot', '.', at, sp);
          p++;
        }
      } else if (c === '+' || c === '-' || isDigit(c)) {
        p = lexNumber(at, sp);
      } else if (isAlnum(c)) {
        p = at;
        while (isAlnum(text[p])) p++;
        const word = text.slice(at, p);
        if (word === 'true' || word === 'false') push('bool', word, at, sp);
        else if (word === 'nil') push('nil', word, at, sp);
        else if (KEYWORDS.has(word)) push('keyword', word, at, sp);
        else push('identifier', word, at, sp);
      } else {
        fail(at, `unexpected ${JSON.stringify(c)} in action`);
      }
    }
  }

  function lexQuoted(at: number, sp: boolean): number {
    let p = at + 1;
    let out = '';
    for (;;) {
      const c = text[p];
      if (c === undefined || c === '\n') return fail(at, 'unterminated quoted string');
      if (c === '"') break;
      if (c === '\\') {
        const { value, next } = unescape(p);
        out += value;
        p = next;
        continue;
      }
      out += c;
      p++;
    }
    push('string', out, at, sp);
    return p + 1;
  }

  function lexChar(at: number, sp: boolean): number {
    let p = at + 1;
    let value: string;
    if (text[p] === '\\') {
      const r = unescape(p);
      value = r.value;
      p = r.next;
    } else {
      const cp = text.codePointAt(p);
      if (cp === undefined || text[p] === "'" || text[p] === '\n') return fail(at, 'malformed character constant');
      value = String.fromCodePoint(cp);
      p += value.length;
    }
    if (text[p] !== "'") return fail(at, 'unterminated character constant');
    // Go treats a character constant as its code point, a number.
    const n = value.codePointAt(0) ?? 0;
    push('number', text.slice(at, p + 1), at, sp, { num: n, isInt: true });
    return p + 1;
  }

  /** Go string escapes; `p` is at the backslash. */
  function unescape(p: number): { value: string; next: number } {
    const e = text[p + 1];
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    if (e !== undefined && simple[e] !== undefined) return { value: simple[e] as string, next: p + 2 };
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen > 0) {
      const digits = text.slice(p + 2, p + 2 + hexLen);
      if (digits.length !== hexLen || !/^[0-9a-fA-F]+$/.test(digits)) return fail(p, 'invalid escape in string');
      const cp = parseInt(digits, 16);
      if (cp > 0x10ffff) return fail(p, 'invalid escape in string');
      return { value: String.fromCodePoint(cp), next: p + 2 + hexLen };
    }
    if (e !== undefined && e >= '0' && e <= '7') {
      const digits = text.slice(p + 1, p + 4);
      if (!/^[0-7]{3}$/.test(digits)) return fail(p, 'invalid escape in string');
      return { value: String.fromCharCode(parseInt(digits, 8)), next: p + 4 };
    }
    return fail(p, 'invalid escape in string');
  }

  /** Go's lexNumber: scans what could be a number, then parses it with Go's rules (gonumber.ts). */
  function lexNumber(at: number, sp: boolean): number {
    let p = at;
    if (text[p] === '+' || text[p] === '-') p++;
    let digits = '0123456789_';
    if (text[p] === '0' && /[xXoObB]/.test(text[p + 1] ?? '')) {
      const base = (text[p + 1] as string).toLowerCase();
      digits = base === 'x' ? '0123456789abcdefABCDEF_' : base === 'o' ? '01234567_' : '01_';
      p += 2;
    }
    const run = (set: string): void => {
      while (p < text.length && set.includes(text[p] as string)) p++;
    };
    run(digits);
    if (text[p] === '.') {
      p++;
      run(digits);
    }
    if (digits.length === 11 && (text[p] === 'e' || text[p] === 'E')) {
      p++;
      if (text[p] === '+' || text[p] === '-') p++;
      run('0123456789_');
    }
    if (digits.length === 23 && (text[p] === 'p' || text[p] === 'P')) {
      p++;
      if (text[p] === '+' || text[p] === '-') p++;
      run('0123456789_');
    }
    if (text[p] === 'i') p++;
    if (isAlnum(text[p])) {
      let q = p + 1;
      while (isAlnum(text[q])) q++;
      fail(at, `bad number syntax: ${JSON.stringify(text.slice(at, q))}`);
    }
    const literal = text.slice(at, p);
    const parsed = parseGoNumber(literal);
    if (!parsed.ok) fail(at, parsed.message);
    else push('number', literal, at, sp, { num: parsed.value, isInt: parsed.isInt });
    return p;
  }
}
