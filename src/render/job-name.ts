// Job names: DNS-1123 labels (they become DNS names and container names).
import * as path from 'node:path';

export const MAX_JOB_NAME_LENGTH = 52;
/**
 * A cron run's pod is `<job>-<10-digit unix seconds>-<ordinal up to 999>`
 * (model/cron.ts runInstanceName) and must stay a 63-character DNS label:
 * 63 - 1 - 10 - 1 - 3 = 48.
 */
export const MAX_CRON_JOB_NAME_LENGTH = 48;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 label of at most `max` characters. */
export function isDnsLabel(name: string, max = 63): boolean {
  return name.length <= max && DNS_LABEL.test(name);
}

export function isValidJobName(name: string): boolean {
  return isDnsLabel(name, MAX_JOB_NAME_LENGTH);
}

/** `jobs/team/web.yaml` → `web`. */
export function fileBaseName(file: string): string {
  return path.posix.basename(file).replace(/\.ya?ml$/, '');
}

/**
 * The job name a file stands for when it cannot say so itself: its base
 * name if that is a valid job name (the name rule makes them equal).
 */
export function jobNameOfFile(file: string): string | undefined {
  const base = fileBaseName(file);
  return isValidJobName(base) ? base : undefined;
}
