// Resource samples of many containers in one request, through podman's
// libpod API (`GET /v4.0.0/libpod/containers/stats?stream=false&containers=ID…`).
// The Docker-compatible stats call costs podman a request per container
// (measured: bench/cpu-sampling.ts); this endpoint answers them together.
// dockerd has no such endpoint (404): callers then fall back to stats().
//
// podman 4.3's answers, checked here: `{"Error": null, "Stats": [...]}`
// with one entry per *running* container (stopped ones are left out); an
// unknown id fails the whole batch with HTTP 200 and `{"Error": {}, "Stats":
// null}`; no `containers` at all means every running container of the
// engine, so an empty list is never sent. `CPUNano` is the cgroup's total
// CPU time (the Docker API's `total_usage`), `SystemNano` the wall clock
// when it was read, in ns.
import type { ContainerStats } from './facts';

/** Ids per request: keeps the query string a few KB (a full id is 64 hex digits). */
export const LIBPOD_STATS_BATCH = 100;

export const LIBPOD_STATS_PATH = '/v4.0.0/libpod/containers/stats?';

/** The reply, by container id; a string says why it is not usable (the whole batch failed). */
export function parseLibpodStats(body: unknown): Map<string, ContainerStats> | string {
  if (body === null || typeof body !== 'object') return 'not a JSON object';
  const o = body as { Error?: unknown; Stats?: unknown };
  if (o.Error !== null && o.Error !== undefined) return `the engine refused the batch (${JSON.stringify(o.Error)})`;
  if (!Array.isArray(o.Stats)) return 'no Stats list';
  const out = new Map<string, ContainerStats>();
  for (const s of o.Stats as unknown[]) {
    if (s === null || typeof s !== 'object') continue;
    const e = s as Record<string, unknown>;
    const id = e.ContainerID;
    const cpu = e.CPUNano;
    const at = e.SystemNano;
    if (typeof id !== 'string' || typeof cpu !== 'number' || typeof at !== 'number' || !(at > 0)) continue;
    out.set(id, {
      readAt: new Date(at / 1e6).toISOString(),
      memoryUsage: typeof e.MemUsage === 'number' ? e.MemUsage : 0,
      memoryLimit: typeof e.MemLimit === 'number' ? e.MemLimit : 0,
      cpuTotalNs: cpu,
    });
  }
  return out;
}
