// Nodes sorted by how much of one resource they have free, so that
// best-fit is a binary search instead of a scan over every node.
//
// The order is by (free, node id) ascending; the id makes every key unique,
// so a node can be found again by its key alone (no position table to keep
// up to date while entries shift).

export class FreeIndex {
  /** Node ids, ascending by (free[id], id). */
  readonly order: Int32Array;

  constructor(
    private readonly free: Float64Array,
    order?: Int32Array,
  ) {
    this.order = order ?? Int32Array.from({ length: free.length }, (_, i) => i);
    if (!order) this.rebuild();
  }

  /** An index of some nodes only (those of one zone): the same free amounts, a shorter order. */
  static over(free: Float64Array, members: readonly number[]): FreeIndex {
    const index = new FreeIndex(free, Int32Array.from(members));
    index.rebuild();
    return index;
  }

  /** The same order over `free`, a copy of this index's free amounts (no sort). */
  copyOver(free: Float64Array): FreeIndex {
    return new FreeIndex(free, Int32Array.from(this.order));
  }

  /** Sort every node of the index again (after many changes made without moved()). */
  rebuild(): void {
    const { free } = this;
    const ids = Array.from(this.order);
    ids.sort((a, b) => free[a] - free[b] || a - b);
    this.order.set(ids);
  }

  get size(): number {
    return this.order.length;
  }

  /** Position of the first node with at least `amount` free (size if none). */
  firstWithAtLeast(amount: number): number {
    const { order, free } = this;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (free[order[mid]] < amount) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Re-sort one node after its free amount changed from `oldFree` to the
   * value now in `free[id]`. Shifts only the entries between its old and
   * new place (a memmove), so small changes cost little.
   */
  moved(id: number, oldFree: number): void {
    const { order, free } = this;
    const newFree = free[id];
    if (newFree === oldFree) return;
    const at = this.locate(id, oldFree);
    if (newFree < oldFree) {
      // First position in [0, at) whose key is greater than (newFree, id).
      let lo = 0;
      let hi = at;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const other = order[mid];
        const f = free[other];
        if (f < newFree || (f === newFree && other < id)) lo = mid + 1;
        else hi = mid;
      }
      order.copyWithin(lo + 1, lo, at);
      order[lo] = id;
    } else {
      // Last position in (at, size) whose key is less than (newFree, id).
      let lo = at + 1;
      let hi = order.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const other = order[mid];
        const f = free[other];
        if (f < newFree || (f === newFree && other < id)) lo = mid + 1;
        else hi = mid;
      }
      const to = lo - 1;
      order.copyWithin(at, at + 1, to + 1);
      order[to] = id;
    }
  }

  /** Where `id` sits, given the key it was sorted under. */
  private locate(id: number, oldFree: number): number {
    const { order, free } = this;
    let lo = 0;
    let hi = order.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const other = order[mid];
      if (other === id) return mid;
      // Every other entry still carries its sorted key; only `id` changed.
      const f = free[other];
      if (f < oldFree || (f === oldFree && other < id)) lo = mid + 1;
      else hi = mid - 1;
    }
    throw new Error(`free index corrupt: node ${id} not found`);
  }
}
