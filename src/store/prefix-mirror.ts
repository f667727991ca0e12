// Every value below one key prefix, kept in memory from a listing and a
// watch: what `ozy ingress` and `ozy dns` serve from, so answering a request
// never waits on etcd.
//
//   1. list the prefix (one range read; its revision is the mirror's)
//   2. watch from the next revision (PrefixWatch: resumes after a broken
//      stream without losing or repeating events)
//   3. history compacted away (the watch is cancelled): list again and
//      replace everything, then watch on from that listing
//
// Readers are told once per batch of events (a transaction that writes
// fifty keys is one notification), so a consumer that rebuilds a table on
// every change rebuilds it once per etcd revision.
import type { Decoded } from './codec';
import type { EtcdDriver, StoredKv } from './driver';
import { CorruptValueError } from './errors';
import { keyName } from './keys';
import { PrefixWatch } from './watch';

export interface MirrorHandlers {
  /** The mirror moved to `revision` (a watched change or a whole re-listing). */
  onChange?(revision: number): void;
  /** Transient trouble (a broken stream, a failed re-list); the mirror carries on. */
  onError?(err: Error): void;
}

/** A read-only view of a mirrored prefix. */
export interface Mirror<T> {
  /** Values by their key below the prefix (e.g. "n1/web-0" below "/ozy/status/"). */
  readonly values: ReadonlyMap<string, T>;
  /** The etcd revision the values reflect. */
  readonly revision: number;
  close(): Promise<void>;
}

export class PrefixMirror<T> implements Mirror<T> {
  private readonly map = new Map<string, T>();
  private rev = 0;
  private watch: PrefixWatch<T> | undefined;
  private notifyQueued = false;
  private closed = false;

  constructor(
    private readonly driver: EtcdDriver,
    private readonly prefix: string,
    private readonly decode: (name: string, kv: StoredKv) => Decoded<T>,
    private readonly handlers: MirrorHandlers,
    private readonly reportCorrupt: (err: CorruptValueError) => void,
  ) {}

  get values(): ReadonlyMap<string, T> {
    return this.map;
  }

  get revision(): number {
    return this.rev;
  }

  /** Lists, then watches; resolves once the first listing is in. */
  async open(): Promise<void> {
    const listed = await this.relist();
    this.watch = new PrefixWatch<T>(
      this.driver,
      this.prefix,
      this.decode,
      {
        onChange: (c) => {
          if (c.type === 'put' && c.value !== undefined) this.map.set(c.name, c.value);
          else this.map.delete(c.name);
          this.rev = Math.max(this.rev, c.revision);
          this.queueNotify();
        },
        onReset: () => this.relist(),
        onError: (err) => this.handlers.onError?.(err),
      },
      this.reportCorrupt,
    );
    await this.watch.start(listed + 1);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.watch?.stop();
  }

  private async relist(): Promise<number> {
    const res = await this.driver.range(this.prefix, { prefix: true });
    this.map.clear();
    for (const kv of res.kvs) {
      const name = keyName(this.prefix, kv.key);
      if (name === undefined) continue;
      const d = this.decode(name, kv);
      if (d.ok) this.map.set(name, d.value);
      else this.reportCorrupt(new CorruptValueError(kv.key, d.reason));
    }
    this.rev = res.revision;
    this.queueNotify();
    return res.revision;
  }

  private queueNotify(): void {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      if (this.closed) return;
      try {
        this.handlers.onChange?.(this.rev);
      } catch (err) {
        this.handlers.onError?.(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }
}
