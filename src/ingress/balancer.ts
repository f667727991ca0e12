// Which backend gets the next request or connection: round robin per route,
// with backends that just refused a connection moved to the back for a
// short while (passive health: the agent's health check takes a few
// intervals to notice a dead instance, and every request in between would
// otherwise pay a failed connect first). The order returned is the order of
// retries, so a refused request goes to the next instance in line.
import type { Backend } from './route-table';

/** How long a backend that refused a connection is tried last. */
export const COOL_DOWN_MS = 2_000;

export class Balancer {
  private readonly next = new Map<string, number>();
  private readonly failedAt = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** All of `backends`, starting with the one whose turn it is on route `routeId`. */
  order(routeId: string, backends: readonly Backend[]): Backend[] {
    const n = backends.length;
    if (n === 0) return [];
    const start = (this.next.get(routeId) ?? 0) % n;
    this.next.set(routeId, (start + 1) % n);
    const rotated = start === 0 ? [...backends] : [...backends.slice(start), ...backends.slice(0, start)];
    if (this.failedAt.size === 0) return rotated;
    const t = this.now();
    const fresh: Backend[] = [];
    const cooling: Backend[] = [];
    for (const b of rotated) {
      const at = this.failedAt.get(b.address);
      if (at !== undefined && t - at < COOL_DOWN_MS) cooling.push(b);
      else {
        if (at !== undefined) this.failedAt.delete(b.address);
        fresh.push(b);
      }
    }
    return cooling.length === 0 ? rotated : [...fresh, ...cooling];
  }

  /** `address` refused (or could not be reached): try it last for a while. */
  connectFailed(address: string): void {
    this.failedAt.set(address, this.now());
  }

  connected(address: string): void {
    if (this.failedAt.size > 0) this.failedAt.delete(address);
  }

  /** Forgets routes that are gone (called when the table is rebuilt). */
  retain(routeIds: ReadonlySet<string>): void {
    for (const id of this.next.keys()) if (!routeIds.has(id)) this.next.delete(id);
  }
}
