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
 * The hash of a job's pod template: everything but `numInstances` and the
 * fields that say how and where the pod runs rather than what it is
 * (`update`, `stopGraceMs`, `placement`, `autoscale`). It is the `ozy.spec` container
 * label and `DesiredJob.specHash`, so scaling a job or retuning its update
 * policy never looks like a spec change to the nodes (no restarts).
 */
export function podTemplateHash(spec: { numInstances: number }): string {
  return specHash(podTemplate(spec));
}

/** The part of a spec that podTemplateHash covers. */
export function podTemplate<T extends { numInstances: number }>(spec: T): T {
  const { update: _u, stopGraceMs: _s, placement: _p, autoscale: _a, ...rest } = spec as T & { update?: unknown; stopGraceMs?: unknown; placement?: unknown; autoscale?: unknown };
  return { ...rest, numInstances: 0 } as T;
}
