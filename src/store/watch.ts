// A watch on one key prefix that survives what etcd throws at it:
//  - a broken stream: etcd3 reconnects and resumes after the last revision
//    seen, so no event is lost or repeated;
//  - a cancelled watch (its start revision was compacted, e.g. after a long
//    partition): history is gone, so the caller re-lists (onReset) and the
//    watch restarts just after the revision of that listing.
import type { Decoded } from './codec';
import type { EtcdDriver, StoredKv, WatchHandle } from './driver';
import { CorruptValueError } from './errors';
import { keyName } from './keys';

export interface WatchChange<T> {
  type: 'put' | 'delete';
  /** The key below the watched prefix: a job or node name. */
  name: string;
  /** Set for puts. */
  value?: T;
  /** The revision of this change. */
  revision: number;
}

export interface WatchHandlers<T> {
  onChange(change: WatchChange<T>): void;
  /**
   * History needed to continue is gone: re-list (e.g. ClusterStore.snapshot())
   * and return the revision of that listing; the watch resumes right after it.
   * Without a returned revision it resumes after the revision read just
   * before onReset was called, so changes may repeat: ignore a change whose
   * revision is not above your listing's.
   */
  onReset(): Promise<number | void> | number | void;
  /** Transient trouble (disconnects, a failed re-list) and handler exceptions. The watch carries on. */
  onError?(err: Error): void;
}

export type StopWatch = () => Promise<void>;

const RESET_RETRY_MIN_MS = 100;
const RESET_RETRY_MAX_MS = 2_000;

export class PrefixWatch<T> {
  private stopped = false;
  private handle: WatchHandle | undefined;
  private resetting = false;

  constructor(
    private readonly driver: EtcdDriver,
    private readonly prefix: string,
    private readonly decode: (name: string, kv: StoredKv) => Decoded<T>,
    private readonly handlers: WatchHandlers<T>,
    private readonly reportCorrupt: (err: CorruptValueError) => void,
  ) {}

  /** Resolves once the first attempt to establish the watch has an outcome (connected or not). */
  start(fromRevision: number): Promise<void> {
    return new Promise((resolve) => this.open(fromRevision, resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const h = this.handle;
    this.handle = undefined;
    await h?.cancel();
  }

  private open(fromRevision: number, ready: () => void = () => undefined): void {
    if (this.stopped) return ready();
    this.handle = this.driver.watch(this.prefix, { prefix: true, fromRevision }, {
      onConnected: () => ready(),
      onEvents: (events) => {
        if (this.stopped) return;
        for (const ev of events) this.deliver(ev.type, ev.kv);
      },
      onCanceled: () => {
        ready();
        this.handle = undefined;
        void this.reset();
      },
      onDisconnected: (err) => {
        ready();
        this.report(err);
      },
    });
  }

  private deliver(type: 'put' | 'delete', kv: StoredKv): void {
    const name = keyName(this.prefix, kv.key);
    if (name === undefined) return;
    let change: WatchChange<T>;
    if (type === 'delete') {
      change = { type, name, revision: kv.modRevision };
    } else {
      const d = this.decode(name, kv);
      if (!d.ok) return this.reportCorrupt(new CorruptValueError(kv.key, d.reason));
      change = { type, name, value: d.value, revision: kv.modRevision };
    }
    try {
      this.handlers.onChange(change);
    } catch (err) {
      this.report(err);
    }
  }

  private async reset(): Promise<void> {
    if (this.resetting) return;
    this.resetting = true;
    let pause = RESET_RETRY_MIN_MS;
    while (!this.stopped) {
      try {
        const current = await this.driver.currentRevision();
        const listed = await this.handlers.onReset();
        if (this.stopped) break;
        this.open((typeof listed === 'number' ? listed : current) + 1);
        break;
      } catch (err) {
        this.report(err);
        await new Promise((r) => setTimeout(r, pause).unref());
        pause = Math.min(pause * 2, RESET_RETRY_MAX_MS);
      }
    }
    this.resetting = false;
  }

  private report(err: unknown): void {
    try {
      this.handlers.onError?.(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // The caller's error handler failing must not break the watch.
    }
  }
}
