// Where other nodes reach an instance's ingress ports: the node's --address
// and the host port each one is bound to (the job's own `"host:container"`
// mapping, else the port the engine chose when the agent published it).
// Recorded in the instance's status while it is healthy; `ozy ingress`
// routes to nothing else. Pure.
import type { JobSpec } from '../model/job';

export interface Endpoint {
  host: string;
  port: number;
}

/** The container ports the job's ingress routes go to, once each, ascending. */
export function ingressPorts(spec: JobSpec): number[] {
  return [...new Set((spec.ingress ?? []).map((r) => r.port))].sort((a, b) => a - b);
}

/**
 * Endpoints by container port (decimal string), or undefined when the job
 * has no ingress or no port is bound yet. `hostPorts` is the engine's view of
 * the pod's bindings (`{"3000/tcp": 41234}`).
 */
export function ingressEndpoints(spec: JobSpec, nodeAddress: string, hostPorts: Readonly<Record<string, number>> | undefined): Record<string, Endpoint> | undefined {
  const out: Record<string, Endpoint> = {};
  for (const port of ingressPorts(spec)) {
    const mapped = spec.containers.flatMap((c) => c.ports).find((p) => p.container === port && p.protocol === 'tcp' && p.host !== undefined);
    const hostPort = mapped?.host ?? hostPorts?.[`${port}/tcp`];
    if (hostPort !== undefined) out[String(port)] = { host: nodeAddress, port: hostPort };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
