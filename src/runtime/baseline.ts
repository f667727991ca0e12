// The security baseline every container is created with (DESIGN.md
// "Security defaults and access"; Kubernetes Pod Security "baseline" in
// spirit). Nothing in the job format can loosen it: the format has no
// privileged mode, capabilities, host namespaces or host paths.
//
// Checked on podman 4.3.1's compatible API (test/integration/runtime/
// baseline.test.ts): its default capability set is Docker's (14), so
// dropping NET_RAW leaves 13 and `ping` fails while TCP works; LogConfig
// `max-size` is applied (libpod's inspect shows it as LogConfig.Size; the
// compatible inspect shows Config null), and `json-file` maps to podman's
// k8s-file driver.
import type { ContainerSpec } from '../model/job';

/** setuid binaries and file capabilities cannot raise privileges. */
export const BASELINE_SECURITY_OPT: readonly string[] = ['no-new-privileges'];

/**
 * Docker's default capabilities minus NET_RAW (raw sockets: packet
 * spoofing and sniffing on the bridge; ping is the usual casualty).
 * Dropping from the engine's default rather than listing the ones to keep
 * means an engine with a smaller default (podman's own CLI default has 11)
 * is never widened.
 */
export const BASELINE_CAP_DROP: readonly string[] = ['NET_RAW'];

/** A container's log is rotated at this size. */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;
/** Files kept by dockerd's json-file driver (the current one and one rotated); podman's k8s-file truncates instead. */
export const LOG_MAX_FILES = 2;

export interface EngineLogConfig {
  Type: 'json-file';
  Config: { 'max-size': string; 'max-file': string };
}

/**
 * json-file, the driver both engines know (podman maps it to k8s-file),
 * rotated at LOG_MAX_BYTES. The size is given in bytes: engines differ on
 * whether "10m" means 10 MB or 10 MiB.
 */
export function boundedLogConfig(): EngineLogConfig {
  return { Type: 'json-file', Config: { 'max-size': String(LOG_MAX_BYTES), 'max-file': String(LOG_MAX_FILES) } };
}

export const TMP_DIR = '/tmp';

/**
 * With a read-only root file system, programs still expect a writable
 * /tmp: a tmpfs, world-writable with the sticky bit (a non-root `user` can
 * use it), no setuid or devices. Its pages are charged to the container's
 * memory cgroup, so `memory` bounds it; `size` says so up front. A volume
 * mounted at /tmp takes its place (two mounts at one path are refused).
 */
export function tmpfsForReadOnly(c: Pick<ContainerSpec, 'volumes' | 'memory'>): Record<string, string> | undefined {
  // Mount paths are clean (render/checks.ts: no trailing slash): an exact match finds it.
  if (c.volumes.some((v) => v.path === TMP_DIR)) return undefined;
  const size = c.memory > 0 ? `,size=${c.memory}` : '';
  return { [TMP_DIR]: `rw,nosuid,nodev,mode=1777${size}` };
}
