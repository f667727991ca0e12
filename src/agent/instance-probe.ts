// One health-check attempt of one container, and the timing rules around
// checks. The agent runs on the host: it reaches a pod on its bridge IP.
import type { HealthCheck, PortMapping } from '../model/job';
import type { ContainerEngine } from '../runtime';
import { ExecTimeoutError } from '../runtime/errors';
import { firstLine } from '../runtime/exec-output';
import { formatDuration } from '../render/units';
import { probeHttp, probeTcp, type CheckResult } from './probes';

export interface Probes {
  http(host: string, port: number, path: string, timeoutMs: number): Promise<CheckResult>;
  tcp(host: string, port: number, timeoutMs: number): Promise<CheckResult>;
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

/** Runs `hc` once: whether it passed and what it saw. Never throws: an error is a failed check that says so. */
export async function runCheck(hc: HealthCheck, target: CheckTarget, engine: Pick<ContainerEngine, 'exec'>, probes: Probes): Promise<CheckResult> {
  if (hc.type === 'exec') return runExecCheck(hc.command, hc.timeoutMs, target.containerId, engine);
  try {
    const at = checkAddress(hc.port, target.podIp, target.ports);
    return hc.type === 'http' ? await probes.http(at.host, at.port, hc.path, hc.timeoutMs) : await probes.tcp(at.host, at.port, hc.timeoutMs);
  } catch (err) {
    return { ok: false, saw: `${hc.type === 'http' ? `GET ${hc.path}` : `TCP ${hc.port}`} → ${errText(err)}` };
  }
}

async function runExecCheck(command: string[], timeoutMs: number, containerId: string | undefined, engine: Pick<ContainerEngine, 'exec'>): Promise<CheckResult> {
  if (containerId === undefined) return { ok: false, saw: 'exec → the container is not created yet' };
  try {
    const r = await engine.exec(containerId, command, timeoutMs);
    const line = firstLine(r.output);
    return { ok: r.exitCode === 0, saw: `exec → exit ${r.exitCode}${line ? `: ${line}` : ''}` };
  } catch (err) {
    return { ok: false, saw: err instanceof ExecTimeoutError ? `exec → timed out after ${formatDuration(timeoutMs)}` : `exec → ${errText(err)}` };
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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
