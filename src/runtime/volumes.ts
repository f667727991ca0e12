// Where volumes live on the node (pure path arithmetic).
//
//   local:  <dataDir>/volumes/<instance>/<container>/<index>
//           one directory per instance, deleted when the instance ends;
//   shared: <sharedRoot>/<job>/<name derived from the mount path>
//           one directory per job and mount path, seen by every instance
//           (and by every container of the pod mounting that same path);
//   persistent: <dataDir>/persistent/<job>/<instance>/<container>/<name derived from the mount path>
//           one directory per instance identity, kept when the instance
//           stops (restart, update, scale-down), deleted with the job
//           (prunePersistentVolumes). Named by mount path, not by index, so
//           a spec update that adds or reorders volumes finds the same data.
//
// Space is accounted by the scheduler, not enforced: a bind-mounted host
// directory has no quota (see docs). Names come from validated job files
// (DNS-1123 labels), but each segment is checked again here because these
// paths are deleted recursively.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { ContainerSpec, VolumeSpec } from '../model/job';

export interface VolumeRoots {
  /** The agent's data dir; local volumes go under `<dataDir>/volumes`. */
  dataDir: string;
  /** Root of shared volumes (a shared filesystem on a real cluster). */
  sharedRoot: string;
}

/** Host directory for one volume of one container. */
export type VolumeResolver = (container: ContainerSpec, volume: VolumeSpec, index: number) => string;

export function instanceVolumesDir(dataDir: string, instance: string): string {
  return path.join(dataDir, 'volumes', safeSegment(instance, 'instance'));
}

export function localVolumePath(dataDir: string, instance: string, container: string, index: number): string {
  return path.join(instanceVolumesDir(dataDir, instance), safeSegment(container, 'container'), String(index));
}

export function persistentRoot(dataDir: string): string {
  return path.join(dataDir, 'persistent');
}

export function persistentJobDir(dataDir: string, job: string): string {
  return path.join(persistentRoot(dataDir), safeSegment(job, 'job'));
}

export function persistentVolumePath(dataDir: string, job: string, instance: string, container: string, mountPath: string): string {
  return path.join(persistentJobDir(dataDir, job), safeSegment(instance, 'instance'), safeSegment(container, 'container'), sharedVolumeName(mountPath));
}

export function sharedVolumePath(sharedRoot: string, job: string, mountPath: string): string {
  return path.join(sharedRoot, safeSegment(job, 'job'), sharedVolumeName(mountPath));
}

/**
 * `/data/shared` → `data-shared-1a2b3c4d`: readable, and the hash keeps
 * `/data/shared` and `/data-shared` apart.
 */
export function sharedVolumeName(mountPath: string): string {
  const slug = mountPath
    .split('/')
    .filter((s) => s !== '')
    .join('-')
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .slice(0, 60);
  const hash = createHash('sha256').update(mountPath).digest('hex').slice(0, 8);
  return `${slug === '' ? 'root' : slug}-${hash}`;
}

/** The resolver for one instance: local and persistent volumes per instance, shared per job. */
export function volumeResolver(roots: VolumeRoots, job: string, instance: string): VolumeResolver {
  return (container, volume, index) => {
    switch (volume.type) {
      case 'local':
        return localVolumePath(roots.dataDir, instance, container.name, index);
      case 'persistent':
        return persistentVolumePath(roots.dataDir, job, instance, container.name, volume.path);
      case 'shared':
        return sharedVolumePath(roots.sharedRoot, job, volume.path);
    }
  };
}

/** One path segment: no separators, no dot segments, not empty. */
function safeSegment(value: string, what: string): string {
  if (value === '' || value === '.' || value === '..' || /[/\\\0]/.test(value)) {
    throw new Error(`unsafe ${what} name for a volume path: ${JSON.stringify(value)}`);
  }
  return value;
}
