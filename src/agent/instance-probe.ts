// One health-check attempt of one container, and the timing rules around
// checks. The agent runs on the host: it reaches a pod on its bridge IP.
import type { HealthCheck, PortMapping } from '../model/job';
import type { ContainerEngine } from '../runtime';
import { probeHttp, probeTcp } from './probes';

export interface Probes {
  http(host: string, port: number, path: string, timeoutMs: number): Promise<boolean>;
  tcp(host: string, port: number, timeoutMs: number): Promise<boolean>;
}

export const NETWORK_PROBES: Probes = { http: probeHttp, tcp: probeTcp };

export interface CheckTarget {
  /** The container's engine id (exec checks). */
  containerId: string | undefined;
  /** The pod's bridge IP, if it has one. */
  podIp: string | undefined;
  /** Every port mapping of the pod. */
  ports: readonly PortMapping[];
}

/** Runs `hc` once; true when it passed. Never throws: an error is a failed check. */
export async function runCheck(hc: HealthCheck, target: CheckTarget, engine: Pick<ContainerEngine, 'exec'>, probes: Probes): Promise<boolean> {
  try {
    if (hc.type === 'exec') {
      if (target.containerId === undefined) return false;
      return (await engine.exec(target.containerId, hc.command, hc.timeoutMs)) === 0;
    }
    const at = checkAddress(hc.port, target.podIp, target.ports);
    return hc.type === 'http' ? await probes.http(at.host, at.port, hc.path, hc.timeoutMs) : await probes.tcp(at.host, at.port, hc.timeoutMs);
  } catch {
    return false;
  }
}

/**
 * The pod IP and the container port; a pod without an IP (network none) is
 * tried on loopback, through the published host port of that container
 * port if there is one.
 */
export function checkAddress(port: number, podIp: string | undefined, ports: readonly PortMapping[]): { host: string; port: number } {
  if (podIp !== undefined) return { host: podIp, port };
  const published = ports.find((p) => p.container === port && p.host !== undefined);
  return { host: '127.0.0.1', port: published?.host ?? port };
}

/**
 * How long a container may take to become ready after a (re)start: the
 * configured time, but never less than its check needs to pass after a
 * few failures ((healthy + unhealthy threshold) × interval + timeout).
 */
export function readyTimeoutFor(configuredMs: number, hc: HealthCheck | undefined): number {
  const floor = hc ? (hc.healthyThreshold + hc.unhealthyThreshold) * hc.intervalMs + hc.timeoutMs : 0;
  return Math.max(configuredMs, floor);
}
