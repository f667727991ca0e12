// `.env` and `env_file` files, as the Compose Specification reads them
// (05-services.md "Env_file format"): `VAR=VAL` lines, `#` comments, an
// optional `export ` prefix; single-quoted values are literal (`\'` escapes
// a quote), double-quoted values take `\n \r \t \\ \"` escapes, may span
// lines, and are interpolated; unquoted values end at ` #` and are
// interpolated; `VAR` alone takes the variable from the environment (unset
// if it is not there). `raw` format: everything after the first `=`, as is.
// Later variables of the file see earlier ones when interpolated.
import { interpolate, type Lookup } from './interpolate';

export interface EnvFile {
  /** In file order; a later duplicate replaces the earlier value in place. */
  vars: Map<string, string>;
}

export type EnvParse = { ok: true; env: EnvFile } | { ok: false; error: string };

export function parseEnvFile(text: string, lookup: Lookup, opts: { raw?: boolean } = {}): EnvParse {
  const vars = new Map<string, string>();
  const local: Lookup = (name) => (vars.has(name) ? vars.get(name) : lookup(name));
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  let i = 0;
  let line = 1;
  try {
    while (i < src.length) {
      const eol = src.indexOf('\n', i) < 0 ? src.length : src.indexOf('\n', i);
      const raw = src.slice(i, eol);
      const trimmed = raw.trim();
      if (trimmed === '' || trimmed.startsWith('#')) {
        i = eol + 1;
        line++;
        continue;
      }
      const body = trimmed.startsWith('export ') ? trimmed.slice(7).trimStart() : trimmed;
      const eq = body.indexOf('=');
      if (eq < 0) {
        const name = body.replace(/\s+#.*$/, '').trim();
        const v = lookup(name);
        if (v !== undefined) vars.set(name, v);
        i = eol + 1;
        line++;
        continue;
      }
      const name = body.slice(0, eq).trim();
      if (name === '' || /\s/.test(name)) return { ok: false, error: `line ${line}: expected VAR=VALUE` };
      // Where the value starts in `src` (the value may continue past this line when quoted).
      const valueStart = i + raw.indexOf('=') + 1;
      let j = valueStart;
      while (j < eol && (src[j] === ' ' || src[j] === '\t')) j++;
      const q = src[j];
      if (opts.raw) {
        vars.set(name, src.slice(j, eol).trimEnd());
        i = eol + 1;
        line++;
      } else if (q === "'" || q === '"') {
        const { value, end } = quoted(src, j, q, line);
        vars.set(name, q === '"' ? interpolate(value, local, `line ${line}`).value : value);
        line += countNewlines(src.slice(i, end));
        const next = src.indexOf('\n', end);
        i = next < 0 ? src.length : next + 1;
        line++;
      } else {
        let value = src.slice(j, eol);
        const hash = value.search(/\s#/);
        if (hash >= 0) value = value.slice(0, hash);
        vars.set(name, interpolate(value.trim(), local, `line ${line}`).value);
        i = eol + 1;
        line++;
      }
    }
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  return { ok: true, env: { vars } };
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', $: '$$' };

/** A quoted value starting at `start` (the quote); `end` is just past the closing quote. */
function quoted(src: string, start: number, q: string, line: number): { value: string; end: number } {
  let value = '';
  for (let k = start + 1; k < src.length; k++) {
    const c = src[k]!;
    if (c === q) return { value, end: k + 1 };
    if (c === '\\' && k + 1 < src.length) {
      const e = src[k + 1]!;
      if (e === q) {
        value += q;
        k++;
        continue;
      }
      if (q === '"' && e in ESCAPES) {
        // `\$` keeps a literal `$` through the interpolation that follows: written as `$$`.
        value += ESCAPES[e];
        k++;
        continue;
      }
    }
    value += c;
  }
  throw new Error(`line ${line}: the ${q === '"' ? 'double' : 'single'} quote is not closed`);
}

function countNewlines(s: string): number {
  let n = 0;
  for (const c of s) if (c === '\n') n++;
  return n;
}
