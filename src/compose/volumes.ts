// Compose `volumes` and `tmpfs` → the job format's volumes. A named volume
// becomes `persistent` (one directory per instance on its node, kept until
// the job is deleted: what a named volume is to one Compose host); an
// anonymous volume and a tmpfs become `local` (scratch, per instance).
// Compose volumes have no size, the job format needs one: defaults are
// written and reported. Bind mounts are refused: the job format has no
// host paths (docs/security.md).
import type { Segment } from '../render/findings';
import type { Volume } from '../render/job-raw.generated';
import { formatSize, MiB } from '../render/units';
import { composeBool, composeBytes } from './compose-units';
import { FindingList, isMapping } from './findings';

export const DEFAULT_VOLUME_SPACE = '1G';
export const DEFAULT_TMPFS_SPACE = '64M';
const MIN_SPACE = MiB;
export const MAX_VOLUMES = 16;

export interface VolumeUse {
  volume: Volume;
  /** The named volume's name, for sharing checks across services. */
  named?: string;
  /** Where it was declared (set by the caller). */
  at?: Segment[];
}

/** Compose's rule: a source that starts like a path is a bind mount, anything else names a volume. */
function isPathSource(source: string): boolean {
  return /^(\.|\/|~|[A-Za-z]:[\\/]|\\\\)/.test(source);
}

const BIND_REFUSAL = 'bind mounts of host paths are refused: the job format has no host paths (docs/security.md); use a persistent or shared volume and put the data there, or build it into the image';

export function mapVolume(entry: unknown, at: Segment[], declared: ReadonlySet<string>, f: FindingList): VolumeUse | undefined {
  if (typeof entry === 'string') return mapShort(entry, at, declared, f);
  if (isMapping(entry)) return mapLong(entry, at, declared, f);
  f.leftOut(at, 'expected SOURCE:TARGET[:MODE] or {type, source, target}');
  return undefined;
}

function mapShort(entry: string, at: Segment[], declared: ReadonlySet<string>, f: FindingList): VolumeUse | undefined {
  const parts = entry.split(':');
  if (parts.length === 1) return local(parts[0]!, 'an anonymous volume', at, f);
  const [source, target, mode = ''] = parts as [string, string, string?];
  if (parts.length > 3) {
    f.leftOut(at, 'expected SOURCE:TARGET[:MODE]');
    return undefined;
  }
  if (isPathSource(source)) {
    f.refused(at, BIND_REFUSAL);
    return undefined;
  }
  const options = mode.split(',').filter((o) => o !== '' && o !== 'rw' && o !== 'z' && o !== 'Z');
  for (const o of options) f.leftOut(at, o === 'ro' ? 'read-only (ro): the job format mounts volumes read-write' : `mode ${JSON.stringify(o)}: the job format has no volume options`);
  return named(source, target, at, declared, f);
}

function mapLong(entry: Record<string, unknown>, at: Segment[], declared: ReadonlySet<string>, f: FindingList): VolumeUse | undefined {
  const type = typeof entry.type === 'string' ? entry.type : 'volume';
  const target = typeof entry.target === 'string' ? entry.target : undefined;
  const source = typeof entry.source === 'string' && entry.source !== '' ? entry.source : undefined;
  if (type === 'bind') {
    f.refused(at, BIND_REFUSAL);
    return undefined;
  }
  if (type !== 'volume' && type !== 'tmpfs') {
    f.leftOut(at, `type ${JSON.stringify(type)}: the job format has volume and tmpfs mounts only`);
    return undefined;
  }
  if (target === undefined) {
    f.leftOut([...at, 'target'], 'expected the mount path in the container');
    return undefined;
  }
  for (const key of Object.keys(entry)) {
    if (['type', 'source', 'target', 'tmpfs'].includes(key) || key.startsWith('x-')) continue;
    if (key === 'read_only') {
      if (composeBool(entry.read_only) === true) f.leftOut([...at, key], 'read-only: the job format mounts volumes read-write');
      continue;
    }
    if (key === 'volume' && isMapping(entry.volume) && Object.keys(entry.volume).length === 0) continue;
    f.leftOut([...at, key], key === 'volume' ? 'volume options (nocopy, subpath): the job format has none' : 'the job format has no such volume option');
  }
  if (type === 'tmpfs') return tmpfs(target, isMapping(entry.tmpfs) ? entry.tmpfs.size : undefined, at, f);
  if (source === undefined) return local(target, 'an anonymous volume', at, f);
  return named(source, target, at, declared, f);
}

function named(name: string, rawTarget: string, at: Segment[], declared: ReadonlySet<string>, f: FindingList): VolumeUse | undefined {
  const target = cleanPath(rawTarget, at, f);
  if (target === undefined) return undefined;
  if (!declared.has(name)) f.note(at, `volume ${JSON.stringify(name)} is not declared under the top-level volumes (Compose would refuse the file); imported like a declared one`);
  f.note(at, `named volume ${JSON.stringify(name)} → a persistent volume (one per instance, kept on its node until the job is deleted) of ${DEFAULT_VOLUME_SPACE}: Compose volumes have no size, adjust \`space\``);
  return { volume: { type: 'persistent', path: target, space: DEFAULT_VOLUME_SPACE }, named: name };
}

function local(rawTarget: string, what: string, at: Segment[], f: FindingList): VolumeUse | undefined {
  const target = cleanPath(rawTarget, at, f);
  if (target === undefined) return undefined;
  f.note(at, `${what} → a local volume (scratch space of the instance, gone with it) of ${DEFAULT_VOLUME_SPACE}: adjust \`space\``);
  return { volume: { type: 'local', path: target, space: DEFAULT_VOLUME_SPACE } };
}

/** A tmpfs (`tmpfs:` entries and `type: tmpfs` mounts) → a local volume; it is on disk, not in memory. */
export function tmpfs(rawTarget: string, size: unknown, at: Segment[], f: FindingList): VolumeUse | undefined {
  const target = cleanPath(rawTarget, at, f);
  if (target === undefined) return undefined;
  let space: string | number = DEFAULT_TMPFS_SPACE;
  const bytes = size === undefined ? undefined : composeBytes(size);
  if (size !== undefined && bytes === undefined) f.leftOut([...at, 'tmpfs', 'size'], 'expected a byte value like 64m');
  if (bytes !== undefined) space = formatSize(Math.max(bytes, MIN_SPACE));
  f.note(at, `tmpfs → a local volume of ${space} (scratch space of the instance, on the node's disk rather than in memory; emptied when the instance is replaced, not when the container restarts)`);
  return { volume: { type: 'local', path: target, space } };
}

/** Service-level `tmpfs: /path` or `[/path:size=64m,mode=1777]`. */
export function mapTmpfsEntry(entry: unknown, at: Segment[], f: FindingList): VolumeUse | undefined {
  if (typeof entry !== 'string') {
    f.leftOut(at, 'expected PATH or PATH:OPTIONS');
    return undefined;
  }
  const colon = entry.indexOf(':');
  const target = colon < 0 ? entry : entry.slice(0, colon);
  const options = colon < 0 ? [] : entry.slice(colon + 1).split(',');
  let size: string | undefined;
  for (const o of options) {
    const [k, v] = o.split('=');
    if (k === 'size' && v !== undefined) size = v;
    else if (o !== '') f.leftOut(at, `tmpfs option ${JSON.stringify(o)}: the job format has no mount options`);
  }
  return tmpfs(target, size, at, f);
}

/** The job format's rule for mount paths: absolute, no '.', '..' or empty segments, not '/'. */
function cleanPath(raw: string, at: Segment[], f: FindingList): string | undefined {
  const p = raw.length > 1 ? raw.replace(/\/+$/, '') : raw;
  const segments = p.split('/').slice(1);
  const ok = p.startsWith('/') && p.length >= 2 && p.length <= 1024 && segments.every((s) => s !== '' && s !== '.' && s !== '..');
  if (!ok) f.leftOut(at, `mount path ${JSON.stringify(raw)}: expected a clean absolute path like /data`);
  return ok ? p : undefined;
}
