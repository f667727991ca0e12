// Compose `ports` (short `[[IP:]HOST:]CONTAINER[/PROTO]` with ranges, and the
// long syntax) and `expose` → the job format's `"host:container/proto"` and
// `"container/proto"` strings. Equal-length ranges are expanded pairwise.
// What cannot be kept is reported: a host IP (ports bind to the agent's
// `--publish-ip`), a host port range for one container port or an empty host
// port (Compose picks a free one; the job format publishes fixed ports).
import type { Segment } from '../render/findings';
import { composeInt } from './compose-units';
import { FindingList, isMapping } from './findings';

/** The schema's limit per container. */
export const MAX_PORTS = 64;

interface Range {
  from: number;
  to: number;
}

function parseRange(s: string): Range | undefined {
  const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(s.trim());
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || to < from) return undefined;
  return { from, to };
}

const isAnyAddress = (ip: string): boolean => ip === '' || ip === '0.0.0.0' || ip === '::' || ip === '[::]';

/** The port strings of one `ports` entry, reporting what is not kept. */
export function mapPort(entry: unknown, at: Segment[], f: FindingList): string[] {
  if (typeof entry === 'number') return Number.isInteger(entry) && entry >= 1 && entry <= 65535 ? [String(entry)] : bad(entry, at, f);
  if (typeof entry === 'string') return mapShort(entry, at, f);
  if (isMapping(entry)) return mapLong(entry, at, f);
  return bad(entry, at, f);
}

function bad(_entry: unknown, at: Segment[], f: FindingList): string[] {
  f.leftOut(at, 'not a port mapping ([[IP:]HOST:]CONTAINER[/PROTOCOL], or {target, published, protocol})');
  return [];
}

function mapShort(entry: string, at: Segment[], f: FindingList): string[] {
  let spec = entry.trim();
  let proto = 'tcp';
  const slash = spec.lastIndexOf('/');
  if (slash >= 0) {
    proto = spec.slice(slash + 1).toLowerCase();
    spec = spec.slice(0, slash);
  }
  const parts = spec.split(':');
  const container = parts.pop() ?? '';
  const host = parts.length > 0 ? parts.pop()! : undefined;
  const ip = parts.join(':');
  if (host === undefined) f.note(at, 'Compose publishes a lone container port on a random host port; here it stays a container port, reached through DNS or `ozy ingress` (write "HOST:CONTAINER" to publish it)');
  return expand({ container, host, ip, proto }, at, f);
}

function mapLong(entry: Record<string, unknown>, at: Segment[], f: FindingList): string[] {
  for (const key of Object.keys(entry)) {
    if (['target', 'published', 'host_ip', 'protocol', 'mode'].includes(key) || key.startsWith('x-')) continue;
    const why = key === 'name' || key === 'app_protocol' ? 'the job format keeps no names or application protocols for ports' : 'not a key of the long port syntax';
    f.leftOut([...at, key], why);
  }
  const target = composeInt(entry.target);
  if (target === undefined) {
    f.leftOut([...at, 'target'], 'expected the container port (a number from 1 to 65535)');
    return [];
  }
  const published = entry.published === undefined || entry.published === null ? undefined : String(entry.published);
  const proto = typeof entry.protocol === 'string' ? entry.protocol.toLowerCase() : 'tcp';
  const ip = typeof entry.host_ip === 'string' ? entry.host_ip : '';
  // `mode: host` publishes on the node running the container, which is what the job format does; `ingress` (Swarm's routing mesh) has `ozy ingress` as its counterpart.
  if (entry.mode === 'ingress') f.note([...at, 'mode'], 'published on the node that runs the instance (Swarm\'s routing mesh is not there): route HTTP and TCP through `ozy ingress` (the job\'s `ingress`, docs/ingress.md)');
  return expand({ container: String(target), host: published, ip, proto }, at, f);
}

function expand(
  p: { container: string; host: string | undefined; ip: string; proto: string },
  at: Segment[],
  f: FindingList,
): string[] {
  if (p.proto !== 'tcp' && p.proto !== 'udp') {
    f.leftOut(at, `protocol ${JSON.stringify(p.proto)}: the job format has tcp and udp ports only`);
    return [];
  }
  const suffix = p.proto === 'udp' ? '/udp' : '';
  const container = parseRange(p.container);
  if (!container) {
    f.leftOut(at, 'expected a container port or range from 1 to 65535');
    return [];
  }
  if (!isAnyAddress(p.ip)) f.leftOut(at, `host IP ${p.ip}: published ports bind to the agent's --publish-ip`);
  const containers = rangeValues(container);
  if (p.host === undefined || p.host === '') {
    if (p.host === '') f.leftOut(at, 'an empty host port (Compose picks a free one): the job format publishes fixed host ports only; the container port is kept, unpublished');
    return containers.map((c) => `${c}${suffix}`);
  }
  const host = parseRange(p.host);
  if (!host) {
    f.leftOut(at, 'expected a host port or range from 1 to 65535');
    return [];
  }
  const hosts = rangeValues(host);
  if (hosts.length === containers.length) return containers.map((c, i) => `${hosts[i]}:${c}${suffix}`);
  if (containers.length === 1) {
    f.leftOut(at, `host port range ${p.host} (Compose picks a free port in it): the job format publishes fixed host ports; container port ${containers[0]} is kept, unpublished`);
    return [`${containers[0]}${suffix}`];
  }
  f.leftOut(at, `host range ${p.host} and container range ${p.container} differ in length`);
  return [];
}

function rangeValues(r: Range): number[] {
  const out: number[] = [];
  for (let p = r.from; p <= r.to && out.length <= MAX_PORTS; p++) out.push(p);
  return out;
}

/** `expose` entries: container ports (or ranges), never published. */
export function mapExpose(entry: unknown, at: Segment[], f: FindingList): string[] {
  const s = typeof entry === 'number' ? String(entry) : typeof entry === 'string' ? entry : undefined;
  const m = s === undefined ? null : /^([0-9-]+)(?:\/(tcp|udp))?$/i.exec(s.trim());
  const range = m ? parseRange(m[1]!) : undefined;
  if (!m || !range) {
    f.leftOut(at, 'expected a container port or range like 3000 or 3000-3005/udp');
    return [];
  }
  const suffix = m[2]?.toLowerCase() === 'udp' ? '/udp' : '';
  return rangeValues(range).map((c) => `${c}${suffix}`);
}
