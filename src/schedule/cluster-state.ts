// The scheduler's working copy of the cluster: what every live node has
// free, which host ports are taken, and how many instances of each job sit
// where. Each decision mutates its own; nothing here outlives one call of
// decide(). A decision's state is usually a fork() of the accounting the
// last decision started from (placed-state.ts), not built from scratch.
import type { NodeInfo } from '../model/cluster';
import { CPU, DISK, MEMORY, RESOURCE_INDEXES, type Demand, type ResourceIndex } from './demand';
import { FreeIndex } from './free-index';

/** Jobs a state writes on top of the counts it shares with its forks before they are merged into a new shared map. */
const SHARED_OVERLAY_MAX = 64;

export class ClusterState {
  /** Live node names, sorted: a node's id is its position here. */
  readonly names: readonly string[];
  readonly nodes: readonly NodeInfo[];
  /** Each live node's zone, by id (the home-zone check reads it for every candidate). */
  readonly zones: ReadonlyArray<string | undefined>;
  /** capacity[resource][id] */
  readonly capacity: readonly [Float64Array, Float64Array, Float64Array];
  /** free[resource][id]; negative when a node is committed beyond capacity. */
  readonly free: readonly [Float64Array, Float64Array, Float64Array];
  /** One best-fit index per resource. */
  readonly indexes: readonly [FreeIndex, FreeIndex, FreeIndex];
  /**
   * The same per zone, over that zone's nodes only: an instance held to its
   * home zone walks its zone's order instead of skipping the other zones'
   * nodes one by one (two thirds of every walk with three zones).
   */
  private readonly zoneIndexes: Map<string, readonly [FreeIndex, FreeIndex, FreeIndex]>;
  /** By node id: its zone's indexes (kept in step on every add and remove). */
  private readonly nodeZoneIndexes: ReadonlyArray<readonly [FreeIndex, FreeIndex, FreeIndex] | undefined>;
  /** Sum of capacity over live nodes, per resource. */
  readonly totalCapacity: readonly [number, number, number];
  private readonly ids: Map<string, number>;
  private readonly ports: Array<Map<string, number> | undefined>;
  /**
   * Instances per job and node id: `jobCounts` over `sharedCounts`. Forks
   * share `sharedCounts`, which nobody changes any more, and each writes its
   * own `jobCounts` (a decision touches a few jobs of 5,000: copying them
   * all per decision cost more than the decision's own work on them).
   */
  private jobCounts: Map<string, Map<number, number>>;
  private sharedCounts: ReadonlyMap<string, ReadonlyMap<number, number>> | undefined;
  /** Jobs whose count maps this state may change in place; the others are shared with a fork and copied on write. */
  private ownedCounts: Set<string> | 'all' = 'all';

  /** `from`: only for fork(), which copies that state (and ignores `alive`). */
  constructor(alive: readonly NodeInfo[], from?: ClusterState) {
    if (from) {
      this.names = from.names;
      this.nodes = from.nodes;
      this.zones = from.zones;
      this.ids = from.ids;
      this.capacity = from.capacity;
      this.totalCapacity = from.totalCapacity;
      this.free = [Float64Array.from(from.free[MEMORY]), Float64Array.from(from.free[DISK]), Float64Array.from(from.free[CPU])];
      this.indexes = [from.indexes[MEMORY].copyOver(this.free[MEMORY]), from.indexes[DISK].copyOver(this.free[DISK]), from.indexes[CPU].copyOver(this.free[CPU])];
      this.zoneIndexes = new Map();
      for (const [zone, [m, d, c]] of from.zoneIndexes) this.zoneIndexes.set(zone, [m.copyOver(this.free[MEMORY]), d.copyOver(this.free[DISK]), c.copyOver(this.free[CPU])]);
      this.nodeZoneIndexes = this.zones.map((z) => (z === undefined ? undefined : this.zoneIndexes.get(z)));
      this.ports = from.ports.map((m) => (m === undefined ? undefined : new Map(m)));
      this.sharedCounts = from.sharedCounts;
      this.jobCounts = new Map(from.jobCounts);
      this.ownedCounts = new Set();
      return;
    }
    this.ids = new Map();
    this.jobCounts = new Map();
    // Duplicate names would make two ids for one node: keep the first.
    const byName = new Map<string, NodeInfo>();
    for (const n of alive) if (!byName.has(n.name)) byName.set(n.name, n);
    this.names = [...byName.keys()].sort();
    this.nodes = this.names.map((name) => byName.get(name) as NodeInfo);
    this.zones = this.nodes.map((node) => node.zone);
    this.names.forEach((name, id) => this.ids.set(name, id));
    const n = this.names.length;
    const cap = (pick: (node: NodeInfo) => number) => Float64Array.from(this.nodes, (node) => pick(node));
    this.capacity = [cap((x) => x.capacity.memory), cap((x) => x.capacity.disk), cap((x) => x.capacity.cpu)];
    this.free = [Float64Array.from(this.capacity[MEMORY]), Float64Array.from(this.capacity[DISK]), Float64Array.from(this.capacity[CPU])];
    this.indexes = [new FreeIndex(this.free[MEMORY]), new FreeIndex(this.free[DISK]), new FreeIndex(this.free[CPU])];
    const members = new Map<string, number[]>();
    this.zones.forEach((zone, id) => {
      if (zone !== undefined) members.set(zone, [...(members.get(zone) ?? []), id]);
    });
    this.zoneIndexes = new Map();
    for (const [zone, ids] of members) {
      this.zoneIndexes.set(zone, [FreeIndex.over(this.free[MEMORY], ids), FreeIndex.over(this.free[DISK], ids), FreeIndex.over(this.free[CPU], ids)]);
    }
    this.nodeZoneIndexes = this.zones.map((z) => (z === undefined ? undefined : this.zoneIndexes.get(z)));
    const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
    this.totalCapacity = [sum(this.capacity[MEMORY]), sum(this.capacity[DISK]), sum(this.capacity[CPU])];
    this.ports = new Array<Map<string, number> | undefined>(n);
  }

  /** The best-fit index of `resource` over the live nodes of `zone` (undefined: none there), or over every node. */
  indexOf(resource: ResourceIndex, zone?: string): FreeIndex | undefined {
    return zone === undefined ? this.indexes[resource] : this.zoneIndexes.get(zone)?.[resource];
  }

  get size(): number {
    return this.names.length;
  }

  /**
   * An independent copy: changes to either never show in the other. O(nodes
   * + jobs) pointer copies; per-job counts are copied on their first write.
   */
  fork(): ClusterState {
    // Freeze what this state has written so far when it is most of the
    // counts (a fresh state: all of them) or when the overlay grew large.
    if (this.sharedCounts === undefined) {
      this.sharedCounts = this.jobCounts;
      this.jobCounts = new Map();
    } else if (this.jobCounts.size > SHARED_OVERLAY_MAX) {
      const merged = new Map(this.sharedCounts);
      for (const [job, counts] of this.jobCounts) merged.set(job, counts);
      this.sharedCounts = merged;
      this.jobCounts = new Map();
    }
    const copy = new ClusterState([], this);
    this.ownedCounts = new Set(); // what this state owned is shared with the copy now
    return copy;
  }

  /** The id of a live node, or undefined for a dead/unknown one. */
  idOf(name: string): number | undefined {
    return this.ids.get(name);
  }

  portTaken(id: number, port: string): boolean {
    const m = this.ports[id];
    return m !== undefined && (m.get(port) ?? 0) > 0;
  }

  /** How many instances of `job` are on node `id`. */
  jobInstancesOn(job: string, id: number): number {
    return (this.jobCounts.get(job) ?? this.sharedCounts?.get(job))?.get(id) ?? 0;
  }

  /** Account `times` instances of `job` on node `id`. */
  add(id: number, job: string, demand: Demand, times = 1): void {
    this.shift(id, demand, -times);
    this.countPorts(id, demand, times);
    this.countJob(id, job, times);
  }

  /**
   * Many add()s in a row, e.g. a decision accounting every instance already
   * placed: the best-fit indexes are sorted once at the end instead of
   * being kept sorted after each one (10,000 instances on 200 nodes).
   */
  addAll(fill: (add: (id: number, job: string, demand: Demand) => void) => void): void {
    fill((id, job, demand) => {
      for (const r of RESOURCE_INDEXES) this.free[r][id] -= demand.amounts[r];
      this.countPorts(id, demand, 1);
      this.countJob(id, job, 1);
    });
    for (const index of this.indexes) index.rebuild();
    for (const indexes of this.zoneIndexes.values()) for (const index of indexes) index.rebuild();
  }

  /** Undo add(): the instances no longer take anything on node `id`. */
  remove(id: number, job: string, demand: Demand, times = 1): void {
    this.shift(id, demand, times);
    this.countPorts(id, demand, -times);
    this.countJob(id, job, -times);
  }

  private countPorts(id: number, demand: Demand, delta: number): void {
    if (demand.hostPorts.length === 0) return;
    let m = this.ports[id];
    if (!m) this.ports[id] = m = new Map();
    for (const p of demand.hostPorts) {
      const c = (m.get(p) ?? 0) + delta;
      if (c > 0) m.set(p, c);
      else m.delete(p);
    }
  }

  private countJob(id: number, job: string, delta: number): void {
    let counts = this.jobCounts.get(job);
    if (this.ownedCounts !== 'all' && !this.ownedCounts.has(job)) {
      counts = new Map(counts ?? this.sharedCounts?.get(job));
      this.jobCounts.set(job, counts);
      this.ownedCounts.add(job);
    } else if (!counts) this.jobCounts.set(job, (counts = new Map()));
    const c = (counts.get(id) ?? 0) + delta;
    if (c > 0) counts.set(id, c);
    else counts.delete(id);
  }

  /**
   * Evaluate `probe` as if `times` more instances were on node `id`, then
   * put everything back. The best-fit indexes are left alone (checkers do
   * not read them), which keeps explaining a failure cheap on big clusters.
   */
  whatIf<T>(id: number, job: string, demand: Demand, times: number, probe: () => T): T {
    for (const r of RESOURCE_INDEXES) this.free[r][id] -= times * demand.amounts[r];
    this.countPorts(id, demand, times);
    this.countJob(id, job, times);
    try {
      return probe();
    } finally {
      // Integer amounts: adding back restores the exact value the indexes were sorted by.
      for (const r of RESOURCE_INDEXES) this.free[r][id] += times * demand.amounts[r];
      this.countPorts(id, demand, -times);
      this.countJob(id, job, -times);
    }
  }

  /** Change node `id`'s free amounts by `times` × demand (negative: take). */
  private shift(id: number, demand: Demand, times: number): void {
    for (const r of RESOURCE_INDEXES) {
      const amount = demand.amounts[r];
      if (amount === 0) continue;
      const free = this.free[r as ResourceIndex];
      const before = free[id];
      free[id] = before + times * amount;
      this.indexes[r].moved(id, before);
      this.nodeZoneIndexes[id]?.[r].moved(id, before);
    }
  }
}
