// Every write etcd accepted during a scenario, in revision order, with the
// lease each put was attached to: how the suite proves that a fenced agent's
// writes were refused ("no stale write accepted") and times when DNS records
// vanished and reappeared. One watch on the whole key space, through the
// store's own driver (the only etcd3 user).
import type { EtcdDriver, WatchHandle } from '../../src/store/driver';
import { createEtcdDriver } from '../../src/store/etcd-driver';

export interface HistoryEvent {
  /** Epoch ms when the event reached the recorder. */
  at: number;
  type: 'put' | 'delete';
  key: string;
  revision: number;
  /** Decimal lease id of a put ('0': none). */
  lease: string;
  value: string;
}

export class EtcdHistory {
  readonly events: HistoryEvent[] = [];
  private handle?: WatchHandle;

  private constructor(private readonly driver: EtcdDriver) {}

  /** Records every change from the current revision on. */
  static async start(endpoints: string[]): Promise<EtcdHistory> {
    const h = new EtcdHistory(createEtcdDriver({ endpoints, requestTimeoutMs: 5_000 }));
    const from = (await h.driver.currentRevision()) + 1;
    await new Promise<void>((resolve, reject) => {
      let connected = false;
      h.handle = h.driver.watch('/', { prefix: true, fromRevision: from }, {
        onConnected: () => {
          if (!connected) resolve();
          connected = true;
        },
        onEvents: (events) => {
          const at = Date.now();
          for (const ev of events) {
            h.events.push({ at, type: ev.type, key: ev.kv.key, revision: ev.kv.modRevision, lease: ev.kv.lease, value: ev.kv.value.toString() });
          }
        },
        onCanceled: (reason) => {
          if (!connected) reject(new Error(`history watch cancelled: ${reason}`));
        },
        // The driver resumes after the last revision seen: nothing is lost.
        onDisconnected: () => undefined,
      });
    });
    return h;
  }

  /** Waits until the recorder has seen `revision` (so a check covers everything up to it). */
  async caughtUp(revision: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.events[this.events.length - 1]?.revision ?? 0) < revision) {
      if (Date.now() > deadline) throw new Error(`history did not reach revision ${revision}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  after(revision: number, filter: (e: HistoryEvent) => boolean = () => true): HistoryEvent[] {
    return this.events.filter((e) => e.revision > revision && filter(e));
  }

  async stop(): Promise<void> {
    await this.handle?.cancel().catch(() => undefined);
    this.driver.close();
  }
}
