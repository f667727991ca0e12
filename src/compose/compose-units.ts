// Compose's own grammars for durations, byte values and CPU amounts, read
// into the numbers the job format's parser (render/units.ts) also uses.
// Durations are Go's time.ParseDuration (`1m30s`, `1h5m30s20ms`, `500us`,
// `1.5s`; a bare number is seconds, as docker-compose v1 read it); byte
// values are docker/go-units RAMInBytes (`2b`, `1024kb`, `300m`, `1gb`,
// 1024-based, as Docker applies them).
const DURATION_PART = /([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)/y;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds (rounded) of a Compose duration; undefined if it is not one. */
export function composeDurationMs(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input * 1000) : undefined;
  if (typeof input !== 'string' || input.length === 0 || input.length > 64) return undefined;
  if (/^[0-9]+(\.[0-9]+)?$/.test(input)) return Math.round(Number(input) * 1000);
  if (input === '0') return 0;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  let at = 0;
  while (at < input.length) {
    DURATION_PART.lastIndex = at;
    const m = DURATION_PART.exec(input);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    at = DURATION_PART.lastIndex;
  }
  return Number.isSafeInteger(Math.round(total)) ? Math.round(total) : undefined;
}

const BYTES_RE = /^([0-9]+(?:\.[0-9]+)?) ?([kmgtp])?i?b?$/i;
const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Bytes of a Compose byte value (`300m`, `1gb`, `2048k`, 1024); undefined if it is not one. */
export function composeBytes(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  if (typeof input !== 'string') return undefined;
  const m = BYTES_RE.exec(input.trim());
  if (!m) return undefined;
  const bytes = Math.round(Number(m[1]) * BYTE_UNITS[(m[2] ?? '').toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Millicores of a Compose `cpus` (a fractional number of cores, possibly a string); undefined if not one. */
export function composeCpusMillis(input: unknown): number | undefined {
  const n = typeof input === 'number' ? input : typeof input === 'string' && /^[0-9]*\.?[0-9]+$/.test(input.trim()) ? Number(input.trim()) : NaN;
  if (!Number.isFinite(n) || n < 0) return undefined;
  return Math.round(n * 1000);
}

/** A whole number from a YAML number or an interpolated digit string (`replicas: ${N:-2}`). */
export function composeInt(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) ? input : undefined;
  if (typeof input === 'string' && /^[0-9]{1,9}$/.test(input.trim())) return Number(input.trim());
  return undefined;
}

/** Compose booleans after interpolation: YAML true/false or the strings "true"/"false". */
export function composeBool(input: unknown): boolean | undefined {
  if (typeof input === 'boolean') return input;
  if (typeof input === 'string' && /^(true|false)$/i.test(input.trim())) return input.trim().toLowerCase() === 'true';
  return undefined;
}
