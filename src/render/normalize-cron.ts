// The cron fields of a job file (type: cron) → CronPolicy, and what a cron
// job may not have. A run is a fresh pod that runs to completion and gets
// no DNS records or traffic, so fields about serving, rolling updates,
// spreading long-lived instances or keeping an instance's data mean
// nothing for it: they are refused rather than silently ignored.
import { compileSchedule, isScheduleError } from '../cron/times';
import { DEFAULT_CRON, type CronPolicy } from '../model/job';
import { describeValue, finding, type Finding, type Segment } from './findings';
import type { Job as JobRaw } from './job-raw.generated';
import { MAX_CRON_JOB_NAME_LENGTH } from './job-name';
import { parseDurationMs } from './units';

/** Job fields that only a `type: cron` job may have. */
export const CRON_ONLY_FIELDS = ['schedule', 'timeZone', 'concurrency', 'startingDeadline', 'catchUp', 'activeDeadline', 'retries', 'history'] as const;

/** Pods per run: ordinals up to 3 digits keep `<job>-<10-digit time>-<ordinal>` within a DNS label. */
export const MAX_PODS_PER_RUN = 1000;
const MAX_STARTING_DEADLINE_MS = 24 * 3_600_000;
const MAX_ACTIVE_DEADLINE_MS = 7 * 24 * 3_600_000;

/** Findings for cron fields in a job that is not `type: cron`. */
export function refuseCronFields(raw: JobRaw): Finding[] {
  return CRON_ONLY_FIELDS.filter((f) => raw[f] !== undefined).map((f) =>
    finding('invalid-cron', [f], `applies to \`type: cron\` jobs only; add \`type: cron\` or remove \`${f}\``),
  );
}

/** The policy of a `type: cron` job, defaults filled in, and what is wrong with it. */
export function normalizeCron(raw: JobRaw, findings: Finding[]): CronPolicy {
  const policy: CronPolicy = {
    schedule: raw.schedule ?? '',
    timeZone: raw.timeZone ?? DEFAULT_CRON.timeZone,
    concurrency: raw.concurrency ?? DEFAULT_CRON.concurrency,
    startingDeadlineMs: cronDuration(raw.startingDeadline, DEFAULT_CRON.startingDeadlineMs, MAX_STARTING_DEADLINE_MS, ['startingDeadline'], findings),
    catchUp: raw.catchUp ?? DEFAULT_CRON.catchUp,
    retries: raw.retries ?? DEFAULT_CRON.retries,
    history: { succeeded: raw.history?.succeeded ?? DEFAULT_CRON.history.succeeded, failed: raw.history?.failed ?? DEFAULT_CRON.history.failed },
    instances: raw.numInstances ?? 1,
  };
  if (raw.activeDeadline !== undefined) policy.activeDeadlineMs = cronDuration(raw.activeDeadline, 0, MAX_ACTIVE_DEADLINE_MS, ['activeDeadline'], findings);
  if (raw.schedule === undefined) {
    findings.push(finding('invalid-cron', ['schedule'], 'is required in a `type: cron` job; expected a cron expression like "15 */2 * * *"'));
  } else {
    const compiled = compileSchedule(policy.schedule, policy.timeZone);
    if (isScheduleError(compiled)) findings.push(finding('invalid-cron', [compiled.field], compiled.message));
  }
  if (policy.instances < 1 || policy.instances > MAX_PODS_PER_RUN) {
    findings.push(finding('invalid-cron', ['numInstances'], `in a cron job, the pods of each run: expected 1 to ${MAX_PODS_PER_RUN}, got ${policy.instances}`));
  }
  return policy;
}

/** From 1s to `max`. */
function cronDuration(raw: string | number | undefined, fallback: number, max: number, at: Segment[], findings: Finding[]): number {
  if (raw === undefined) return fallback;
  const ms = parseDurationMs(raw);
  if (ms === undefined || ms < 1_000 || ms > max) {
    findings.push(finding('invalid-cron', at, `expected a duration from 1s to ${max / 3_600_000}h like 30s, 10m or 2h, got ${describeValue(raw)}`));
    return ms ?? 0;
  }
  return ms;
}

/** Fields a cron job may not have, each named by its pointer. */
export function refuseForCron(raw: JobRaw): Finding[] {
  const out: Finding[] = [];
  if (raw.name.length > MAX_CRON_JOB_NAME_LENGTH) {
    out.push(
      finding(
        'invalid-job-name',
        ['name'],
        `a cron job's name has at most ${MAX_CRON_JOB_NAME_LENGTH} characters (its runs' pods are named <name>-<10-digit unix time>-<ordinal>, which must fit a 63-character DNS label), got ${raw.name.length}`,
      ),
    );
  }
  const why = 'a cron job\'s runs get no DNS records or traffic';
  if (raw.ingress !== undefined) out.push(finding('invalid-cron', ['ingress'], `${why}: remove \`ingress\``));
  if (raw.update !== undefined) out.push(finding('invalid-cron', ['update'], 'a cron job is not updated in place: each run starts with the spec current at its time; remove `update`'));
  if (raw.placement?.spread !== undefined && raw.placement.spread !== 'none') {
    out.push(finding('invalid-cron', ['placement', 'spread'], 'the pods of a run are placed like any instance (bin-packed); remove `spread`'));
  }
  if (raw.placement?.zones !== undefined) out.push(finding('invalid-cron', ['placement', 'zones'], 'a cron job is not spread over zones; remove `zones`'));
  if (raw.onNodeLoss !== undefined) out.push(finding('invalid-cron', ['onNodeLoss'], 'a run on a lost node fails (reason node lost) and is retried per `retries`; remove `onNodeLoss`'));
  for (const [name, c] of Object.entries(raw.containers)) {
    if (!c) continue;
    const at: Segment[] = ['containers', name];
    if (c.restart === 'always') {
      out.push(finding('invalid-cron', [...at, 'restart'], 'a run ends when its containers have exited: expected never (the default for cron jobs) or on-failure'));
    }
    if (c.healthcheck !== undefined) out.push(finding('invalid-cron', [...at, 'healthcheck'], `${why}, and a run's result is its exit codes: remove \`healthcheck\``));
    (c.volumes ?? []).forEach((v, i) => {
      if (v.type === 'persistent') {
        out.push(finding('invalid-cron', [...at, 'volumes', i, 'type'], 'every run is a new pod, so a persistent volume would never be used again: use shared (one volume for all runs) or local'));
      }
    });
  }
  return out;
}
