// One EtcdDriver watch on etcd3's watcher. etcd3 resumes a broken stream
// by itself; this adds the one case it does not handle: etcd refusing the
// stream's auth token (an etcd restart forgets simple tokens; JWTs expire).
// Then every watch of that client moves to a fresh client (watch-clients.ts)
// and resumes after the last revision it saw, so callers see a disconnect,
// not a cancellation, and lose no event.
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import type { StoredKv, WatchCallbacks, WatchHandle, WatchOptions } from './driver';
import type { StoreError } from './errors';
import type { ClientLease, WatchClients } from './watch-clients';

const INVALID_TOKEN = /invalid auth token/i;
const MOVE_PAUSE_MIN_MS = 100;
const MOVE_PAUSE_MAX_MS = 2_000;

export interface WatchDeps {
  clients: WatchClients<Etcd3>;
  translate(err: unknown, what: string): StoreError;
  toStoredKv(kv: IKeyValue): StoredKv;
}

interface Attached {
  lease: ClientLease<Etcd3>;
  watcher: Watcher;
}

export function openWatch(deps: WatchDeps, key: string, wopts: WatchOptions, cb: WatchCallbacks): WatchHandle {
  const what = `watch ${key}`;
  let current: Attached | undefined;
  let stopped = false;
  let pause = MOVE_PAUSE_MIN_MS;
  let moveTimer: NodeJS.Timeout | undefined;

  /** Lets go of `a`: cancels its watcher (not awaited: a stalled stream may never answer) and its client. */
  const drop = (a: Attached): void => {
    if (current === a) current = undefined;
    void a.watcher.cancel().catch(() => undefined);
    a.lease.release();
  };

  const open = (from: number): void => {
    if (stopped) return;
    let a: Attached | undefined;
    // The client was retired (a refused token): resume on a fresh one after the last revision seen.
    const move = (reason: Error): void => {
      if (a === undefined || current !== a) return;
      const resumeAt = Number(a.watcher.lastRevision() ?? from);
      drop(a);
      cb.onDisconnected(deps.translate(reason, what));
      moveTimer = setTimeout(() => open(resumeAt), pause);
      pause = Math.min(pause * 2, MOVE_PAUSE_MAX_MS);
    };
    const lease = deps.clients.acquire(move);
    let builder = lease.client.watch();
    builder = wopts.rangeEnd !== undefined ? builder.inRange({ start: key, end: wopts.rangeEnd }) : wopts.prefix ? builder.prefix(key) : builder.key(key);
    if (from > 0) builder = builder.startRevision(String(from));
    const mine: Attached = { lease, watcher: builder.watcher() };
    a = current = mine;

    /** True when `err` is a refused token: the whole client is retired (which moves this watch too). */
    const refused = (err: Error): boolean => {
      if (!INVALID_TOKEN.test(err.message)) return false;
      deps.clients.retire(lease.client, err);
      return true;
    };

    mine.watcher.on('connected', (res: IWatchResponse) => {
      if (current !== mine) return;
      pause = MOVE_PAUSE_MIN_MS;
      cb.onConnected(Number(res.header.revision));
    });
    mine.watcher.on('data', (res: IWatchResponse) => {
      if (current !== mine) return;
      const events = (res.events ?? []).map((ev) => ({
        type: ev.type === 'Delete' ? ('delete' as const) : ('put' as const),
        kv: deps.toStoredKv(ev.kv),
      }));
      if (events.length > 0) cb.onEvents(events, Number(res.header.revision));
    });
    mine.watcher.on('disconnected', (err: Error) => {
      if (current !== mine || refused(err)) return;
      cb.onDisconnected(deps.translate(err, what));
    });
    // etcd3 reports a server-side cancellation (e.g. compaction) as 'error'; it drops the watcher.
    mine.watcher.on('error', (err: Error) => {
      if (current !== mine || refused(err)) return;
      current = undefined;
      lease.release();
      cb.onCanceled(err.message);
    });
  };

  open(wopts.fromRevision);
  return {
    cancel: async () => {
      stopped = true;
      clearTimeout(moveTimer);
      const a = current;
      if (!a) return;
      current = undefined;
      // Detaching waits for etcd's acknowledgement; do not hang on a dead connection.
      await Promise.race([a.watcher.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 2_000).unref())]);
      a.lease.release();
    },
  };
}
