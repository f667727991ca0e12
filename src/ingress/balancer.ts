// Which backend gets the next request or connection: round robin per route,
// with backends that just refused a connection moved to the back for a
// short while (passive health: the agent's health check takes a few
// intervals to notice a dead instance, and every request in between would
// otherwise pay a failed connect first). The order returned is the order of
// retries, so a refused request goes to the next instance in line.
import type { Backend } from './route-table';

/** How long a backend that refused a connection is tried last. */
export const COOL_DOWN_MS = 2_000;
/** Routes with more backends than this get a rotated copy per request instead of kept rotations (n² references). */
const KEPT_ROTATIONS_UP_TO = 32;

/** A route's turn, and the rotations of its backends list (made as they are first needed, kept until the list changes). */
interface Turn {
  next: number;
  backends: readonly Backend[];
  rotations: (readonly Backend[] | undefined)[];
}

const NONE: readonly Backend[] = [];

export class Balancer {
  private readonly turns = new Map<string, Turn>();
  private readonly failedAt = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * All of `backends`, starting with the one whose turn it is on route
   * `routeId`. The array may be shared with other requests: read it, never
   * change it (this runs once per request, so it allocates nothing while
   * no backend is cooling down).
   */
  order(routeId: string, backends: readonly Backend[]): readonly Backend[] {
    const n = backends.length;
    if (n === 0) return NONE;
    let turn = this.turns.get(routeId);
    if (turn === undefined) {
      turn = { next: 0, backends, rotations: [] };
      this.turns.set(routeId, turn);
    } else if (turn.backends !== backends) {
      // A rebuilt route table: the position carries over, the rotations do not.
      turn.backends = backends;
      turn.rotations = [];
    }
    const start = turn.next % n;
    turn.next = (start + 1) % n;
    const rotated = n > KEPT_ROTATIONS_UP_TO ? rotate(backends, start) : (turn.rotations[start] ??= rotate(backends, start));
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
    for (const id of this.turns.keys()) if (!routeIds.has(id)) this.turns.delete(id);
  }
}

function rotate(backends: readonly Backend[], start: number): readonly Backend[] {
  return start === 0 ? backends.slice() : [...backends.slice(start), ...backends.slice(0, start)];
}
