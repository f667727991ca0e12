// The etcd key layout (docs/architecture.md, "etcd key layout"). Pure: every
// key the store reads or writes is built here, so nothing can land outside
// the configured prefixes (invariant 8).
import { dnsKey as formatDnsKey } from '../network/dns';
import { InvalidStoreArgumentError } from './errors';

export const DEFAULT_PREFIX = '/ozy';
export const DEFAULT_DNS_PREFIX = '/skydns';

/** "/ozy", "/a/b": starts with '/', no trailing '/', no empty or dot segments. */
function normalizeRoot(what: string, root: string): string {
  const trimmed = root.endsWith('/') ? root.slice(0, -1) : root;
  const segments = trimmed.split('/').slice(1);
  if (!trimmed.startsWith('/') || segments.length === 0 || segments.some((s) => !isSafeSegment(s))) {
    throw new InvalidStoreArgumentError(`${what} must look like "/name" (got "${root}")`);
  }
  return trimmed;
}

function isSafeSegment(s: string): boolean {
  return s.length > 0 && s !== '.' && s !== '..' && !s.includes('/') && !s.includes('\0');
}

/** Node, job and instance names become one key segment: no '/', not empty. */
export function checkSegment(what: string, value: string): string {
  if (typeof value !== 'string' || !isSafeSegment(value)) {
    throw new InvalidStoreArgumentError(`${what} "${String(value)}" cannot be used in an etcd key`);
  }
  return value;
}

/** Rejection keys may be file paths ("jobs/a/b.yaml"): segments must be safe. */
function checkPath(what: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0 || !value.split('/').every(isSafeSegment)) {
    throw new InvalidStoreArgumentError(`${what} "${String(value)}" cannot be used in an etcd key`);
  }
  return value;
}

export class KeyLayout {
  readonly prefix: string;
  readonly dnsPrefix: string;

  constructor(prefix: string = DEFAULT_PREFIX, dnsPrefix: string = DEFAULT_DNS_PREFIX) {
    this.prefix = normalizeRoot('prefix', prefix);
    this.dnsPrefix = normalizeRoot('dnsPrefix', dnsPrefix);
    if (`${this.prefix}/`.startsWith(`${this.dnsPrefix}/`) || `${this.dnsPrefix}/`.startsWith(`${this.prefix}/`)) {
      throw new InvalidStoreArgumentError(`prefix "${prefix}" and dnsPrefix "${dnsPrefix}" must not overlap`);
    }
  }

  get nodesPrefix(): string {
    return `${this.prefix}/nodes/`;
  }
  node(name: string): string {
    return this.nodesPrefix + checkSegment('node name', name);
  }

  get jobsPrefix(): string {
    return `${this.prefix}/jobs/`;
  }
  job(name: string): string {
    return this.jobsPrefix + checkSegment('job name', name);
  }

  get rejectionsPrefix(): string {
    return `${this.prefix}/rejections/`;
  }
  rejection(key: string): string {
    return this.rejectionsPrefix + checkPath('rejection key', key);
  }

  /**
   * A cron job's claim cursor and active runs (model/cron.ts). Inside
   * scheduleRange: what running runs hold is a decision input, and every
   * write of it bumps the guard key.
   */
  get runsPrefix(): string {
    return `${this.prefix}/runs/`;
  }
  runs(job: string): string {
    return this.runsPrefix + checkSegment('job name', job);
  }

  /** Ended runs with their output; outside scheduleRange, so decisions never read them. */
  historyPrefix(job?: string): string {
    return job === undefined ? `${this.prefix}/history/` : `${this.prefix}/history/${checkSegment('job name', job)}/`;
  }
  history(job: string, run: string): string {
    return this.historyPrefix(job) + checkSegment('run name', run);
  }

  /** The guard key every scheduling transaction compares and bumps. */
  get schedule(): string {
    return `${this.prefix}/schedule`;
  }

  /**
   * Every zone a node ever registered with (a sorted JSON list of names): a
   * zone keeps its place in spread: zones after its last node is gone.
   * Inside scheduleRange, so it is part of every decision's snapshot.
   */
  get knownZones(): string {
    return `${this.prefix}/known-zones`;
  }

  /** Which schedule revision the reports in the repository reflect. */
  get reports(): string {
    return `${this.prefix}/reports`;
  }

  /**
   * Who polls git for the cluster: `{node, agentId, head}` on the poller's
   * own short lease (see agent/poll-claim.ts).
   */
  get poller(): string {
    return `${this.prefix}/poller`;
  }

  /** What the poller's last fetch found: `{agentId, head, gitError}` on the claim's lease. */
  get polled(): string {
    return `${this.prefix}/polled`;
  }

  /**
   * The keys a scheduling decision reads, as one etcd range so one watch
   * sees each transaction's writes together: jobs/, known-zones, nodes/, poller,
   * rejections/, reports, runs/, schedule (and polled/poller, which sort in
   * between and are ignored). Per-node chatter (status/, agents/)
   * sorts outside it. A new key that decisions must not see belongs outside.
   */
  get scheduleRange(): { start: string; end: string } {
    return { start: this.jobsPrefix, end: `${this.schedule}\0` };
  }

  statusPrefix(node?: string): string {
    return node === undefined ? `${this.prefix}/status/` : `${this.prefix}/status/${checkSegment('node name', node)}/`;
  }
  status(node: string, instance: string): string {
    return this.statusPrefix(node) + checkSegment('instance name', instance);
  }

  /**
   * Each node's measured CPU use of its autoscaled instances (model/autoscale.ts
   * NodeCpu), on the node's lease, rewritten every sample period. `cpu/`
   * sorts before `jobs/`: outside scheduleRange, so this per-node chatter
   * never wakes the schedule cache's watch.
   */
  get cpuPrefix(): string {
    return `${this.prefix}/cpu/`;
  }
  cpu(node: string): string {
    return this.cpuPrefix + checkSegment('node name', node);
  }

  get agentsPrefix(): string {
    return `${this.prefix}/agents/`;
  }
  agent(node: string): string {
    return this.agentsPrefix + checkSegment('node name', node);
  }

  get dnsRoot(): string {
    return `${this.dnsPrefix}/`;
  }
  dnsKey(zone: string, job: string, instance: string): string {
    return dnsKey(zone, job, instance, this.dnsPrefix);
  }
  /** A full DNS key given by the caller: it must be a well-formed key below the DNS prefix. */
  checkDnsKey(key: string): string {
    if (typeof key !== 'string' || !key.startsWith(this.dnsRoot) || !key.slice(this.dnsRoot.length).split('/').every(isSafeSegment)) {
      throw new InvalidStoreArgumentError(`DNS key "${String(key)}" is not below ${this.dnsRoot}`);
    }
    return key;
  }
}

/**
 * CoreDNS etcd-plugin key of one instance: the zone's labels reversed, then
 * job and instance. ('ozy.local', 'web', 'web-1') → '/skydns/local/ozy/web/web-1',
 * so `web.ozy.local` answers every instance and `web-1.web.ozy.local` one.
 */
export function dnsKey(zone: string, job: string, instance: string, dnsPrefix: string = DEFAULT_DNS_PREFIX): string {
  // The format is network/dns.ts's; the store only refuses segments that would escape the prefix.
  const labels = zone.split('.').filter((l) => l.length > 0);
  if (labels.length === 0) throw new InvalidStoreArgumentError(`DNS zone "${zone}" has no labels`);
  for (const l of labels) checkSegment('DNS zone label', l);
  return formatDnsKey(zone, checkSegment('job name', job), checkSegment('instance name', instance), normalizeRoot('dnsPrefix', dnsPrefix));
}

/** The part of `key` after `prefix`, or undefined when `key` is not below it. */
export function keyName(prefix: string, key: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  return rest.length > 0 ? rest : undefined;
}

/** etcd's range_end for "every key starting with `prefix`". */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff (or empty): etcd's "to the end of the keyspace".
  return Buffer.from([0]);
}
