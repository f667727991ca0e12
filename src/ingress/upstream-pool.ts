// The pool of keep-alive connections to instances, one list per instance
// address, shared by every route: a route change keeps the connections of
// the instances still in use, and those of removed instances idle out.
//
// Idle connections are reused last-in first-out (the warmest first, so the
// rest age out when the load drops) and closed after 3–4 s idle: before a
// Node instance's default keep-alive timeout (5 s) closes them under a
// request, the race that makes a reused connection fail. A coarse sweep
// every second does that, instead of a timer per connection and request.
import type { Backend } from './route-table';
import { UpstreamConn, type ConnOwner } from './upstream-conn';

const SWEEP_MS = 1_000;
/** Idle for this many sweeps (3 to 4 s): closed. */
const IDLE_SWEEPS = 3;

export class UpstreamPool implements ConnOwner {
  private readonly idle = new Map<string, UpstreamConn[]>();
  private readonly all = new Set<UpstreamConn>();
  private ticks = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly backendTimeoutMs: number) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** An idle pooled connection to `b`, or a new one (always new with `fresh`). */
  acquire(b: Backend, fresh = false): UpstreamConn {
    const list = fresh ? undefined : this.idle.get(b.address);
    if (list !== undefined) {
      while (list.length > 0) {
        const c = list.pop()!;
        if (c.usable) return c;
        c.socket.destroy();
      }
    }
    const c = new UpstreamConn(b.address, b.host, b.port, this.backendTimeoutMs, this);
    this.all.add(c);
    return c;
  }

  release(conn: UpstreamConn): void {
    conn.idleSince = this.ticks;
    const list = this.idle.get(conn.address);
    if (list === undefined) this.idle.set(conn.address, [conn]);
    else list.push(conn);
  }

  closed(conn: UpstreamConn): void {
    this.all.delete(conn);
    const list = this.idle.get(conn.address);
    if (list === undefined) return;
    const i = list.indexOf(conn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.idle.delete(conn.address);
  }

  /** Connections open (idle and busy), and those not being read because the client is slow; tests read it. */
  size(): { open: number; idle: number; paused: number } {
    let idle = 0;
    for (const list of this.idle.values()) idle += list.length;
    let paused = 0;
    for (const c of this.all) if (c.socket.isPaused()) paused++;
    return { open: this.all.size, idle, paused };
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle.clear();
  }

  private sweep(): void {
    this.ticks++;
    for (const [address, list] of this.idle) {
      // Oldest first (released in order): close from the bottom while they are too old.
      let n = 0;
      while (n < list.length && this.ticks - list[n]!.idleSince >= IDLE_SWEEPS) list[n++]!.socket.destroy();
      // destroy() → 'close' → closed() splices them out, asynchronously; take them out now too.
      if (n > 0) list.splice(0, n);
      if (list.length === 0) this.idle.delete(address);
    }
  }
}
