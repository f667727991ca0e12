// Random valid packings of jobs on nodes, for property tests of rounds whose
// end state is arbitrary (not decide()'s): whole jobs placed at random on
// nodes with room (memory, CPU, local disk, host ports), never beyond capacity.
import type { AcceptedJob, NodeInfo } from '../../src/model/cluster';
import { specHash } from '../../src/model/hash';
import type { DesiredJob, JobSpec } from '../../src/model/job';

export interface Shape {
  memory: number;
  cpu: number;
  disk: number;
  hostPorts: number[];
}

export function pickOne<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

export function shapedSpec(name: string, numInstances: number, s: Shape): JobSpec {
  return {
    name,
    numInstances,
    containers: [
      {
        name: 'app',
        image: 'localhost/ozy-absent:1',
        restart: 'always',
        environment: [],
        ports: s.hostPorts.map((p) => ({ host: p, container: p, protocol: 'tcp' as const })),
        dependsOn: [],
        memory: s.memory,
        cpu: s.cpu,
        volumes: s.disk > 0 ? [{ type: 'local' as const, path: '/data', space: s.disk }] : [],
      },
    ],
  };
}

export function desiredJob(name: string, numInstances: number, s: Shape): DesiredJob {
  const spec = shapedSpec(name, numInstances, s);
  return { spec, specHash: specHash(spec), file: `jobs/${name}.yaml` };
}

export function placedJob(d: DesiredJob, nodes: ReadonlyArray<string | null>, at = '2024-01-01T00:00:00.000Z'): AcceptedJob {
  return { spec: d.spec, specHash: d.specHash, commit: 'c0', file: d.file, acceptedAt: at, instances: nodes.map((node) => ({ node, since: at })) };
}

export class Packing {
  private readonly free = new Map<string, { memory: number; cpu: number; disk: number; ports: Set<number> }>();

  constructor(
    private readonly nodes: readonly NodeInfo[],
    private readonly rand: () => number,
  ) {
    for (const n of nodes) this.free.set(n.name, { ...n.capacity, ports: new Set() });
  }

  /** Places `count` instances on random nodes with room, or nothing; returns the nodes. */
  place(shape: Shape, count: number): string[] | undefined {
    const chosen: string[] = [];
    for (let i = 0; i < count; i++) {
      const fits = this.nodes.filter((n) => this.fits(n.name, shape));
      if (fits.length === 0) {
        for (const n of chosen) this.take(n, shape, -1);
        return undefined;
      }
      const n = pickOne(this.rand, fits).name;
      this.take(n, shape, 1);
      chosen.push(n);
    }
    return chosen;
  }

  /** Accounts existing placements if they all fit; else nothing. */
  keep(shape: Shape, nodes: ReadonlyArray<string | null>): boolean {
    const taken: string[] = [];
    for (const n of nodes) {
      if (n === null) continue;
      if (!this.fits(n, shape)) {
        for (const t of taken) this.take(t, shape, -1);
        return false;
      }
      this.take(n, shape, 1);
      taken.push(n);
    }
    return true;
  }

  private fits(n: string, s: Shape): boolean {
    const f = this.free.get(n)!;
    return f.memory >= s.memory && f.cpu >= s.cpu && f.disk >= s.disk && s.hostPorts.every((p) => !f.ports.has(p));
  }

  private take(n: string, s: Shape, sign: 1 | -1): void {
    const f = this.free.get(n)!;
    f.memory -= sign * s.memory;
    f.cpu -= sign * s.cpu;
    f.disk -= sign * s.disk;
    for (const p of s.hostPorts) {
      if (sign === 1) f.ports.add(p);
      else f.ports.delete(p);
    }
  }
}

export interface RandomRound {
  /** The accepted jobs before the round. */
  read: Map<string, AcceptedJob>;
  /** Every job wanted after it (for decide() to finish a round cut short). */
  wanted: DesiredJob[];
  putJobs: AcceptedJob[];
  deleteJobs: string[];
}

/**
 * Two random packings of ~`jobs` jobs on `nodes`: a start, and an end where
 * ~25% of the jobs stay put and the rest move (and ~30% of those resize or
 * rescale); jobs that no longer fit anywhere are deleted; a few are created.
 * Both are within capacity, so every state in between must be too.
 */
export function randomRound(rand: () => number, nodes: readonly NodeInfo[], jobs: number, shape: () => Shape): RandomRound {
  const start = new Packing(nodes, rand);
  const read = new Map<string, AcceptedJob>();
  const shapes = new Map<string, Shape>();
  for (let i = 0; i < jobs; i++) {
    const s = shape();
    const count = 1 + Math.floor(rand() * 3);
    const placed = start.place(s, count);
    if (!placed) continue;
    const name = `job-${String(i).padStart(4, '0')}`;
    read.set(name, placedJob(desiredJob(name, count, s), placed));
    shapes.set(name, s);
  }
  // Unchanged jobs first: a subset of a valid packing fits.
  const end = new Packing(nodes, rand);
  const changing: string[] = [];
  const wanted: DesiredJob[] = [];
  for (const [name, job] of read) {
    if (rand() < 0.25 && end.keep(shapes.get(name)!, job.instances.map((p) => p.node))) wanted.push(desiredJob(name, job.instances.length, shapes.get(name)!));
    else changing.push(name);
  }
  const putJobs: AcceptedJob[] = [];
  const deleteJobs: string[] = [];
  for (const name of changing) {
    const old = read.get(name)!;
    const roll = rand();
    const s = roll < 0.3 ? shape() : shapes.get(name)!;
    const count = roll > 0.9 ? 1 + Math.floor(rand() * 4) : old.instances.length;
    const placed = roll < 0.1 ? undefined : end.place(s, count);
    if (placed) {
      const d = desiredJob(name, count, s);
      putJobs.push(placedJob(d, placed));
      wanted.push(d);
    } else if (end.keep(shapes.get(name)!, old.instances.map((p) => p.node))) {
      wanted.push(desiredJob(name, old.instances.length, shapes.get(name)!));
    } else {
      deleteJobs.push(name);
    }
  }
  for (let i = 0; i < jobs / 20; i++) {
    const s = shape();
    const placed = end.place(s, 1);
    if (!placed) continue;
    const d = desiredJob(`new-${i}`, 1, s);
    putJobs.push(placedJob(d, placed));
    wanted.push(d);
  }
  putJobs.sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1));
  return { read, wanted, putJobs, deleteJobs: deleteJobs.sort() };
}
