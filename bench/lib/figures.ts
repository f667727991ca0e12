// The shape of what every benchmark reports. A figure is never printed
// alone: it stands next to a floor measured in the same run, a bound, or a
// peer's published number, and the ratio between the two is the headline,
// because these machines are noisy and absolute times drift run to run.

/** What a figure is compared with. */
export interface Comparison {
  /**
   * floor: the same work done by the underlying system alone, measured in this run.
   * bound: a mathematical lower bound (packing). peer: another system's published figure.
   * limit: a hard limit of a dependency (etcd's 128 ops/txn, 1.5 MiB/request).
   */
  kind: 'floor' | 'bound' | 'peer' | 'limit';
  label: string;
  value: number;
  unit: string;
  /** True when measured in this very run; false for published references and constants. */
  measured: boolean;
}

export interface Goal {
  text: string;
  met: boolean;
}

export interface Figure {
  /** Stable dotted id, e.g. "latency.mergeToHealthy.p50". */
  id: string;
  label: string;
  value: number;
  unit: string;
  vs?: Comparison;
  goal?: Goal;
  /** One short line of context (sample count, breakdown...). */
  detail?: string;
}

/** One benchmark's output: a titled group of figures. */
export interface Section {
  /** Filter name and docs marker, e.g. "latency". */
  id: string;
  title: string;
  figures: Figure[];
  /** Generated remarks (goal misses with the measured margin, what bounds a figure). */
  notes: string[];
  durationMs: number;
  /** Set when the benchmark failed; figures may then be partial. */
  error?: string;
  /** Everything measured, for the JSON file. */
  raw?: unknown;
  /** Extra markdown lines (e.g. a table across sizes) placed after the figure table. */
  markdown?: string[];
}

/** value ÷ comparison, or undefined when there is nothing sensible to divide by. */
export function ratioOf(f: Figure): number | undefined {
  if (!f.vs || !Number.isFinite(f.vs.value) || f.vs.value === 0 || !Number.isFinite(f.value)) return undefined;
  return f.value / f.vs.value;
}

/** 1234567 → "1,234,567"; 12.345 → "12.3"; 0.01234 → "0.0123". */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  if (Number.isInteger(v) || abs >= 100) return Math.round(v).toLocaleString('en-US');
  if (abs >= 10) return v.toFixed(1);
  if (abs >= 1) return v.toFixed(2);
  if (abs === 0) return '0';
  return v.toPrecision(3);
}

export function formatValue(v: number, unit: string): string {
  return unit === '' ? formatNumber(v) : `${formatNumber(v)} ${unit}`;
}

export function formatRatio(r: number | undefined): string {
  if (r === undefined) return '–';
  if (r >= 10) return `${r.toFixed(0)}×`;
  if (r >= 0.1) return `${r.toFixed(2)}×`;
  return `${r.toPrecision(2)}×`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${Math.round(bytes)} B`;
}

/** A goal check: `value <= limit` (or >=), with the margin stated for the notes. */
export function goalAtMost(value: number, limit: number, text: string): Goal {
  return { text, met: value <= limit };
}

export function goalAtLeast(value: number, limit: number, text: string): Goal {
  return { text, met: value >= limit };
}

/** "missed by 23% (412 ms against 335 ms)" style text for a figure whose goal failed. */
export function missText(value: number, limit: number, unit: string): string {
  const pct = ((value - limit) / limit) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(0)}% (${formatValue(value, unit)} against ${formatValue(limit, unit)})`;
}
