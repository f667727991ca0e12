// Defaults applied when a job leaves a field out. They are documented in
// schemas/job.schema.json (`default`), and a unit test keeps the two equal.
// Memory and CPU always get a number so the scheduler can bin-pack every job
// (Nomad does the same).
import { MiB } from './units';
export { DEFAULT_PIDS } from '../model/job';

export const DEFAULT_NUM_INSTANCES = 1;
export const DEFAULT_RESTART = 'always';
/** Containers of `type: cron` jobs: a run ends when they have exited. */
export const DEFAULT_CRON_RESTART = 'never';
/** "128M" */
export const DEFAULT_MEMORY_BYTES = 128 * MiB;
/** "100m" */
export const DEFAULT_CPU_MILLICORES = 100;
/** "2s" */
export const DEFAULT_HEALTH_TIMEOUT_MS = 2_000;
/** "10s" */
export const DEFAULT_HEALTH_INTERVAL_MS = 10_000;
export const DEFAULT_HEALTHY_THRESHOLD = 1;
export const DEFAULT_UNHEALTHY_THRESHOLD = 3;
export const DEFAULT_HEALTH_PATH = '/';

/** Sanity bounds (semantic checks beyond the schema). */
export const MIN_MEMORY_BYTES = 6 * MiB; // dockerd refuses limits under 6 MB
export const MAX_MEMORY_BYTES = 1024 * 1024 * MiB;
export const MIN_VOLUME_BYTES = 1 * MiB;
export const MAX_VOLUME_BYTES = 16 * 1024 * 1024 * MiB;
export const MIN_CPU_MILLICORES = 10; // runc refuses a CFS quota under 1 ms per 100 ms period
export const MAX_CPU_MILLICORES = 1024 * 1000;
export const MIN_HEALTH_INTERVAL_MS = 100;
export const MIN_HEALTH_TIMEOUT_MS = 10;
export const MAX_HEALTH_DURATION_MS = 3_600_000;
/** Longest minHealthy / healthyDeadline / stopGrace: a day. */
export const MAX_UPDATE_DURATION_MS = 24 * 3_600_000;
