// Which client a watch runs on. With etcd users, etcd3 fetches an auth
// token once per client and sends it when it opens a watch stream; it
// renews the token only when a unary call is refused, never for a stream.
// After an etcd restart (simple tokens live in etcd's memory) or a token's
// expiry, every watch re-created on that stream is refused with "invalid
// auth token", for ever. So, with users, watches run on a client of their
// own that is retired when that happens: the watches move to a fresh client
// (a fresh token) and the old one is closed once the last watch left it.
// Without users, watches share the main client and nothing is retired.

export interface Closable {
  close(): void;
}

export interface WatchClients<C extends Closable> {
  /** The client a new watch should use; pair with release(). */
  acquire(): C;
  /** A watch no longer uses `client`. */
  release(client: C): void;
  /** `client`'s token was refused: new watches get a fresh client. */
  retire(client: C): void;
  /** Closes every client this source created. */
  close(): void;
}

/** All watches on one client, which the caller owns and closes. */
export function sharedWatchClient<C extends Closable>(client: C): WatchClients<C> {
  return { acquire: () => client, release: () => undefined, retire: () => undefined, close: () => undefined };
}

/** Watch clients made by `create`, replaced when retired. */
export class RenewableWatchClients<C extends Closable> implements WatchClients<C> {
  private current: C | undefined;
  private readonly users = new Map<C, number>();

  constructor(private readonly create: () => C) {}

  acquire(): C {
    this.current ??= this.create();
    const c = this.current;
    this.users.set(c, (this.users.get(c) ?? 0) + 1);
    return c;
  }

  release(client: C): void {
    const n = (this.users.get(client) ?? 0) - 1;
    if (n > 0) {
      this.users.set(client, n);
      return;
    }
    this.users.delete(client);
    if (client !== this.current) client.close();
  }

  retire(client: C): void {
    if (client !== this.current) return;
    this.current = undefined;
    if (!this.users.has(client)) client.close();
  }

  close(): void {
    for (const c of this.users.keys()) c.close();
    if (this.current && !this.users.has(this.current)) this.current.close();
    this.users.clear();
    this.current = undefined;
  }

  /** Clients open now (tests). */
  openClients(): number {
    return this.users.size + (this.current && !this.users.has(this.current) ? 1 : 0);
  }
}
