// The one place sizes, CPU amounts and durations are parsed into numbers
// (bytes, millicores, milliseconds) and formatted back. Everything after the
// renderer works with the numbers only.
//
// Sizes: K, M, G, T are BINARY multiples (1024-based), as Docker and
// docker-compose read "512M" (536870912 bytes); Ki, Mi, Gi, Ti mean the
// same. Lowercase units and a trailing B are accepted ("512mb").

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

const SIZE_UNITS: Record<string, number> = { '': 1, k: KiB, m: MiB, g: GiB, t: TiB };

const SIZE_RE = /^([0-9]+(?:\.[0-9]+)?)(?:([kmgt])i?)?b?$/i;
const CPU_RE = /^(?:([0-9]+(?:\.[0-9]+)?)|([0-9]+)m)$/;
const DURATION_RE = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/;
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Bytes from `512M`, `2G`, `100Ki`, `1.5G`, `"1024"` or 1024; undefined if not a size. */
export function parseSize(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  if (typeof input !== 'string') return undefined;
  const m = SIZE_RE.exec(input);
  if (!m) return undefined;
  const bytes = Math.round(Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Millicores from `0.5`, `"2"`, `"250m"`; undefined if not a CPU amount. */
export function parseCpu(input: unknown): number | undefined {
  let millis: number;
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) return undefined;
    millis = Math.round(input * 1000);
  } else if (typeof input === 'string') {
    const m = CPU_RE.exec(input);
    if (!m) return undefined;
    millis = m[1] !== undefined ? Math.round(Number(m[1]) * 1000) : Number(m[2]);
  } else {
    return undefined;
  }
  return Number.isSafeInteger(millis) ? millis : undefined;
}

/** Milliseconds from seconds (`30`, `0.5`) or `500ms`, `5s`, `1m`, `1h`. */
export function parseDurationMs(input: unknown): number | undefined {
  let ms: number;
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) return undefined;
    ms = Math.round(input * 1000);
  } else if (typeof input === 'string') {
    const m = DURATION_RE.exec(input);
    if (!m) return undefined;
    ms = Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!);
  } else {
    return undefined;
  }
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The shortest exact size string: 536870912 → "512M", 1536 → "1536", 1000 → 1000. */
export function formatSize(bytes: number): string | number {
  for (const [unit, factor] of [['T', TiB], ['G', GiB], ['M', MiB], ['K', KiB]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return bytes;
}

/** Human-readable size for messages: 4194304 → "4Mi", 1610612736 → "1.5Gi". */
export function describeSize(bytes: number): string {
  for (const [unit, factor] of [['Ti', TiB], ['Gi', GiB], ['Mi', MiB], ['Ki', KiB]] as const) {
    if (bytes >= factor) return `${Number((bytes / factor).toFixed(2))}${unit}`;
  }
  return `${bytes} bytes`;
}

/** 250 → "250m", 2000 → "2". */
export function formatCpu(millicores: number): string {
  return millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`;
}

/** 500 → "500ms", 5000 → "5s", 60000 → "1m". */
export function formatDuration(ms: number): string {
  if (ms > 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms > 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
