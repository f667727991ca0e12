// Human-readable amounts for reasons and problem details. Sizes use the
// job format's binary suffixes (1G = 1024 MiB), as the seed writes them:
// "Job requires 12G of memory but only 10G can be allocated."
import { CPU, DISK, MEMORY, type ResourceIndex } from './demand';

const SIZE_UNITS: Array<[string, number]> = [
  ['P', 1024 ** 5],
  ['T', 1024 ** 4],
  ['G', 1024 ** 3],
  ['M', 1024 ** 2],
  ['K', 1024],
];

/** 12884901888 → "12G", 1610612736 → "1.5G", 300 → "300B". */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  const abs = Math.abs(bytes);
  for (const [suffix, size] of SIZE_UNITS) {
    if (abs >= size) return `${sign}${trimDecimals(abs / size)}${suffix}`;
  }
  return `${sign}${abs}B`;
}

/** 1500 → "1.5 CPU", 250 → "0.25 CPU", 2000 → "2 CPUs". */
export function formatCpu(millicores: number): string {
  const cores = Math.round(millicores) / 1000;
  const text = Number.isInteger(cores) ? String(cores) : String(Number(cores.toFixed(3)));
  return `${text} ${Math.abs(cores) > 1 ? 'CPUs' : 'CPU'}`;
}

export function formatAmount(resource: ResourceIndex, amount: number): string {
  return resource === CPU ? formatCpu(amount) : formatBytes(amount);
}

/** How a resource is named in sentences: "memory", "local disk", "CPU". */
export function resourceNoun(resource: ResourceIndex): string {
  if (resource === MEMORY) return 'memory';
  if (resource === DISK) return 'local disk';
  return 'CPU';
}

function trimDecimals(value: number): string {
  // One decimal is enough for a human; never round a non-zero amount to "0".
  const rounded = value >= 10 ? Math.round(value * 10) / 10 : Math.round(value * 100) / 100;
  return String(rounded);
}
