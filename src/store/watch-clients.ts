// Which client a watch runs on. With etcd users, etcd3 fetches an auth
// token once per client and sends it when it opens a watch stream; it
// renews the token only when a unary call is refused, never for a stream.
// After an etcd restart (simple tokens live in etcd's memory) or a token's
// expiry, each watch re-created on that stream is refused with "invalid
// auth token", and the watches queued behind it on the stream are never
// even sent (etcd3 attaches them one at a time). So, with users, watches
// run on a client of their own which is retired as soon as one of its
// watches is refused: every watch on it moves to a fresh client (a fresh
// token), and the old client is closed once the last watch left it.
// Without users, watches share the main client and nothing is retired.

export interface Closable {
  close(): void;
}

/** One watch's hold on a client. */
export interface ClientLease<C> {
  readonly client: C;
  /** The watch no longer uses the client (idempotent). */
  release(): void;
}

export interface WatchClients<C extends Closable> {
  /** The client a new watch should use. `onRetired` is called if the client is retired while held. */
  acquire(onRetired: (reason: Error) => void): ClientLease<C>;
  /** `client`'s token was refused: every holder is told, and new watches get a fresh client. */
  retire(client: C, reason: Error): void;
  /** Closes every client this source created. */
  close(): void;
}

/** All watches on one client, which the caller owns and closes. */
export function sharedWatchClient<C extends Closable>(client: C): WatchClients<C> {
  return { acquire: () => ({ client, release: () => undefined }), retire: () => undefined, close: () => undefined };
}

/** Watch clients made by `create`, replaced when retired. */
export class RenewableWatchClients<C extends Closable> implements WatchClients<C> {
  private current: C | undefined;
  private readonly holders = new Map<C, Set<(reason: Error) => void>>();

  constructor(private readonly create: () => C) {}

  acquire(onRetired: (reason: Error) => void): ClientLease<C> {
    this.current ??= this.create();
    const client = this.current;
    const set = this.holders.get(client) ?? new Set();
    this.holders.set(client, set);
    // A function of its own per hold, so one watch holding twice counts twice.
    const hold = (reason: Error) => onRetired(reason);
    set.add(hold);
    let released = false;
    return {
      client,
      release: () => {
        if (released) return;
        released = true;
        set.delete(hold);
        if (set.size > 0) return;
        this.holders.delete(client);
        if (client !== this.current) client.close();
      },
    };
  }

  retire(client: C, reason: Error): void {
    if (client !== this.current) return;
    this.current = undefined;
    const set = this.holders.get(client);
    if (!set) return client.close();
    for (const hold of [...set]) hold(reason);
  }

  close(): void {
    for (const c of this.holders.keys()) c.close();
    if (this.current && !this.holders.has(this.current)) this.current.close();
    this.holders.clear();
    this.current = undefined;
  }

  /** Clients open now (tests). */
  openClients(): number {
    return this.holders.size + (this.current && !this.holders.has(this.current) ? 1 : 0);
  }
}
