// "did you mean `command`?" for an unknown field: the allowed name closest
// to what was written, by edit distance (a transposition counts as one
// edit, as typing slips do), ignoring case, `_` and `-` (so `num_instances`
// and `NumInstances` find `numInstances`), plus the names that people
// coming from docker-compose and Kubernetes write for ours. Pure.

/** Other systems' words for our fields. */
const ALIASES: Record<string, string> = {
  replicas: 'numInstances',
  instances: 'numInstances',
  entrypoint: 'command',
  args: 'command',
  env: 'environment',
  mem_limit: 'memory',
  memlimit: 'memory',
  cpus: 'cpu',
  restartpolicy: 'restart',
  livenessprobe: 'healthcheck',
  readinessprobe: 'healthcheck',
  dependson: 'depends_on',
  volumemounts: 'volumes',
  stopgraceperiod: 'stopGrace',
  terminationgraceperiodseconds: 'stopGrace',
};

function fold(s: string): string {
  return s.toLowerCase().replace(/[_-]/g, '');
}

/** The allowed name the user most likely meant, or undefined when none is close. */
export function closestName(written: string, allowed: readonly string[]): string | undefined {
  if (allowed.length === 0 || written.length > 64) return undefined;
  const w = fold(written);
  const byFold = allowed.find((a) => fold(a) === w);
  if (byFold !== undefined) return byFold;
  const alias = ALIASES[w];
  if (alias !== undefined && allowed.includes(alias)) return alias;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const a of allowed) {
    const d = editDistance(w, fold(a));
    if (d < bestDistance) {
      best = a;
      bestDistance = d;
    }
  }
  // One slip in a short name, up to a third of the letters in a long one.
  const limit = Math.max(1, Math.floor(w.length / 3));
  return bestDistance <= limit ? best : undefined;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[rows - 1]![cols - 1]!;
}
