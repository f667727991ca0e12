// Collects findings with their compose paths (segments → `services.web.ports[0]`).
import { fieldPath, type Segment } from '../render/findings';
import type { ComposeFinding, FindingKind } from './types';

export class FindingList {
  readonly items: ComposeFinding[] = [];
  /** Findings added while set are about this service. */
  service: string | undefined;

  add(kind: FindingKind, at: readonly Segment[], why: string): void {
    const item: ComposeFinding = { kind, path: fieldPath(at), why };
    const service = this.service ?? (at[0] === 'services' && typeof at[1] === 'string' ? at[1] : undefined);
    if (service !== undefined) item.service = service;
    this.items.push(item);
  }
  refused(at: readonly Segment[], why: string): void {
    this.add('refused', at, why);
  }
  leftOut(at: readonly Segment[], why: string): void {
    this.add('left-out', at, why);
  }
  note(at: readonly Segment[], why: string): void {
    this.add('note', at, why);
  }
}

export type Mapping = Record<string, unknown>;

export function isMapping(v: unknown): v is Mapping {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A string list from Compose's "string or list of strings" fields. */
export function stringList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}
