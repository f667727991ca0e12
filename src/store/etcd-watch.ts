// One EtcdDriver watch on etcd3's watcher. etcd3 resumes a broken stream
// by itself; this adds the one case it does not handle: etcd refusing the
// stream's auth token (an etcd restart forgets simple tokens; JWTs expire).
// Then the watch moves to a fresh client (watch-clients.ts) and resumes
// after the last revision it delivered, so callers see a disconnect, not a
// cancellation, and lose no event.
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import type { StoredKv, WatchCallbacks, WatchHandle, WatchOptions } from './driver';
import type { StoreError } from './errors';
import type { WatchClients } from './watch-clients';

const INVALID_TOKEN = /invalid auth token/i;
const RENEW_PAUSE_MIN_MS = 100;
const RENEW_PAUSE_MAX_MS = 2_000;

export interface WatchDeps {
  clients: WatchClients<Etcd3>;
  translate(err: unknown, what: string): StoreError;
  toStoredKv(kv: IKeyValue): StoredKv;
}

interface Attached {
  client: Etcd3;
  watcher: Watcher;
}

export function openWatch(deps: WatchDeps, key: string, wopts: WatchOptions, cb: WatchCallbacks): WatchHandle {
  const what = `watch ${key}`;
  let current: Attached | undefined;
  let stopped = false;
  let pause = RENEW_PAUSE_MIN_MS;
  let renewTimer: NodeJS.Timeout | undefined;

  const detach = (a: Attached): Promise<unknown> => {
    if (current === a) current = undefined;
    // Detaching waits for etcd's acknowledgement; callers bound the wait.
    const done = a.watcher.cancel().catch(() => undefined);
    void done.then(() => deps.clients.release(a.client));
    return done;
  };

  const open = (from: number): void => {
    if (stopped) return;
    const client = deps.clients.acquire();
    let builder = client.watch();
    builder = wopts.rangeEnd !== undefined ? builder.inRange({ start: key, end: wopts.rangeEnd }) : wopts.prefix ? builder.prefix(key) : builder.key(key);
    if (from > 0) builder = builder.startRevision(String(from));
    const a: Attached = { client, watcher: builder.watcher() };
    current = a;

    /** The token was refused: retire the client, resume on a fresh one. `dropped`: etcd3 already let go of the watcher. */
    const renew = (err: Error, dropped: boolean): boolean => {
      if (!INVALID_TOKEN.test(err.message) || current !== a) return false;
      const resumeAt = Number(a.watcher.lastRevision() ?? from);
      deps.clients.retire(client);
      if (dropped) {
        current = undefined;
        deps.clients.release(client);
      } else {
        void detach(a);
      }
      cb.onDisconnected(deps.translate(err, what));
      renewTimer = setTimeout(() => open(resumeAt), pause);
      pause = Math.min(pause * 2, RENEW_PAUSE_MAX_MS);
      return true;
    };

    a.watcher.on('connected', (res: IWatchResponse) => {
      pause = RENEW_PAUSE_MIN_MS;
      cb.onConnected(Number(res.header.revision));
    });
    a.watcher.on('data', (res: IWatchResponse) => {
      const events = (res.events ?? []).map((ev) => ({
        type: ev.type === 'Delete' ? ('delete' as const) : ('put' as const),
        kv: deps.toStoredKv(ev.kv),
      }));
      if (events.length > 0) cb.onEvents(events, Number(res.header.revision));
    });
    a.watcher.on('disconnected', (err: Error) => {
      if (!renew(err, false)) cb.onDisconnected(deps.translate(err, what));
    });
    // etcd3 reports a server-side cancellation (e.g. compaction) as 'error'; it drops the watcher.
    a.watcher.on('error', (err: Error) => {
      if (renew(err, true)) return;
      if (current === a) {
        current = undefined;
        deps.clients.release(client);
      }
      cb.onCanceled(err.message);
    });
  };

  open(wopts.fromRevision);
  return {
    cancel: async () => {
      stopped = true;
      clearTimeout(renewTimer);
      const a = current;
      if (!a) return;
      // Do not hang on a dead connection.
      await Promise.race([detach(a), new Promise((r) => setTimeout(r, 2_000).unref())]);
    },
  };
}
