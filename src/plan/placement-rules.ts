// A job's `placement` as the scheduler's rules: node labels and spread:
// nodes become checker rules on every request of the job; spread: zones
// gives each ordinal a home zone. Pure.
import type { InstancePlacement, NodeInfo } from '../model/cluster';
import { placementName } from '../model/cluster';
import { spreadOf, type JobSpec } from '../model/job';
import type { Homes, PlacementRequest, PlacementRules } from '../schedule';

/** `req` with the rules of `spec`; `instances` names the job's instances in reasons ("already runs web-1"). */
export function withRules(req: PlacementRequest, spec: JobSpec, instances?: () => readonly InstancePlacement[]): PlacementRequest {
  const labels = Object.entries(spec.placement?.nodeLabels ?? {});
  const onePerNode = spreadOf(spec) === 'nodes';
  if (labels.length === 0 && !onePerNode) return req;
  const rules: PlacementRules = {};
  if (labels.length > 0) rules.labels = labels;
  if (onePerNode) {
    rules.onePerNode = true;
    if (instances) rules.occupant = (node) => occupantOn(spec.name, instances(), node);
  }
  return { ...req, rules };
}

function occupantOn(job: string, instances: readonly InstancePlacement[], node: string): string | undefined {
  const i = instances.findIndex((p) => p.node === node);
  return i < 0 ? undefined : placementName(job, instances[i]!, i);
}

/**
 * Every zone the cluster knows: those remembered in etcd (a zone that lost
 * its nodes keeps its place, so homes do not reshuffle) and those of the
 * live nodes (before their agents' registration is remembered), sorted.
 */
export function knownZones(remembered: readonly string[] | undefined, nodes: readonly NodeInfo[]): string[] {
  const all = new Set(remembered ?? []);
  for (const n of nodes) if (n.zone !== undefined) all.add(n.zone);
  return [...all].sort();
}

/** Z of a `spread: zones` job: its own list, else every known zone; [] for any other job. */
export function zonesOf(spec: JobSpec, known: readonly string[]): readonly string[] {
  if (spreadOf(spec) !== 'zones') return [];
  return spec.placement?.zones ?? known;
}

/** Instance `<job>-i` belongs in zone Z[i mod |Z|]; undefined when the job does not spread over zones. */
export function homeZone(zones: readonly string[], ordinal: number): string | undefined {
  return zones.length === 0 ? undefined : zones[ordinal % zones.length];
}

/** The home zones of `ordinals`, in that order; undefined when the job does not spread over zones. */
export function homesOf(zones: readonly string[], ordinals: readonly number[]): Homes | undefined {
  return zones.length === 0 ? undefined : ordinals.map((i) => homeZone(zones, i));
}

/** 0..count-1 from `start`. */
export function ordinalsFrom(start: number, count: number): number[] {
  return Array.from({ length: Math.max(0, count) }, (_, k) => start + k);
}
