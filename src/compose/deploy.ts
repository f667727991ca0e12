// Compose `deploy` (the Deploy Specification) and the service-level
// resource keys it overlaps with: replicas/scale → numInstances, mode
// global → a daemon job, limits → memory/cpu/pids, restart_policy.condition
// → restart. `deploy` wins over the service-level key when both are set (as
// docker compose applies them); a disagreement is reported.
import type { Segment } from '../render/findings';
import { composeBytes, composeCpusMillis, composeInt } from './compose-units';
import { FindingList, isMapping, type Mapping } from './findings';

export interface Deployment {
  replicas?: number;
  daemon?: boolean;
  memoryBytes?: number;
  cpuMillis?: number;
  /** undefined: not given; null: explicitly unlimited. */
  pids?: number | null;
  restartCondition?: 'none' | 'on-failure' | 'any';
}

const MAX_INSTANCES = 10_000;

export function mapDeployment(service: Mapping, at: Segment[], f: FindingList): Deployment {
  const out: Deployment = {};
  const deploy = isMapping(service.deploy) ? service.deploy : {};
  if (service.deploy !== undefined && service.deploy !== null && !isMapping(service.deploy)) f.leftOut([...at, 'deploy'], 'expected a mapping');
  const d: Segment[] = [...at, 'deploy'];
  for (const key of Object.keys(deploy)) {
    if (['replicas', 'resources', 'mode', 'restart_policy'].includes(key) || key.startsWith('x-')) continue;
    f.leftOut([...d, key], DEPLOY_REASONS[key] ?? 'not a key of the Deploy Specification');
  }
  // Instances.
  const mode = deploy.mode ?? 'replicated';
  if (mode === 'global') out.daemon = true;
  else if (mode !== 'replicated') f.leftOut([...d, 'mode'], `mode ${JSON.stringify(mode)}: jobs that run to completion are cron jobs in the job format (type: cron with a schedule)`);
  const replicas = count(deploy.replicas, [...d, 'replicas'], f);
  const scale = count(service.scale, [...at, 'scale'], f);
  if (replicas !== undefined && scale !== undefined && replicas !== scale) f.note([...at, 'scale'], `differs from deploy.replicas (${replicas}), which is used`);
  const n = replicas ?? scale;
  if (n !== undefined && out.daemon) f.leftOut(replicas !== undefined ? [...d, 'replicas'] : [...at, 'scale'], 'a global service runs once per node (a daemon job): the count does not apply');
  else if (n !== undefined) out.replicas = n;
  // Resources.
  const resources = isMapping(deploy.resources) ? deploy.resources : {};
  const r: Segment[] = [...d, 'resources'];
  for (const key of Object.keys(resources)) {
    if (key === 'limits' || key.startsWith('x-')) continue;
    f.leftOut([...r, key], key === 'reservations' ? 'the scheduler reserves each container\'s limits (memory, cpu) on its node; reservations have no separate meaning' : 'not a key of deploy.resources');
  }
  const limits = isMapping(resources.limits) ? resources.limits : {};
  for (const key of Object.keys(limits)) {
    if (['memory', 'cpus', 'pids'].includes(key) || key.startsWith('x-')) continue;
    f.leftOut([...r, 'limits', key], 'the job format limits memory, cpu and pids only');
  }
  const memory = pick(limits.memory, [...r, 'limits', 'memory'], service.mem_limit, [...at, 'mem_limit'], composeBytes, 'a byte value like 512m or 1gb', f);
  if (memory !== undefined) out.memoryBytes = memory;
  const cpu = pick(limits.cpus, [...r, 'limits', 'cpus'], service.cpus, [...at, 'cpus'], composeCpusMillis, 'a number of cores like 0.5', f);
  if (cpu !== undefined) out.cpuMillis = cpu;
  const pids = pick(limits.pids, [...r, 'limits', 'pids'], service.pids_limit, [...at, 'pids_limit'], pidsValue, 'a whole number (-1: unlimited)', f);
  if (pids !== undefined) out.pids = pids < 0 ? null : pids;
  // Restart policy (used when the service has no `restart`).
  if (isMapping(deploy.restart_policy)) {
    const rp = deploy.restart_policy;
    const cond = rp.condition ?? 'any';
    if (cond === 'none' || cond === 'on-failure' || cond === 'any') out.restartCondition = cond;
    else f.leftOut([...d, 'restart_policy', 'condition'], 'expected none, on-failure or any');
    for (const key of Object.keys(rp)) {
      if (key === 'condition' || key.startsWith('x-')) continue;
      f.leftOut([...d, 'restart_policy', key], 'restarts back off exponentially from 1 s to 60 s and never give up; the job format has no other settings');
    }
  }
  return out;
}

const DEPLOY_REASONS: Record<string, string> = {
  endpoint_mode: 'jobs are found through DNS (every healthy instance) and `ozy ingress`',
  labels: 'the job format has no service labels',
  placement: 'the job format places with placement.nodeLabels (node --label k=v) and placement.spread: translate the constraints by hand',
  rollback_config: 'a failed update rolls back by itself (update.autoRevert, docs/updates.md)',
  update_config: 'updates are rolling by default: set update.maxParallel and update.minHealthy by hand (docs/updates.md)',
};

function count(raw: unknown, at: Segment[], f: FindingList): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  const n = composeInt(raw);
  if (n === undefined) {
    f.leftOut(at, 'expected a whole number');
    return undefined;
  }
  if (n > MAX_INSTANCES) {
    f.note(at, `${n} is more than the job format's ${MAX_INSTANCES}: ${MAX_INSTANCES} is used`);
    return MAX_INSTANCES;
  }
  return n;
}

function pidsValue(raw: unknown): number | undefined {
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return raw;
  if (typeof raw === 'string' && /^-?[0-9]{1,9}$/.test(raw.trim())) return Number(raw.trim());
  return undefined;
}

/** The deploy value if set, else the service-level one; each unreadable value is reported. */
function pick(
  deployRaw: unknown,
  deployAt: Segment[],
  serviceRaw: unknown,
  serviceAt: Segment[],
  parse: (v: unknown) => number | undefined,
  expected: string,
  f: FindingList,
): number | undefined {
  const read = (raw: unknown, at: Segment[]): number | undefined => {
    if (raw === undefined || raw === null) return undefined;
    const v = parse(raw);
    if (v === undefined) f.leftOut(at, `expected ${expected}`);
    return v;
  };
  const fromDeploy = read(deployRaw, deployAt);
  const fromService = read(serviceRaw, serviceAt);
  if (fromDeploy !== undefined && fromService !== undefined && fromDeploy !== fromService) {
    f.note(serviceAt, `differs from ${deployAt.slice(2).join('.')}, which is used`);
  }
  return fromDeploy ?? fromService;
}
