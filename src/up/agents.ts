// What agents `ozy up` runs (pure): names node-1..N, zones a/b/c round
// robin, and a share of the machine each. The agents all run on this one
// machine, so their capacities are split rather than each claiming the
// whole machine: memory and disk get half of the machine (the rest is for
// the OS, etcd, podman and the agents themselves) divided by N, CPU the
// machine's cores divided by N.
import * as path from 'node:path';

export const ZONES = ['a', 'b', 'c'] as const;

export interface MachineShare {
  /** Bytes. */
  memory: number;
  /** Millicores. */
  cpu: number;
  /** Bytes free for local volumes. */
  disk: number;
}

export interface AgentPlanInput {
  count: number;
  nodePrefix: string;
  stateDir: string;
  repoUrl: string;
  branch: string;
  etcd: string[];
  dockerSocket: string;
  /** Duration text passed to --poll, e.g. "1s". */
  poll: string;
  /** Duration text for --lease-ttl; default: the agent's. */
  leaseTtl?: string;
  /** The machine's totals. */
  machine: MachineShare;
  /** Per-agent overrides (bytes, millicores, bytes). */
  perAgent?: Partial<MachineShare>;
  /** The age identity the agents decrypt secrets with (--secrets-identity). */
  secretsIdentity?: string;
}

export interface AgentPlan {
  node: string;
  zone: string;
  capacity: MachineShare;
  dataDir: string;
  logFile: string;
  /** Arguments after the `ozy` entry point. */
  args: string[];
}

const MiB = 1024 * 1024;

/** Default share of one agent among `count`. */
export function defaultShare(machine: MachineShare, count: number): MachineShare {
  const n = Math.max(1, count);
  return {
    memory: Math.max(64 * MiB, Math.floor(machine.memory / 2 / n / MiB) * MiB),
    cpu: Math.max(100, Math.floor(machine.cpu / n)),
    disk: Math.max(64 * MiB, Math.floor(machine.disk / 2 / n / MiB) * MiB),
  };
}

export function nodeName(prefix: string, index: number): string {
  return `${prefix}-${index + 1}`;
}

export function planAgents(input: AgentPlanInput): AgentPlan[] {
  const share = { ...defaultShare(input.machine, input.count), ...definedOnly(input.perAgent ?? {}) };
  const plans: AgentPlan[] = [];
  for (let i = 0; i < input.count; i++) {
    const node = nodeName(input.nodePrefix, i);
    const zone = ZONES[i % ZONES.length]!;
    const dataDir = path.join(input.stateDir, 'agents', node);
    const args = [
      'agent',
      '--node', node,
      '--repo', input.repoUrl,
      '--branch', input.branch,
      '--etcd', input.etcd.join(','),
      '--docker-socket', input.dockerSocket,
      '--memory', sizeArg(share.memory),
      '--disk', sizeArg(share.disk),
      '--cpus', `${share.cpu}m`,
      '--zone', zone,
      '--address', '127.0.0.1',
      '--publish-ip', '127.0.0.1',
      '--poll', input.poll,
      ...(input.leaseTtl ? ['--lease-ttl', input.leaseTtl] : []),
      '--data-dir', dataDir,
      '--shared-dir', path.join(input.stateDir, 'agents', 'shared'),
      ...(input.secretsIdentity ? ['--secrets-identity', input.secretsIdentity] : []),
    ];
    plans.push({ node, zone, capacity: share, dataDir, logFile: path.join(input.stateDir, 'logs', `${node}.log`), args });
  }
  return plans;
}

/** Whole MiB read better in `ps`; anything else is passed as bytes. */
function sizeArg(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB}M` : String(Math.floor(bytes));
}

function definedOnly(o: Partial<MachineShare>): Partial<MachineShare> {
  const out: Partial<MachineShare> = {};
  for (const k of ['memory', 'cpu', 'disk'] as const) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
