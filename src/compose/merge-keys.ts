// YAML merge keys (`<<: *defaults`, `<<: [*a, *b]`), which Compose files use
// with `x-` anchors. The project's loader keeps `<<` an ordinary key (job
// files do not allow it); Compose resolves it, so the importer does: keys of
// the mapping itself win, then the merged mappings in order.
import { isMapping, type Mapping } from './findings';

export function applyMergeKeys(value: unknown, depth = 0): unknown {
  // The loader bounded nesting and expanded size already; this only mirrors it.
  if (depth > 256) return value;
  if (Array.isArray(value)) return value.map((v) => applyMergeKeys(v, depth + 1));
  if (!isMapping(value)) return value;
  const out: Mapping = {};
  const merge = value['<<'];
  const sources = Array.isArray(merge) ? merge : merge === undefined ? [] : [merge];
  for (const [k, v] of Object.entries(value)) if (k !== '<<') out[k] = applyMergeKeys(v, depth + 1);
  for (const source of sources) {
    const resolved = applyMergeKeys(source, depth + 1);
    if (!isMapping(resolved)) continue;
    for (const [k, v] of Object.entries(resolved)) if (!(k in out)) out[k] = v;
  }
  // A `<<` that merged nothing usable stays, so it is reported as an unknown key.
  if (merge !== undefined && !sources.some(isMapping)) out['<<'] = merge;
  return out;
}
