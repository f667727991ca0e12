// DNS records in CoreDNS's etcd-plugin format. A healthy instance `web-1` of
// job `web` in zone `ozy.local` is `/skydns/local/ozy/web/web-1`, so
// `web.ozy.local` answers every healthy instance and `web-1.web.ozy.local` one.
import type { JobSpec } from '../model/job';

export interface DnsRecord {
  host: string;
  port: number;
  ttl: number;
}

// Short, like CoreDNS's Kubernetes records: clients stop resolving a dead instance soon after failover.
export const DNS_TTL_SECONDS = 5;

/** `/skydns` + the zone's labels reversed + job + instance. */
export function dnsKey(zone: string, job: string, instance: string, root = '/skydns'): string {
  const labels = zone.split('.').filter(Boolean).reverse();
  return [root, ...labels, job, instance].join('/');
}

/**
 * Where other nodes reach an instance. A pod that publishes a host port is
 * reached at the node's --address and that port (works on any network). A pod
 * without published ports is only reachable on its bridge IP, which other
 * nodes can route to only if the operator routes pod subnets; we still
 * publish it, with the first container port, so same-node clients resolve it.
 */
export function dnsRecordFor(
  spec: JobSpec,
  nodeAddress: string,
  podIp: string | undefined,
  ttl = DNS_TTL_SECONDS,
): DnsRecord | undefined {
  const ports = spec.containers.flatMap((c) => c.ports);
  const published = ports.find((p) => p.host !== undefined);
  if (published?.host !== undefined) return { host: nodeAddress, port: published.host, ttl };
  if (!podIp) return undefined;
  return { host: podIp, port: ports[0]?.container ?? 0, ttl };
}
