// Figures the metrics compute from state the agent already holds (pure):
// no etcd read and no engine call per scrape.
import type { AcceptedJob, InstanceState } from '../model/cluster';

export const INSTANCE_STATES: readonly InstanceState[] = ['pending', 'pulling', 'starting', 'healthy', 'unhealthy', 'exited', 'failed'];

/** Instances by state, every state present (a state that drops to 0 must show 0, not vanish). */
export function countByState(states: Iterable<InstanceState>): Map<InstanceState, number> {
  const out = new Map<InstanceState, number>(INSTANCE_STATES.map((s) => [s, 0]));
  for (const s of states) out.set(s, (out.get(s) ?? 0) + 1);
  return out;
}

export interface PendingSummary {
  /** Instances placed nowhere (the schedule's `node: null`). */
  count: number;
  /** Seconds since the oldest of them became pending; 0 when none. */
  oldestAgeSeconds: number;
}

/**
 * Pending instances of the accepted jobs and how long the oldest has waited.
 * The age comes from the placement's `since`, written by whichever agent
 * committed it: a monitoring figure only, never a decision (no agent decides
 * on another's clock). A `since` that cannot be read counts as just now.
 */
export function pendingSummary(jobs: Iterable<AcceptedJob>, nowMs: number): PendingSummary {
  let count = 0;
  let oldest = Infinity;
  for (const job of jobs) {
    for (const p of job.instances) {
      if (p.node !== null) continue;
      count++;
      const at = Date.parse(p.since);
      if (Number.isFinite(at) && at < oldest) oldest = at;
    }
  }
  return { count, oldestAgeSeconds: count === 0 || oldest === Infinity ? 0 : Math.max(0, (nowMs - oldest) / 1000) };
}

/**
 * Prometheus metric names: `ozy_` prefix, snake case, counters end in
 * `_total`, base units spelled out (`_seconds`, `_bytes`). The unit tests
 * hold every registered name to this.
 */
export function namingProblem(name: string, type: string): string | undefined {
  if (!/^ozy_[a-z][a-z0-9_]*[a-z0-9]$/.test(name)) return `${name}: not ozy_ + snake_case`;
  if (type === 'counter' && !name.endsWith('_total')) return `${name}: a counter must end in _total`;
  if (type !== 'counter' && name.endsWith('_total')) return `${name}: only counters end in _total`;
  if (/_(ms|milliseconds|millicores|kb|mb|gb|kib|mib|gib|minutes|hours)(_|$)/.test(name)) return `${name}: use base units (seconds, bytes, cores)`;
  return undefined;
}
