// `ozy up` flags → one typed options object (defaults stated per field).
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, parseCpusMillicores, parseDurationMs, parseSizeBytes } from '../config';
import { UpError } from './errors';
import type { MachineShare } from './agents';

export interface UpOptions {
  /** --state-dir: etcd data, the served repository, agents' data dirs, logs, the lock. Default /var/lib/ozy-up (root) or ~/.ozy-up. */
  stateDir: string;
  /** --repo-dir: the job repository to serve. Default: the project's examples/. */
  repoDir?: string;
  /** --branch: the branch agents track. Default "main". */
  branch: string;
  /** --agents: how many agents (nodes) to run on this machine. Default 1. */
  agents: number;
  /** --poll: the agents' git poll interval, as text for `ozy agent`. Default "1s". */
  poll: string;
  /** --lease-ttl: the agents' lease TTL. Default: the agent's own (10s). */
  leaseTtl?: string;
  /** --etcd: use these endpoints instead of starting etcd. */
  etcd?: string[];
  /** --docker-socket: use this Engine API instead of starting a podman service. */
  dockerSocket?: string;
  /** --port-base N: etcd client N, peer N+1, git N+2 exactly; 0: any free ports. Default: previous run's, else 2379/2380/2381, else free. */
  ports: { mode: 'prefer' } | { mode: 'fixed'; base: number } | { mode: 'free' };
  /** --node-prefix: nodes are <prefix>-1..N. Default "node". */
  nodePrefix: string;
  /** --memory / --cpus / --disk: each agent's capacity. Default: a share of the machine (see agents.ts). */
  perAgent: Partial<MachineShare>;
  /** --refresh: how often the live summary is redrawn, ms. Default 1000. */
  refreshMs: number;
}

export const UP_OPTIONS = {
  'state-dir': { type: 'string' },
  'repo-dir': { type: 'string' },
  branch: { type: 'string' },
  agents: { type: 'string' },
  poll: { type: 'string' },
  'lease-ttl': { type: 'string' },
  etcd: { type: 'string' },
  'docker-socket': { type: 'string' },
  'port-base': { type: 'string' },
  'node-prefix': { type: 'string' },
  memory: { type: 'string' },
  cpus: { type: 'string' },
  disk: { type: 'string' },
  refresh: { type: 'string' },
} as const;

const MAX_AGENTS = 32;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function defaultStateDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/ozy-up' : path.join(os.homedir(), '.ozy-up');
}

export function parseUpOptions(argv: string[], cwd: string): UpOptions {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: argv, options: UP_OPTIONS, strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new UpError('UP_USAGE', err instanceof Error ? err.message : String(err));
  }
  const v = (k: keyof typeof UP_OPTIONS): string | undefined => {
    const s = values[k];
    return s === undefined || s.trim() === '' ? undefined : s.trim();
  };
  try {
    const agents = Number(v('agents') ?? '1');
    if (!Number.isInteger(agents) || agents < 1 || agents > MAX_AGENTS) throw new UpError('UP_USAGE', `--agents: expected a whole number from 1 to ${MAX_AGENTS}, got "${v('agents')}"`);
    const poll = v('poll') ?? '1s';
    if (parseDurationMs(poll, '--poll') < 100) throw new UpError('UP_USAGE', '--poll: at least 100ms');
    const leaseTtl = v('lease-ttl');
    if (leaseTtl !== undefined && parseDurationMs(leaseTtl, '--lease-ttl') < 2000) throw new UpError('UP_USAGE', '--lease-ttl: etcd leases are at least 2s');
    const refreshMs = parseDurationMs(v('refresh') ?? '1s', '--refresh');
    if (refreshMs < 100) throw new UpError('UP_USAGE', '--refresh: at least 100ms');

    const nodePrefix = v('node-prefix') ?? 'node';
    if (!DNS_LABEL.test(nodePrefix) || nodePrefix.length + 1 + String(agents).length > 63) {
      throw new UpError('UP_USAGE', `--node-prefix: "${nodePrefix}" must be a DNS label (lowercase letters, digits, '-')`);
    }

    let ports: UpOptions['ports'] = { mode: 'prefer' };
    const base = v('port-base');
    if (base !== undefined) {
      const n = Number(base);
      if (!Number.isInteger(n) || n < 0 || n > 65530) throw new UpError('UP_USAGE', `--port-base: expected a port number (or 0 for any free ports), got "${base}"`);
      ports = n === 0 ? { mode: 'free' } : { mode: 'fixed', base: n };
    }

    const etcd = v('etcd')?.split(',').map((s) => s.trim()).filter(Boolean);
    if (etcd) for (const e of etcd) if (!/^https?:\/\//.test(e)) throw new UpError('UP_USAGE', `--etcd: expected http(s) URLs, got "${e}"`);

    const perAgent: Partial<MachineShare> = {};
    const memory = v('memory');
    if (memory) perAgent.memory = parseSizeBytes(memory, '--memory');
    const disk = v('disk');
    if (disk) perAgent.disk = parseSizeBytes(disk, '--disk');
    const cpus = v('cpus');
    if (cpus) perAgent.cpu = parseCpusMillicores(cpus, '--cpus');

    const abs = (p: string) => path.resolve(cwd, p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p);
    const repoDir = v('repo-dir');
    const dockerSocket = v('docker-socket');
    return {
      stateDir: abs(v('state-dir') ?? defaultStateDir()),
      ...(repoDir ? { repoDir: abs(repoDir) } : {}),
      branch: v('branch') ?? 'main',
      agents,
      poll,
      ...(leaseTtl ? { leaseTtl } : {}),
      ...(etcd?.length ? { etcd } : {}),
      ...(dockerSocket ? { dockerSocket: abs(dockerSocket.replace(/^unix:\/\//, '')) } : {}),
      ports,
      nodePrefix,
      perAgent,
      refreshMs,
    };
  } catch (err) {
    if (err instanceof ConfigError) throw new UpError('UP_USAGE', err.message);
    throw err;
  }
}
