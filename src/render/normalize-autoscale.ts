// Job field `autoscale` → AutoscalePolicy, and what a job must be for its
// count to follow CPU use: a service (a daemon's count follows the nodes, a
// cron job has no standing instances), and every container states its `cpu`
// (the target is a share of the pod's CPU limit: a 100m default nobody wrote
// would make "50%" mean something nobody chose).
import { DEFAULT_SCALE_DOWN_AFTER_MS, type AutoscalePolicy } from '../model/autoscale';
import { MAX_UPDATE_DURATION_MS } from './defaults';
import { describeValue, finding, type Finding } from './findings';
import type { Job as JobRaw } from './job-raw.generated';
import { parseDurationMs } from './units';

type AutoscaleRaw = NonNullable<JobRaw['autoscale']>;

export function normalizeAutoscale(raw: JobRaw, a: AutoscaleRaw, findings: Finding[]): AutoscalePolicy {
  const policy: AutoscalePolicy = {
    min: a.min,
    max: a.max,
    cpuPercent: parsePercent(a.cpu) ?? 0,
    scaleDownAfterMs: DEFAULT_SCALE_DOWN_AFTER_MS,
  };
  if (raw.type === 'daemon' || raw.type === 'cron') {
    findings.push(finding('invalid-autoscale', ['autoscale'], `a ${raw.type} job cannot autoscale: its count is not a number of instances to scale (remove \`autoscale\`)`));
  }
  if (a.min > a.max) findings.push(finding('invalid-autoscale', ['autoscale', 'max'], `must be at least min (${a.min}), got ${a.max}`));
  const pct = parsePercent(a.cpu);
  if (pct === undefined || pct < 1 || pct > 100) {
    findings.push(finding('invalid-autoscale', ['autoscale', 'cpu'], `expected a percentage of the pod's CPU limit from 1% to 100% like 50%, got ${describeValue(a.cpu)}`));
  }
  if (a.scaleDownAfter !== undefined) {
    const ms = parseDurationMs(a.scaleDownAfter);
    if (ms === undefined || ms > MAX_UPDATE_DURATION_MS) {
      findings.push(finding('invalid-autoscale', ['autoscale', 'scaleDownAfter'], `expected a duration from 0s to 24h like 5m, got ${describeValue(a.scaleDownAfter)}`));
    } else {
      policy.scaleDownAfterMs = ms;
    }
  }
  for (const [name, c] of Object.entries(raw.containers)) {
    if (c && c.cpu === undefined) {
      findings.push(
        finding('invalid-autoscale', ['containers', name, 'cpu'], `container "${name}" has no CPU limit; autoscale's target is a share of the pod's CPU limit, so every container must state \`cpu\` (e.g. cpu: 500m)`),
      );
    }
  }
  return policy;
}

/** `50%`, `"50"`, `50` → 50; `12.5%` → 12.5. */
export function parsePercent(v: string | number): number | undefined {
  const n = typeof v === 'number' ? v : Number(v.endsWith('%') ? v.slice(0, -1) : v);
  return Number.isFinite(n) ? n : undefined;
}
