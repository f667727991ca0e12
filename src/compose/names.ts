// Compose service names (`[a-zA-Z0-9._-]+`) → DNS-1123 labels, which job
// and container names must be: lowercase, `_` and `.` become `-`, at most
// `max` characters; a name taken by an earlier service gets `-2`, `-3`…
import { isDnsLabel } from '../render/job-name';

export function toDnsLabel(name: string, max: number): string {
  let out = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (out.length > max) out = out.slice(0, max).replace(/-+$/, '');
  return out === '' ? 'service' : out;
}

/** Hands out unique labels in the order asked. */
export class LabelAllocator {
  private readonly taken = new Set<string>();
  constructor(private readonly max: number) {}

  take(name: string): string {
    const base = toDnsLabel(name, this.max);
    let label = base;
    for (let n = 2; this.taken.has(label) || !isDnsLabel(label, this.max); n++) {
      const suffix = `-${n}`;
      label = `${base.slice(0, this.max - suffix.length).replace(/-+$/, '')}${suffix}`;
    }
    this.taken.add(label);
    return label;
  }
}
