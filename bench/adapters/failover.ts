// Failover time (issue 7 §3): bench/failover.ts (another engineer's)
// SIGKILLs the agent holding N instances and times until all are healthy
// elsewhere; this turns its result into figures next to the lease TTL (the
// floor: nothing can move before etcd expires the dead node's lease).
// Returns undefined for a shape it does not know, and the harness then
// renders it generically.
import { goalAtMost, missText, type Figure, type Section } from '../lib/figures';
import { isObject } from './generic';

interface Run {
  instances: number;
  leaseExpiredMs: number;
  rescheduledMs: number;
  failoverMs: number;
}
interface FailoverResult {
  leaseTtlMs: number;
  pollMs: number;
  instances: number;
  goalMs: number;
  runs: Run[];
  failoverMs: { median: number; max: number };
  leaseExpiredMs: { median: number; max: number };
  rescheduledMs: { median: number; max: number };
  withinGoal: number;
}

const nums = (v: unknown, ...keys: string[]): boolean => isObject(v) && keys.every((k) => typeof v[k] === 'number');

function isFailoverResult(v: unknown): v is FailoverResult {
  return (
    nums(v, 'leaseTtlMs', 'pollMs', 'instances', 'goalMs', 'withinGoal') &&
    isObject(v) &&
    Array.isArray(v.runs) &&
    v.runs.every((r) => nums(r, 'instances', 'leaseExpiredMs', 'rescheduledMs', 'failoverMs')) &&
    nums(v.failoverMs, 'median', 'max') &&
    nums(v.leaseExpiredMs, 'median', 'max') &&
    nums(v.rescheduledMs, 'median', 'max')
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.ceil(s.length / 2) - 1]!;
}

export function failoverSection(result: unknown, durationMs: number): Section | undefined {
  if (!isFailoverResult(result)) return undefined;
  const r = result;
  const ttl = { kind: 'floor' as const, label: 'lease TTL (nothing moves before etcd expires the lease)', value: r.leaseTtlMs, unit: 'ms', measured: false };
  const goalText = `< lease TTL + 2 s = ${r.goalMs} ms`;
  const reschedule = median(r.runs.map((x) => x.rescheduledMs - x.leaseExpiredMs));
  const start = median(r.runs.map((x) => x.failoverMs - x.rescheduledMs));
  const figures: Figure[] = [
    {
      id: 'failover.median',
      label: `SIGKILL of the agent holding ${r.instances} instances → all healthy elsewhere, median of ${r.runs.length}`,
      value: r.failoverMs.median,
      unit: 'ms',
      vs: ttl,
      goal: goalAtMost(r.failoverMs.median, r.goalMs, goalText),
      detail: `medians: lease expiry ${r.leaseExpiredMs.median} ms after the kill, +${reschedule} ms to commit new placements, +${start} ms to start the pods and pass a health check`,
    },
    {
      id: 'failover.max',
      label: 'the same, slowest run',
      value: r.failoverMs.max,
      unit: 'ms',
      vs: ttl,
      goal: goalAtMost(r.failoverMs.max, r.goalMs, goalText),
      detail: `${r.withinGoal} of ${r.runs.length} runs within the goal`,
    },
    {
      id: 'failover.leaseExpiry',
      label: 'SIGKILL → etcd drops the node key (lease expiry), median',
      value: r.leaseExpiredMs.median,
      unit: 'ms',
      vs: ttl,
    },
    {
      id: 'failover.reschedule',
      label: 'lease gone → new placements committed, median',
      value: reschedule,
      unit: 'ms',
      vs: { kind: 'floor', label: '--poll of the agents (a node watch kicks the brain at once; a poll is the fallback)', value: r.pollMs, unit: 'ms', measured: false },
    },
  ];
  const notes = [
    `bench/failover.ts: three \`ozy agent\` processes (lease TTL ${r.leaseTtlMs / 1000} s, --poll ${r.pollMs} ms — the fault suite's settings, shorter than the latency benchmark's) on a real etcd, git server and podman; one job of ${r.instances} health-checked busybox httpd instances packed onto one node, whose agent is SIGKILLed; the clock stops when every instance is healthy on a live node. The killed agent comes back between runs and the next run kills whichever node holds the instances.`,
  ];
  if (r.failoverMs.median > r.goalMs) notes.push(`Failover median missed its goal by ${missText(r.failoverMs.median, r.goalMs, 'ms')}.`);
  else if (r.failoverMs.max > r.goalMs) notes.push(`The slowest failover missed the goal by ${missText(r.failoverMs.max, r.goalMs, 'ms')}.`);
  return { id: 'failover', title: 'Failover time (SIGKILL an agent; 3 agents, etcd, podman)', figures, notes, durationMs, raw: result };
}
