// What `ozy dns` answers (pure): the CoreDNS etcd plugin's reading of the
// `/skydns` records, for A and SRV.
//
// A record's path below the DNS prefix, reversed, is its name:
// `local/ozy/web/web-1` → `web-1.web.ozy.local`. A query for a name answers
// every record at or below it, so `web.ozy.local` is the whole job and
// `web-1.web.ozy.local` one instance:
//   A    one per distinct IPv4 host (TTL: the smallest among its records)
//   SRV  one per record: its port, target the record's name (plus that
//        name's A in the additional section); a host that is a DNS name is
//        the target itself, with no A (CoreDNS does the same); an IPv6 host
//        gets the record's name as target and no address (A and SRV only)
// A name in the zone with no record at or below it is NXDOMAIN; another
// type at an existing name is NOERROR with no answer (NODATA); both carry
// the zone's SOA so resolvers cache the negative answer briefly. A name
// outside the zone is REFUSED: this server is no resolver.
import { isIPv4 } from 'node:net';
import type { DnsRecord } from './dns';

export type DnsRcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED' | 'FORMERR' | 'NOTIMP';

export type DnsRr =
  | { name: string; type: 'A'; class: 'IN'; ttl: number; data: string }
  | { name: string; type: 'SRV'; class: 'IN'; ttl: number; data: { priority: number; weight: number; port: number; target: string } }
  | {
      name: string;
      type: 'SOA';
      class: 'IN';
      ttl: number;
      data: { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
    };

export interface DnsReply {
  rcode: DnsRcode;
  answers: DnsRr[];
  authorities: DnsRr[];
  additionals: DnsRr[];
}

/** One record with its DNS name. */
interface NamedRecord {
  name: string;
  record: DnsRecord;
}

/** The records of one zone, indexed by every name they answer for (built once per etcd change). */
export interface DnsIndex {
  zone: string;
  /** name → the records at or below it, sorted by name. */
  below: ReadonlyMap<string, NamedRecord[]>;
  /** SOA serial: the etcd revision the records reflect (mod 2^32). */
  serial: number;
}

/** SRV priority of every record (CoreDNS's default). */
export const SRV_PRIORITY = 10;
/** TTL of the SOA and of negative answers: as short as the records' own. */
export const NEGATIVE_TTL = 5;

/** "ozy.local." / "OZY.local" → "ozy.local". */
export function normalizeName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** The DNS name of a record path below the DNS prefix: "local/ozy/web/web-1" → "web-1.web.ozy.local". */
export function recordName(path: string): string {
  return normalizeName(path.split('/').filter((s) => s.length > 0).reverse().join('.'));
}

/** `records` is keyed by path below the DNS prefix (ClusterStore.mirrorDnsRecords). */
export function buildDnsIndex(records: ReadonlyMap<string, DnsRecord>, zone: string, revision = 0): DnsIndex {
  const z = normalizeName(zone);
  const below = new Map<string, NamedRecord[]>();
  for (const [path, record] of records) {
    const name = recordName(path);
    if (name !== z && !name.endsWith(`.${z}`)) continue; // another zone's record
    const r = { name, record };
    // Every ancestor down to the zone apex answers for this record.
    for (let n = name; ; n = n.slice(n.indexOf('.') + 1)) {
      const list = below.get(n);
      if (list) list.push(r);
      else below.set(n, [r]);
      if (n === z || !n.includes('.')) break;
    }
  }
  for (const list of below.values()) list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { zone: z, below, serial: revision % 2 ** 32 };
}

function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

function soa(index: DnsIndex): DnsRr {
  return {
    name: index.zone,
    type: 'SOA',
    class: 'IN',
    ttl: NEGATIVE_TTL,
    data: { mname: `ns.dns.${index.zone}`, rname: `hostmaster.${index.zone}`, serial: index.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: NEGATIVE_TTL },
  };
}

/** The answer to one question. `qname` is echoed in the answers as asked (resolvers compare case-insensitively). */
export function answerQuestion(index: DnsIndex, qname: string, qtype: string): DnsReply {
  const name = normalizeName(qname);
  const empty = (rcode: DnsRcode, withSoa: boolean): DnsReply => ({ rcode, answers: [], authorities: withSoa ? [soa(index)] : [], additionals: [] });
  if (!inZone(name, index.zone)) return empty('REFUSED', false);
  const found = index.below.get(name);
  if (!found || found.length === 0) {
    if (name === index.zone && qtype === 'SOA') return { ...empty('NOERROR', false), answers: [soa(index)] };
    // The apex exists even with no records in it.
    return empty(name === index.zone ? 'NOERROR' : 'NXDOMAIN', true);
  }
  const owner = qname.endsWith('.') ? qname.slice(0, -1) : qname;
  switch (qtype) {
    case 'A':
      return answerA(index, owner, found);
    case 'SRV':
      return answerSrv(owner, found);
    case 'SOA':
      return name === index.zone ? { ...empty('NOERROR', false), answers: [soa(index)] } : empty('NOERROR', true);
    default:
      return empty('NOERROR', true);
  }
}

function answerA(index: DnsIndex, owner: string, found: readonly NamedRecord[]): DnsReply {
  const ttlByHost = new Map<string, number>();
  for (const { record } of found) {
    if (!isIPv4(record.host)) continue;
    const prev = ttlByHost.get(record.host);
    ttlByHost.set(record.host, prev === undefined ? record.ttl : Math.min(prev, record.ttl));
  }
  if (ttlByHost.size === 0) return { rcode: 'NOERROR', answers: [], authorities: [soa(index)], additionals: [] };
  const answers: DnsRr[] = [...ttlByHost].map(([host, ttl]) => ({ name: owner, type: 'A', class: 'IN', ttl, data: host }));
  return { rcode: 'NOERROR', answers, authorities: [], additionals: [] };
}

function answerSrv(owner: string, found: readonly NamedRecord[]): DnsReply {
  // Equal shares of 100 among records of one priority, as CoreDNS weighs them.
  const weight = Math.max(1, Math.floor(100 / found.length));
  const answers: DnsRr[] = [];
  const additionals: DnsRr[] = [];
  for (const { name, record } of found) {
    const ip4 = isIPv4(record.host);
    const isName = !ip4 && !record.host.includes(':');
    const target = isName ? normalizeName(record.host) : name;
    answers.push({ name: owner, type: 'SRV', class: 'IN', ttl: record.ttl, data: { priority: SRV_PRIORITY, weight, port: record.port, target } });
    if (ip4) additionals.push({ name, type: 'A', class: 'IN', ttl: record.ttl, data: record.host });
  }
  return { rcode: 'NOERROR', answers, authorities: [], additionals };
}
