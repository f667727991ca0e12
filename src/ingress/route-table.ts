// The ingress's route table (pure): built from the accepted jobs and the
// instance statuses that etcd holds, consulted for every request.
//
//   HTTP: Host header (case-insensitive, port stripped) → the job's routes
//         for that host, exact hosts before `*.` wildcards → the longest
//         path prefix matching on '/' boundaries.
//   TCP:  a listening port → the job that claims it.
//
// A route's backends are the instances that serve it right now: healthy, on
// the accepted spec, on the node the schedule placed them on, with an
// endpoint recorded for the route's container port. A route without
// backends stays in the table: its host is known, so the proxy answers 503
// (not 404) and callers can tell "down" from "wrong address".
import { placementName, versionOf, type AcceptedJob, type InstanceStatus } from '../model/cluster';
import type { IngressRoute } from '../model/job';

export interface Backend {
  instance: string;
  node: string;
  host: string;
  port: number;
  /** "host:port", what connections are pooled and remembered by. */
  address: string;
}

export interface HttpRoute {
  /** Stable across rebuilds: round-robin position is kept per id. */
  id: string;
  job: string;
  host: string;
  path: string;
  port: number;
  backends: Backend[];
}

export interface TcpRoute {
  id: string;
  job: string;
  listenPort: number;
  port: number;
  backends: Backend[];
}

export interface RouteTable {
  /** Exact host → its routes, longest path first. */
  exact: ReadonlyMap<string, HttpRoute[]>;
  /** Wildcard suffix ("example.com" for `*.example.com`) → its routes, longest path first. */
  wildcard: ReadonlyMap<string, HttpRoute[]>;
  tcp: ReadonlyMap<number, TcpRoute>;
  /** Claims that lost to an earlier job (name order), e.g. "job b: shop.example.com/ is job a's". */
  conflicts: string[];
}

export type RouteMatch =
  | { kind: 'route'; route: HttpRoute }
  /** No route for this host at all: 404. */
  | { kind: 'unknown-host'; host: string }
  /** The host is known but none of its paths matches: 404. */
  | { kind: 'no-path'; host: string };

export const EMPTY_TABLE: RouteTable = { exact: new Map(), wildcard: new Map(), tcp: new Map(), conflicts: [] };

/**
 * `statuses` is keyed "<node>/<instance>" (ClusterStore.mirrorInstanceStatus).
 * Jobs are taken in name order, so when two jobs claim the same host and
 * path (or TCP port) the earlier name wins, as the scheduler's rejection rule
 * does; the loser is listed in `conflicts`.
 */
export function buildRouteTable(jobs: Iterable<AcceptedJob>, statuses: ReadonlyMap<string, InstanceStatus>): RouteTable {
  const exact = new Map<string, HttpRoute[]>();
  const wildcard = new Map<string, HttpRoute[]>();
  const tcp = new Map<number, TcpRoute>();
  const conflicts: string[] = [];
  const claimed = new Map<string, string>();
  const sorted = [...jobs].sort((a, b) => (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0));

  for (const job of sorted) {
    const name = job.spec.name;
    for (const entry of job.spec.ingress ?? []) {
      const r = checkEntry(entry);
      if (!r) continue;
      if ('tcp' in r) {
        const key = `tcp:${r.tcp}`;
        const owner = claimed.get(key);
        if (owner !== undefined) {
          if (owner !== name) conflicts.push(`job ${name}: TCP port ${r.tcp} is job ${owner}'s`);
          continue;
        }
        claimed.set(key, name);
        tcp.set(r.tcp, { id: `${name} tcp:${r.tcp}`, job: name, listenPort: r.tcp, port: r.port, backends: backendsOf(job, r.port, statuses) });
        continue;
      }
      const key = `http:${r.host}${r.path}`;
      const owner = claimed.get(key);
      if (owner !== undefined) {
        if (owner !== name) conflicts.push(`job ${name}: ${r.host}${r.path} is job ${owner}'s`);
        continue;
      }
      claimed.set(key, name);
      const route: HttpRoute = { id: `${name} ${r.host}${r.path}`, job: name, host: r.host, path: r.path, port: r.port, backends: backendsOf(job, r.port, statuses) };
      const [map, k] = r.host.startsWith('*.') ? [wildcard, r.host.slice(2)] : [exact, r.host];
      const list = map.get(k);
      if (list) list.push(route);
      else map.set(k, [route]);
    }
  }
  // Longest prefix first; equal lengths cannot both match one path unless equal (claimed once).
  for (const list of [...exact.values(), ...wildcard.values()]) list.sort((a, b) => b.path.length - a.path.length);
  return { exact, wildcard, tcp, conflicts };
}

/** The instances of `job` that can take traffic for container port `port`, in ordinal order. */
export function backendsOf(job: AcceptedJob, port: number, statuses: ReadonlyMap<string, InstanceStatus>): Backend[] {
  const out: Backend[] = [];
  const name = job.spec.name;
  job.instances.forEach((placement, ordinal) => {
    if (placement.node === null) return;
    const instance = placementName(name, placement, ordinal);
    const s = statuses.get(`${placement.node}/${instance}`);
    // During a rolling update an instance not yet replaced runs (and serves) its pinned version.
    const runs = versionOf(job, placement).specHash;
    if (!s || s.state !== 'healthy' || s.specHash !== runs || s.node !== placement.node || s.job !== name) return;
    const ep = s.endpoints?.[String(port)];
    if (!ep) return;
    out.push({ instance, node: s.node, host: ep.host, port: ep.port, address: `${ep.host}:${ep.port}` });
  });
  return out;
}

type CheckedEntry = { host: string; path: string; port: number } | { tcp: number; port: number };

/** The schema checks ingress entries; this only skips what could not be routed at all. */
function checkEntry(e: IngressRoute): CheckedEntry | undefined {
  const raw = e as unknown as Record<string, unknown>;
  if (!isPort(raw.port)) return undefined;
  if ('tcp' in raw) return isPort(raw.tcp) ? { tcp: raw.tcp, port: raw.port } : undefined;
  if (typeof raw.host !== 'string' || raw.host.length === 0) return undefined;
  const path = raw.path === undefined ? '/' : raw.path;
  if (typeof path !== 'string' || !path.startsWith('/')) return undefined;
  return { host: raw.host.toLowerCase(), path, port: raw.port };
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

/**
 * The host a request names: lower-case, without port or trailing dot.
 * "Shop.Example.com:8080" → "shop.example.com"; "[::1]:80" → "[::1]".
 */
export function normalizeHost(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  let h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return undefined;
    h = h.slice(0, end + 1);
  } else {
    const colon = h.indexOf(':');
    if (colon >= 0) h = h.slice(0, colon);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.length > 0 ? h : undefined;
}

/** The path of a request target: origin form ("/a?b") or absolute form ("http://h/a?b"). */
export function requestPath(target: string | undefined): string {
  if (!target) return '/';
  let t = target;
  if (!t.startsWith('/')) {
    const scheme = t.indexOf('://');
    if (scheme < 0) return '/'; // "*" (OPTIONS *) or garbage: the root
    const slash = t.indexOf('/', scheme + 3);
    t = slash < 0 ? '/' : t.slice(slash);
  }
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x3f || c === 0x23) return t.slice(0, i); // ? or #
  }
  return t;
}

/** `/api` matches `/api`, `/api/` and `/api/x`, not `/apix`; `/` matches everything. */
export function pathMatches(prefix: string, path: string): boolean {
  if (prefix === '/' || path === prefix) return true;
  if (!path.startsWith(prefix)) return false;
  return prefix.endsWith('/') || path.charCodeAt(prefix.length) === 0x2f;
}

/**
 * The route of a request. An exact host's routes are tried before the
 * wildcard's, each longest prefix first; so `*.example.com /` still serves
 * `shop.example.com/x` when `shop.example.com` only routes `/api`.
 */
export function matchRoute(table: RouteTable, hostHeader: string | undefined, target: string | undefined): RouteMatch {
  const host = normalizeHost(hostHeader);
  if (host === undefined) return { kind: 'unknown-host', host: '' };
  // This runs once per request: the wildcard key and the path are made only when needed.
  const exact = table.exact.get(host);
  if (exact !== undefined) {
    const route = firstMatch(exact, target);
    if (route !== undefined) return { kind: 'route', route };
  }
  const dot = host.indexOf('.');
  const wildcard = dot > 0 ? table.wildcard.get(host.slice(dot + 1)) : undefined;
  if (wildcard !== undefined) {
    const route = firstMatch(wildcard, target);
    if (route !== undefined) return { kind: 'route', route };
  }
  return exact === undefined && wildcard === undefined ? { kind: 'unknown-host', host } : { kind: 'no-path', host };
}

/** The first of `routes` (longest prefix first) whose prefix matches the target's path. */
function firstMatch(routes: readonly HttpRoute[], target: string | undefined): HttpRoute | undefined {
  let path: string | undefined;
  for (const route of routes) {
    if (route.path === '/') return route;
    path ??= requestPath(target);
    if (pathMatches(route.path, path)) return route;
  }
  return undefined;
}
