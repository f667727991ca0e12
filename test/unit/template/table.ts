// Runner for the ported test tables (Go's text/template and fmt tests,
// Sprig's, Helm's, go-yaml's). A case holds what Helm outputs for a
// template and data; a case we deliberately do not follow holds `diff`:
// the reason (listed in helm-style-templates/README.md) and our own
// output or error, which is asserted too, so behaviour cannot drift
// silently. Cases whose data cannot exist here (Go methods, channels,
// complex numbers, typed pointers) are kept as `skip` with the reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LIMITS, renderTemplate } from '../../../src/render/template';
import { compileTemplates } from '../../../src/render/template/engine';

/** Expected failure: true (any error) or a pattern our message must match. */
export type Failure = true | RegExp;

export interface Case {
  name: string;
  tpl: string;
  data?: unknown;
  /** Other template files whose `define`s the template may use. */
  helpers?: Record<string, string>;
  /** Helm's output. */
  out?: string;
  /** Helm fails. */
  err?: Failure;
  /** A documented deliberate difference: our output or error instead of Helm's. */
  diff?: { why: string; out?: string; err?: Failure };
  /** Not portable: the data or feature has no equivalent here. */
  skip?: string;
  /** Only parsing is checked (Go's parse tests compare an internal tree form): rendering must not fail. */
  parseOnly?: boolean;
}

type Result = { ok: true; text: string } | { ok: false; message: string };

function parse(c: Case): Result {
  const r = compileTemplates({ ...c.helpers, template: c.tpl }, DEFAULT_LIMITS);
  return r.ok ? { ok: true, text: '' } : { ok: false, message: r.errors.map((e) => e.message).join('; ') };
}

function run(c: Case): Result {
  if (c.parseOnly) return parse(c);
  const r = renderTemplate(c.tpl, c.data ?? null, { helpers: c.helpers });
  return r.ok ? { ok: true, text: r.text } : { ok: false, message: r.errors.map((e) => e.message).join('; ') };
}

function matches(r: Result, out: string | undefined, err: Failure | undefined): boolean {
  if (err !== undefined) return !r.ok && (err === true || err.test(r.message));
  return r.ok && r.text === out;
}

function show(r: Result): string {
  return r.ok ? `output ${JSON.stringify(r.text)}` : `error ${JSON.stringify(r.message)}`;
}

export interface TableStats {
  cases: number;
  /** Cases whose output or error is Helm's. */
  agree: number;
  /** Documented deliberate differences (asserted against our own behaviour). */
  deliberate: number;
  skipped: number;
}

/** Runs every case; reports each mismatch; logs how many cases agree with Helm. */
export function runTable(title: string, cases: Case[]): void {
  test(`${title} (${cases.length} cases)`, () => {
    const failures: string[] = [];
    const stats: TableStats = { cases: cases.length, agree: 0, deliberate: 0, skipped: 0 };
    for (const c of cases) {
      if (c.skip) {
        stats.skipped++;
        continue;
      }
      const r = run(c);
      const helm = c.parseOnly ? r.ok : matches(r, c.out, c.err);
      if (helm) stats.agree++;
      if (c.diff) {
        stats.deliberate++;
        if (!matches(r, c.diff.out, c.diff.err)) failures.push(`${c.name}: ${JSON.stringify(c.tpl)} (deliberate difference: ${c.diff.why}) expected ${c.diff.err ? `error ${c.diff.err}` : JSON.stringify(c.diff.out)}, got ${show(r)}`);
      } else if (!helm) {
        failures.push(`${c.name}: ${JSON.stringify(c.tpl)} expected ${c.err ? `error ${c.err}` : JSON.stringify(c.out)} (Helm), got ${show(r)}`);
      }
    }
    if (process.env.OZY_TABLE_STATS) {
      process.stdout.write(`TABLE ${title}: ${stats.cases} cases, ${stats.agree} agree with Helm, ${stats.cases - stats.skipped - stats.agree} differ (${stats.deliberate} deliberately), ${stats.skipped} not portable\n`);
    }
    assert.equal(failures.length, 0, `${failures.length} of ${cases.length} cases fail:\n${failures.join('\n')}`);
  });
}

/** Go's `<no value>` for a missing value: Helm's engine removes it from the output. */
export function helmOutput(goOutput: string): string {
  return goOutput.split('<no value>').join('');
}
