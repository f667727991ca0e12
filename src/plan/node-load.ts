// Per-node load of a set of job versions: memory, disk, CPU and host ports,
// with the scheduler's own accounting (the demand of the version each placed
// instance runs, and the space of scaled-away persistent volumes). Used by safe-order.ts to check every intermediate state of
// a round; only the jobs a round writes are ever added, so this stays small.
import type { AcceptedJob } from '../model/cluster';
import { firstRetainedOrdinal, instanceDemand, placementDemand, retainedDemand } from '../schedule';

/** One node's load: resource amounts (MEMORY, DISK, CPU order) and host port use counts. */
interface Use {
  amounts: [number, number, number];
  ports: Map<string, number>;
}

/** What one version of a job takes on each node it uses. */
export interface Footprint {
  readonly perNode: ReadonlyMap<string, Readonly<Use>>;
}

const NOTHING: Footprint = { perNode: new Map() };

/** The footprint of `job`; an absent job (created or deleted) takes nothing. */
export function footprintOf(job: AcceptedJob | undefined): Footprint {
  if (!job) return NOTHING;
  const perNode = new Map<string, Use>();
  const jobDemand = instanceDemand(job.spec);
  for (const p of job.instances) {
    if (p.node === null) continue;
    const d = p.spec === undefined ? jobDemand : placementDemand(job, p);
    let u = perNode.get(p.node);
    if (!u) perNode.set(p.node, (u = { amounts: [0, 0, 0], ports: new Map() }));
    for (let i = 0; i < 3; i++) u.amounts[i] += d.amounts[i];
    for (const port of d.hostPorts) u.ports.set(port, (u.ports.get(port) ?? 0) + 1);
  }
  // Volumes of scaled-away ordinals keep their space (persistent.ts): a scale-down does not free it.
  const retained = job.volumes === undefined ? undefined : retainedDemand(job.spec).amounts;
  for (const [ordinal, node] of Object.entries(job.volumes ?? {})) {
    // A daemon instance's key (`<job>-<node>`) is NaN here: never retained.
    if (retained === undefined || !(Number(ordinal) >= firstRetainedOrdinal(job))) continue;
    let u = perNode.get(node);
    if (!u) perNode.set(node, (u = { amounts: [0, 0, 0], ports: new Map() }));
    for (let i = 0; i < 3; i++) u.amounts[i] += retained[i]!;
  }
  return { perNode };
}

export class NodeLoad {
  private readonly nodes = new Map<string, Use>();

  add(fp: Footprint, times = 1): void {
    for (const [node, f] of fp.perNode) {
      const u = this.use(node);
      for (let i = 0; i < 3; i++) u.amounts[i] += times * f.amounts[i];
      for (const [p, c] of f.ports) u.ports.set(p, (u.ports.get(p) ?? 0) + times * c);
    }
  }

  /** Swap one version of a job for another. */
  replace(from: Footprint, to: Footprint): void {
    this.add(from, -1);
    this.add(to, 1);
  }

  /** Per node and per dimension, the larger of the two loads. */
  static max(a: NodeLoad, b: NodeLoad): NodeLoad {
    const out = new NodeLoad();
    for (const src of [a, b]) {
      for (const [node, u] of src.nodes) {
        const o = out.use(node);
        for (let i = 0; i < 3; i++) o.amounts[i] = Math.max(o.amounts[i], u.amounts[i]);
        for (const [p, c] of u.ports) o.ports.set(p, Math.max(o.ports.get(p) ?? 0, c));
      }
    }
    return out;
  }

  /**
   * Would swapping `from` for `to` keep every node within `bound`? Only the
   * nodes `to` uses can grow, so only they are checked.
   */
  fitsAfterReplace(from: Footprint, to: Footprint, bound: NodeLoad): boolean {
    for (const [node, t] of to.perNode) {
      const u = this.nodes.get(node);
      const b = bound.nodes.get(node);
      const f = from.perNode.get(node);
      for (let i = 0; i < 3; i++) {
        const after = (u?.amounts[i] ?? 0) - (f?.amounts[i] ?? 0) + t.amounts[i];
        if (after > (b?.amounts[i] ?? 0)) return false;
      }
      for (const [p, c] of t.ports) {
        if ((u?.ports.get(p) ?? 0) - (f?.ports.get(p) ?? 0) + c > (b?.ports.get(p) ?? 0)) return false;
      }
    }
    return true;
  }

  /** Every node and dimension of this load is at most `bound`'s. */
  within(bound: NodeLoad): boolean {
    for (const [node, u] of this.nodes) {
      const b = bound.nodes.get(node);
      for (let i = 0; i < 3; i++) if (u.amounts[i] > (b?.amounts[i] ?? 0)) return false;
      for (const [p, c] of u.ports) if (c > (b?.ports.get(p) ?? 0)) return false;
    }
    return true;
  }

  private use(node: string): Use {
    let u = this.nodes.get(node);
    if (!u) this.nodes.set(node, (u = { amounts: [0, 0, 0], ports: new Map() }));
    return u;
  }
}

/** `to` takes no more than `from` on any node, in any dimension. */
export function neverRises(from: Footprint, to: Footprint): boolean {
  for (const [node, t] of to.perNode) {
    const f = from.perNode.get(node);
    for (let i = 0; i < 3; i++) if (t.amounts[i] > (f?.amounts[i] ?? 0)) return false;
    for (const [p, c] of t.ports) if (c > (f?.ports.get(p) ?? 0)) return false;
  }
  return true;
}
