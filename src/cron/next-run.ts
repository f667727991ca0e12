// A cron job's next scheduled time, for `ozy status` and `ozy runs`.
import type { CronPolicy } from '../model/job';
import { compileSchedule, isScheduleError, type CompiledSchedule } from './times';
import type { ScheduleTimes } from './round';

const compiled = new Map<string, CompiledSchedule | undefined>();

/** The compiled schedule of `policy` (cached per expression and zone); undefined when it cannot be compiled. */
export function scheduleTimes(policy: Pick<CronPolicy, 'schedule' | 'timeZone'>): ScheduleTimes | undefined {
  const key = `${policy.schedule}\n${policy.timeZone}`;
  if (!compiled.has(key)) {
    const c = compileSchedule(policy.schedule, policy.timeZone);
    compiled.set(key, isScheduleError(c) ? undefined : c);
  }
  return compiled.get(key);
}

/** The first scheduled time after `nowMs` as ISO 8601 UTC; null when there is none. */
export function nextRunAt(policy: Pick<CronPolicy, 'schedule' | 'timeZone'>, nowMs: number): string | null {
  const next = scheduleTimes(policy)?.next(Math.floor(nowMs / 1000));
  return next === undefined ? null : new Date(next * 1000).toISOString();
}
