import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so equal data always hashes equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as Record<string, unknown>).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** Short, stable hash of a spec: the `ozy.spec` label and change detector. */
export function specHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

/**
 * The hash of a job's pod template: everything but `numInstances`. It is the
 * `ozy.spec` container label and `DesiredJob.specHash`, so scaling a job
 * never looks like a spec change to the nodes (no restarts on scale).
 */
export function podTemplateHash(spec: { numInstances: number }): string {
  return specHash({ ...spec, numInstances: 0 });
}
