// The agent's configuration: one typed object. Every option comes from a
// flag (`--lease-ttl 10s`) or, when the flag is absent, from the matching
// OZY_* environment variable (`OZY_LEASE_TTL=10s`). Defaults are stated on
// each field.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from './config-error';
import { parseHttpListen, type HttpListen } from './observe/http-listen';
import { ETCD_ACCESS_FLAGS, loadEtcdAccess, loggableEtcdAccess, type EtcdAccessConfig } from './etcd-access-config';

export interface AgentConfig {
  /** --node / OZY_NODE (required): this node's name, a DNS-1123 label. */
  node: string;
  /** --repo / OZY_REPO (required): http(s) URL of the job repository. */
  repo: string;
  /** --branch / OZY_BRANCH: tracked branch. Default "main". */
  branch: string;
  /** --etcd / OZY_ETCD: comma-separated endpoints. Default http://127.0.0.1:2379. */
  etcd: string[];
  /** --etcd-prefix / OZY_ETCD_PREFIX: key prefix. Default "/ozy". */
  etcdPrefix: string;
  /**
   * --etcd-ca, --etcd-cert, --etcd-key / OZY_ETCD_CA, OZY_ETCD_CERT,
   * OZY_ETCD_KEY: TLS files (read at start; need https:// endpoints), and
   * OZY_ETCD_USERNAME / OZY_ETCD_PASSWORD (environment only): an etcd user.
   */
  etcdAccess: EtcdAccessConfig;
  /** --docker-socket / OZY_DOCKER_SOCKET: Docker Engine API socket. Default: podman's root socket if present, else /var/run/docker.sock. */
  dockerSocket: string;
  /** --memory / OZY_MEMORY: schedulable bytes. Default: the machine's total memory. */
  memory: number;
  /** --disk / OZY_DISK: schedulable bytes for local volumes. Default: free space of the data dir's filesystem. */
  disk: number;
  /** --cpus / OZY_CPUS: schedulable millicores (flag takes cores: "2", "1.5", "500m"). Default: the machine's cores. */
  cpu: number;
  /** --zone / OZY_ZONE: failure domain. Default: none. */
  zone?: string;
  /** --label k=v (repeatable) / OZY_LABEL or OZY_LABELS "k=v,k2=v2". */
  labels: Record<string, string>;
  /** --address / OZY_ADDRESS: how other nodes reach this one (DNS records). Default: first non-loopback IPv4, else 127.0.0.1. */
  address: string;
  /** --publish-ip / OZY_PUBLISH_IP: host IP that published ports bind to. Default 0.0.0.0. */
  publishIp: string;
  /** --poll / OZY_POLL: git poll interval, ms. Default 5s. */
  pollMs: number;
  /** --lease-ttl / OZY_LEASE_TTL: node lease TTL, seconds (≥2). Default 10s. */
  leaseTtlSeconds: number;
  /**
   * --fence-on-expiry / OZY_FENCE_ON_EXPIRY=true: strict fencing. When no
   * lease renewal has succeeded for a whole TTL, stop this node's instances
   * at once (others may be taking them over), instead of waiting for etcd to
   * confirm the lease is gone. Bounds the overlap of old and new copies under
   * a partition, at the cost of stopping containers during an etcd outage
   * longer than the TTL. Default false (docs/fault-tolerance.md).
   */
  fenceOnExpiry: boolean;
  /** --data-dir / OZY_DATA_DIR: clone, local volumes, agent state. Default /var/lib/ozy/<node> (root) or ~/.ozy/<node>. */
  dataDir: string;
  /** --shared-dir / OZY_SHARED_DIR: root of `shared` volumes (a shared filesystem on real clusters). Default <data-dir>/../shared. */
  sharedDir: string;
  /** --report-branch / OZY_REPORT_BRANCH: where rejection reports are pushed. Default: the tracked branch. */
  reportBranch: string;
  /** --reports-dir / OZY_REPORTS_DIR: directory of reports in the repo. Default "rejections". */
  reportsDir: string;
  /** --dns-zone / OZY_DNS_ZONE: DNS zone of instance records. Default "ozy.local". */
  dnsZone: string;
  /**
   * --container-dns / OZY_CONTAINER_DNS: the name server containers resolve
   * through (an `ozy dns` the containers can reach, e.g. on the bridge's
   * gateway), with the zone as search domain. Default: the engine's.
   */
  containerDns?: string;
  /** --secrets-identity / OZY_SECRETS_IDENTITY: age identity file that decrypts the repository's secrets (mode 0600 or stricter). */
  secretsIdentity?: string;
  /** OZY_GIT_TOKEN (environment only, never a flag so it stays out of `ps`): git HTTP credentials. */
  gitToken?: string;
  /** OZY_GIT_USERNAME (environment only): the username sent with the token. Default "x-access-token". */
  gitUsername?: string;
  /**
   * --http / OZY_HTTP: the agent's HTTP endpoint (/metrics, /healthz,
   * /readyz, /v1/logs). Default: 127.0.0.1:7070, else an ephemeral loopback
   * port when that is taken; "off" serves nothing; an explicit address that
   * cannot be bound stops the agent (observe/http-listen.ts).
   */
  http: HttpListen;
  /**
   * OZY_API_TOKEN (environment only, never a flag so it stays out of `ps`):
   * the bearer token that `/v1/logs` requires. Unset: logs are never served.
   */
  apiToken?: string;
}

export { ConfigError };

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;

/** "500ms", "5s", "1m", "2h"; a bare number means seconds. */
export function parseDurationMs(text: string, field: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new ConfigError(`${field}: expected a duration like 500ms, 5s or 1m, got "${text}"`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * factor);
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([KMGT]i?)?B?$/i;

/** "512M", "2G", "100Ki", bytes; K/M/G/T are binary (as Docker reads them). */
export function parseSizeBytes(text: string, field: string): number {
  const m = SIZE.exec(text.trim());
  if (!m) throw new ConfigError(`${field}: expected a size like 512M or 8G, got "${text}"`);
  const exp = { '': 0, K: 1, M: 2, G: 3, T: 4 }[(m[2] ?? '').charAt(0).toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.round(Number(m[1]) * 1024 ** exp);
}

/** "2" or "1.5" cores, or "500m" millicores → millicores. */
export function parseCpusMillicores(text: string, field: string): number {
  const t = text.trim();
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(t);
  if (!m) throw new ConfigError(`${field}: expected cores like 2 or 1.5, or millicores like 500m, got "${text}"`);
  return m[2] ? Math.round(Number(m[1])) : Math.round(Number(m[1]) * 1000);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function defaultAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function defaultDockerSocket(env: NodeJS.ProcessEnv): string {
  const host = env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  for (const p of ['/run/podman/podman.sock', '/var/run/docker.sock']) if (fs.existsSync(p)) return p;
  return '/var/run/docker.sock';
}

function freeDiskBytes(dir: string): number {
  let d = dir;
  while (!fs.existsSync(d)) d = path.dirname(d);
  const s = fs.statfsSync(d);
  return s.bavail * s.bsize;
}

export const AGENT_OPTIONS = {
  node: { type: 'string' },
  repo: { type: 'string' },
  branch: { type: 'string' },
  etcd: { type: 'string' },
  'etcd-prefix': { type: 'string' },
  'etcd-ca': { type: 'string' },
  'etcd-cert': { type: 'string' },
  'etcd-key': { type: 'string' },
  'docker-socket': { type: 'string' },
  memory: { type: 'string' },
  disk: { type: 'string' },
  cpus: { type: 'string' },
  zone: { type: 'string' },
  label: { type: 'string', multiple: true },
  address: { type: 'string' },
  'publish-ip': { type: 'string' },
  poll: { type: 'string' },
  'lease-ttl': { type: 'string' },
  'data-dir': { type: 'string' },
  'shared-dir': { type: 'string' },
  'report-branch': { type: 'string' },
  'reports-dir': { type: 'string' },
  'dns-zone': { type: 'string' },
  'container-dns': { type: 'string' },
  'secrets-identity': { type: 'string' },
  'fence-on-expiry': { type: 'boolean' },
  http: { type: 'string' },
} as const;

type Flag = keyof typeof AGENT_OPTIONS;
type StringFlag = { [F in Flag]: (typeof AGENT_OPTIONS)[F]['type'] extends 'string' ? F : never }[Flag];

function envName(flag: Flag): string {
  return `OZY_${flag.replace(/-/g, '_').toUpperCase()}`;
}

/** Parse `ozy agent` argv + environment into a validated config. */
export function loadAgentConfig(argv: string[], env: NodeJS.ProcessEnv): AgentConfig {
  let values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  try {
    values = parseArgs({ args: argv, options: AGENT_OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
  const get = (flag: StringFlag): string | undefined => {
    const v = values[flag];
    if (typeof v === 'string') return v;
    const e = env[envName(flag)];
    return e === undefined || e === '' ? undefined : e;
  };

  const node = get('node');
  if (!node) throw new ConfigError('--node (or OZY_NODE) is required');
  if (!DNS_LABEL.test(node)) throw new ConfigError(`--node: "${node}" is not a DNS-1123 label (lowercase letters, digits, '-')`);
  const repo = get('repo');
  if (!repo) throw new ConfigError('--repo (or OZY_REPO) is required');
  if (!/^https?:\/\//.test(repo)) throw new ConfigError(`--repo: expected an http(s) URL, got "${redactUrl(repo)}"`);

  const labelEnv = env.OZY_LABEL || env.OZY_LABELS;
  const labelList = (values.label as string[] | undefined) ?? (labelEnv ? labelEnv.split(',') : []);
  const labels: Record<string, string> = {};
  for (const kv of labelList) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new ConfigError(`--label: expected k=v, got "${kv}"`);
    labels[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
  }

  const home = process.getuid?.() === 0 ? '/var/lib/ozy' : path.join(os.homedir(), '.ozy');
  const dataDir = path.resolve(get('data-dir') ?? path.join(home, node));
  const leaseTtlMs = parseDurationMs(get('lease-ttl') ?? '10s', '--lease-ttl');
  if (leaseTtlMs < 2000) throw new ConfigError('--lease-ttl: etcd leases are at least 2s');
  const pollMs = parseDurationMs(get('poll') ?? '5s', '--poll');
  if (pollMs < 100) throw new ConfigError('--poll: at least 100ms');
  const branch = get('branch') ?? 'main';
  const zone = get('zone');
  const fenceOnExpiry = values['fence-on-expiry'] === true || parseBool(env[envName('fence-on-expiry')], 'OZY_FENCE_ON_EXPIRY');
  const etcd = (get('etcd') ?? 'http://127.0.0.1:2379').split(',').map((s) => s.trim()).filter(Boolean);
  const accessFlags: Partial<Record<(typeof ETCD_ACCESS_FLAGS)[number], string>> = {};
  for (const f of ETCD_ACCESS_FLAGS) {
    const v = values[f];
    if (typeof v === 'string') accessFlags[f] = v;
  }

  const http = parseHttpListen(get('http'));
  if (typeof http === 'string') throw new ConfigError(`--http ${http}`);

  return {
    node,
    repo,
    branch,
    etcd,
    etcdPrefix: get('etcd-prefix') ?? '/ozy',
    etcdAccess: loadEtcdAccess(etcd, accessFlags, env),
    dockerSocket: get('docker-socket') ?? defaultDockerSocket(env),
    memory: get('memory') ? parseSizeBytes(get('memory')!, '--memory') : os.totalmem(),
    disk: get('disk') ? parseSizeBytes(get('disk')!, '--disk') : freeDiskBytes(dataDir),
    cpu: get('cpus') ? parseCpusMillicores(get('cpus')!, '--cpus') : os.cpus().length * 1000,
    ...(zone ? { zone } : {}),
    labels,
    address: get('address') ?? defaultAddress(),
    publishIp: get('publish-ip') ?? '0.0.0.0',
    pollMs,
    leaseTtlSeconds: Math.ceil(leaseTtlMs / 1000),
    fenceOnExpiry,
    dataDir,
    sharedDir: path.resolve(get('shared-dir') ?? path.join(path.dirname(dataDir), 'shared')),
    reportBranch: get('report-branch') ?? branch,
    reportsDir: (get('reports-dir') ?? 'rejections').replace(/^\/+|\/+$/g, ''),
    dnsZone: get('dns-zone') ?? 'ozy.local',
    ...(get('container-dns') ? { containerDns: parseIp(get('container-dns')!, '--container-dns') } : {}),
    ...(get('secrets-identity') ? { secretsIdentity: path.resolve(get('secrets-identity')!) } : {}),
    ...(env.OZY_GIT_TOKEN ? { gitToken: env.OZY_GIT_TOKEN } : {}),
    ...(env.OZY_GIT_USERNAME ? { gitUsername: env.OZY_GIT_USERNAME } : {}),
    http,
    ...(env.OZY_API_TOKEN ? { apiToken: env.OZY_API_TOKEN } : {}),
  };
}

/** An IPv4 or IPv6 literal (what Docker's HostConfig.Dns takes). */
function parseIp(text: string, field: string): string {
  const t = text.trim();
  if (net.isIP(t) === 0) throw new ConfigError(`${field}: expected an IP address such as 10.88.0.1, got "${text}"`);
  return t;
}

/** An OZY_* boolean: true/1/yes or false/0/no (any case); unset or empty is false. */
function parseBool(text: string | undefined, field: string): boolean {
  if (text === undefined || text.trim() === '') return false;
  const t = text.trim().toLowerCase();
  if (t === 'true' || t === '1' || t === 'yes') return true;
  if (t === 'false' || t === '0' || t === 'no') return false;
  throw new ConfigError(`${field}: expected true or false, got "${text}"`);
}

/** A URL with any user:password part replaced, safe for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@');
}

/** The config as it may be logged: no token, no etcd password or key, no credentials in URLs. */
export function loggableConfig(c: AgentConfig): Record<string, unknown> {
  const { gitToken, apiToken, etcdAccess, ...rest } = c;
  return {
    ...rest,
    repo: redactUrl(c.repo),
    gitToken: gitToken ? '***' : undefined,
    apiToken: apiToken ? '***' : undefined,
    etcdAccess: loggableEtcdAccess(etcdAccess),
  };
}
