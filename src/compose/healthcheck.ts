// Compose `healthcheck` → the job format's exec check. `test: ["CMD", …]` runs
// the arguments; `["CMD-SHELL", "…"]` and the string form run `/bin/sh -c`
// (the container's default shell, as Docker does); `["NONE"]` and
// `disable: true` mean no check. Docker's defaults are written out (interval
// 30s, timeout 30s, retries 3) so the check behaves as it did under Compose.
import type { Segment } from '../render/findings';
import type { ExecHealthcheck } from '../render/job-raw.generated';
import { MAX_HEALTH_DURATION_MS, MIN_HEALTH_INTERVAL_MS, MIN_HEALTH_TIMEOUT_MS } from '../render/defaults';
import { formatDuration } from '../render/units';
import { composeBool, composeDurationMs, composeInt } from './compose-units';
import { FindingList, isMapping } from './findings';

const DOCKER_INTERVAL_MS = 30_000;
const DOCKER_TIMEOUT_MS = 30_000;
const DOCKER_RETRIES = 3;
const MAX_THRESHOLD = 100;

export function mapHealthcheck(hc: unknown, at: Segment[], f: FindingList): ExecHealthcheck | undefined {
  if (!isMapping(hc)) {
    f.leftOut(at, 'expected a mapping {test, interval, timeout, retries}');
    return undefined;
  }
  if (composeBool(hc.disable) === true) return undefined;
  const command = testCommand(hc.test, [...at, 'test'], f);
  if (command === 'none') return undefined;
  if (command === undefined) {
    // Without a test, Compose keeps the image's HEALTHCHECK, which the job format does not read.
    if (hc.test === undefined) f.leftOut(at, 'no `test`: Compose would use the image\'s HEALTHCHECK, which the scheduler does not read; add a test');
    return undefined;
  }
  const out: ExecHealthcheck = { type: 'exec', command };
  out.interval = duration(hc.interval, DOCKER_INTERVAL_MS, MIN_HEALTH_INTERVAL_MS, [...at, 'interval'], f);
  out.timeout = duration(hc.timeout, DOCKER_TIMEOUT_MS, MIN_HEALTH_TIMEOUT_MS, [...at, 'timeout'], f);
  const retries = hc.retries === undefined ? DOCKER_RETRIES : composeInt(hc.retries);
  if (retries === undefined) f.leftOut([...at, 'retries'], `expected a whole number; Docker's default ${DOCKER_RETRIES} is used`);
  const threshold = Math.min(Math.max(retries ?? DOCKER_RETRIES, 1), MAX_THRESHOLD);
  if (retries !== undefined && retries !== threshold) f.note([...at, 'retries'], `${retries} is outside the job format's 1 to ${MAX_THRESHOLD}: ${threshold} is used`);
  out.unhealthy_threshold = threshold;
  for (const key of Object.keys(hc)) {
    if (['test', 'interval', 'timeout', 'retries', 'disable'].includes(key) || key.startsWith('x-')) continue;
    const why =
      key === 'start_period' || key === 'start_interval'
        ? 'the job format has no start period: the agent forgives failures before the first success for its ready timeout (2 minutes by default; docs/node-runtime.md), which stands in for it'
        : 'not a healthcheck key of the Compose Specification';
    f.leftOut([...at, key], why);
  }
  return out;
}

/** The check's argv, 'none' for NONE, or undefined (reported) when unusable. */
function testCommand(test: unknown, at: Segment[], f: FindingList): string[] | 'none' | undefined {
  if (test === undefined || test === null) return undefined;
  if (typeof test === 'string') return test.trim() === '' ? undefined : ['/bin/sh', '-c', test];
  if (!Array.isArray(test) || !test.every((x) => typeof x === 'string') || test.length === 0) {
    f.leftOut(at, 'expected a string, or a list starting with CMD, CMD-SHELL or NONE');
    return undefined;
  }
  const [kind, ...rest] = test as string[];
  if (kind === 'NONE') return 'none';
  if (kind === 'CMD' && rest.length > 0) return rest;
  if (kind === 'CMD-SHELL' && rest.length > 0) return ['/bin/sh', '-c', rest.join(' ')];
  f.leftOut(at, 'expected a list starting with CMD or CMD-SHELL followed by the command, or ["NONE"]');
  return undefined;
}

function duration(raw: unknown, dflt: number, min: number, at: Segment[], f: FindingList): string {
  if (raw === undefined || raw === null) return formatDuration(dflt);
  const ms = composeDurationMs(raw);
  if (ms === undefined) {
    f.leftOut(at, `expected a duration like 30s or 1m30s; Docker's default ${formatDuration(dflt)} is used`);
    return formatDuration(dflt);
  }
  const bounded = Math.min(Math.max(ms, min), MAX_HEALTH_DURATION_MS);
  if (bounded !== ms) f.note(at, `outside the job format's ${formatDuration(min)} to 1h: ${formatDuration(bounded)} is used`);
  return formatDuration(bounded);
}
