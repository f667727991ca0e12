// What the engine tells us about a container, in our own terms, and the
// pure judgements made from it (state names, log frames). OOM kills: oom.ts.

/** Container states, normalized across dockerd and podman. */
export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead' | 'unknown';

export interface ContainerFacts {
  id: string;
  /** Without the leading '/'. */
  name: string;
  labels: Record<string, string>;
  state: ContainerState;
  /** Meaningful once the container has exited. */
  exitCode: number;
  /** The engine's own OOMKilled flag (always false under podman 4.3; see oom.ts). */
  oomKilledReported: boolean;
  /** Hard memory limit in bytes, 0 for none. */
  memoryLimit: number;
  /** ISO times; undefined when the container never started / has not finished. */
  createdAt?: string;
  startedAt?: string;
  finishedAt?: string;
  /** IP on the engine's bridge (the namespace owner's; shared by the pod). */
  ip?: string;
  /** Host ports the engine bound, by container port: `{"3000/tcp": 41234}` (the owner's; the pod's). */
  hostPorts?: Record<string, number>;
}

/** `NetworkSettings.Ports` → the first bound host port of each container port. */
export function hostPortsOf(ports: unknown): Record<string, number> | undefined {
  if (ports === null || typeof ports !== 'object') return undefined;
  const out: Record<string, number> = {};
  for (const [key, bindings] of Object.entries(ports as Record<string, unknown>)) {
    if (!Array.isArray(bindings)) continue;
    for (const b of bindings as unknown[]) {
      const hostPort = b !== null && typeof b === 'object' ? Number((b as { HostPort?: unknown }).HostPort) : NaN;
      if (Number.isInteger(hostPort) && hostPort > 0 && hostPort < 65536) {
        out[key] = hostPort;
        break;
      }
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export function normalizeState(status: string | undefined): ContainerState {
  switch ((status ?? '').toLowerCase()) {
    case 'created':
    case 'configured': // podman: created, never initialized
    case 'initialized': // podman: runtime container prepared, not started
      return 'created';
    case 'running':
      return 'running';
    case 'paused':
      return 'paused';
    case 'restarting':
      return 'restarting';
    case 'removing':
      return 'removing';
    case 'exited':
    case 'stopped': // podman: stopped but exit not yet processed
      return 'exited';
    case 'dead':
      return 'dead';
    default:
      return 'unknown';
  }
}

/** Engines report "never" as Go's zero time; map it (and junk) to undefined. */
export function engineTime(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '' || value.startsWith('0001-01-01')) return undefined;
  return Number.isNaN(Date.parse(value)) ? undefined : value;
}

/** One resource sample of a running container (stats, not streamed). */
export interface ContainerStats {
  /** ISO time the engine took the sample. */
  readAt: string;
  memoryUsage: number;
  memoryLimit: number;
  /** Cumulative CPU time, nanoseconds. */
  cpuTotalNs: number;
}

/**
 * CPU used between two samples, in millicores. Two samples are needed:
 * podman leaves the "previous" block of a single sample empty, and
 * Docker's percentage formula (× online CPUs) doubles the figure here.
 */
export function cpuMillicores(prev: ContainerStats, cur: ContainerStats): number {
  const dtNs = (Date.parse(cur.readAt) - Date.parse(prev.readAt)) * 1e6;
  if (!(dtNs > 0)) return 0;
  return Math.max(0, ((cur.cpuTotalNs - prev.cpuTotalNs) / dtNs) * 1000);
}

/**
 * Orders engine timestamps (RFC 3339 with up to nanoseconds, trailing
 * zeros trimmed, so not comparable as strings). Undefined sorts first.
 */
export function compareEngineTimes(a: string | undefined, b: string | undefined): number {
  const key = (t: string | undefined): [number, number] => {
    if (t === undefined) return [-Infinity, 0];
    const ms = Date.parse(t);
    const frac = /\.(\d+)/.exec(t)?.[1] ?? '';
    return [Number.isNaN(ms) ? -Infinity : Math.floor(ms / 1000), Number(frac.padEnd(9, '0').slice(0, 9))];
  };
  const [as, an] = key(a);
  const [bs, bn] = key(b);
  return as !== bs ? (as < bs ? -1 : 1) : an - bn;
}
