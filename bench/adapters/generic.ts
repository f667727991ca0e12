// Loading a benchmark module another engineer owns, which may not exist yet
// (bench/node.ts, bench/failover.ts), and a fallback rendering for results
// whose shape no adapter knows: every finite number becomes a row, so a
// figure is never silently dropped.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Figure, Section } from '../lib/figures';

/** The exported function `fn` of bench/<name>.js, or undefined when the module or export is absent. */
export function optionalBench(name: string, fn: string): (() => Promise<unknown>) | undefined {
  const file = path.join(__dirname, '..', `${name}.js`);
  if (!fs.existsSync(file)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod: unknown = require(file);
  if (typeof mod !== 'object' || mod === null) return undefined;
  const f: unknown = (mod as Record<string, unknown>)[fn];
  return typeof f === 'function' ? (f as () => Promise<unknown>) : undefined;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every finite number in `value`, by dotted path (arrays by index). */
export function flattenNumbers(value: unknown, prefix = ''): Array<[string, number]> {
  if (typeof value === 'number' && Number.isFinite(value)) return [[prefix, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => flattenNumbers(v, `${prefix}[${i}]`));
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => flattenNumbers(v, prefix ? `${prefix}.${k}` : k));
  return [];
}

export function genericSection(id: string, title: string, result: unknown, durationMs: number): Section {
  const figures: Figure[] = flattenNumbers(result).map(([p, v]) => ({ id: `${id}.${p}`, label: p, value: v, unit: /ms$|Ms$/i.test(p) ? 'ms' : '' }));
  return {
    id,
    title,
    figures,
    notes: ['Rendered generically: the harness has no adapter for this result shape yet, so no ratios are shown.'],
    durationMs,
    raw: result,
  };
}
