// Every write to etcd during a benchmark, seen through one watch on the
// whole key space and sorted by what the key is (a job, a status, a DNS
// record...). This is how writes are attributed to a job change or to an
// instance: etcd's counters only give totals.
import type { EtcdDriver, WatchHandle } from '../../src/store/driver';
import { createEtcdDriver } from '../../src/store/etcd-driver';
import { KeyLayout } from '../../src/store/keys';

export type KeyCategory = 'job' | 'schedule' | 'rejection' | 'status' | 'agent' | 'node' | 'dns' | 'other';

export interface RecordedEvent {
  /** process.hrtime.bigint() in ms when the event reached us. */
  atMs: number;
  type: 'put' | 'delete';
  key: string;
  category: KeyCategory;
  /** Key + value bytes (key only for deletes). */
  bytes: number;
}

export function categorize(keys: KeyLayout, key: string): KeyCategory {
  if (key.startsWith(keys.jobsPrefix)) return 'job';
  if (key === keys.schedule) return 'schedule';
  if (key.startsWith(keys.rejectionsPrefix)) return 'rejection';
  if (key.startsWith(keys.statusPrefix())) return 'status';
  if (key.startsWith(keys.agentsPrefix)) return 'agent';
  if (key.startsWith(keys.nodesPrefix)) return 'node';
  if (key.startsWith(keys.dnsRoot)) return 'dns';
  return 'other';
}

export type CategoryTotals = Record<KeyCategory, { puts: number; deletes: number; bytes: number }>;

export function totalsOf(events: readonly RecordedEvent[]): CategoryTotals {
  const cats: KeyCategory[] = ['job', 'schedule', 'rejection', 'status', 'agent', 'node', 'dns', 'other'];
  const out = Object.fromEntries(cats.map((c) => [c, { puts: 0, deletes: 0, bytes: 0 }])) as CategoryTotals;
  for (const e of events) {
    const t = out[e.category];
    if (e.type === 'put') t.puts++;
    else t.deletes++;
    t.bytes += e.bytes;
  }
  return out;
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export class EventRecorder {
  readonly events: RecordedEvent[] = [];
  private handle?: WatchHandle;
  private readonly keys: KeyLayout;

  private constructor(
    private readonly driver: EtcdDriver,
    prefix?: string,
  ) {
    this.keys = new KeyLayout(prefix);
  }

  /** Starts watching every key from the current revision on. */
  static async start(endpoint: string, prefix?: string): Promise<EventRecorder> {
    const r = new EventRecorder(createEtcdDriver({ endpoints: [endpoint], requestTimeoutMs: 10_000 }), prefix);
    const from = (await r.driver.currentRevision()) + 1;
    await new Promise<void>((resolve, reject) => {
      let connected = false;
      r.handle = r.driver.watch('/', { prefix: true, fromRevision: from }, {
        onConnected: () => {
          if (!connected) resolve();
          connected = true;
        },
        onEvents: (events) => {
          const at = nowMs();
          for (const ev of events) {
            r.events.push({
              atMs: at,
              type: ev.type,
              key: ev.kv.key,
              category: categorize(r.keys, ev.kv.key),
              bytes: Buffer.byteLength(ev.kv.key) + (ev.type === 'put' ? ev.kv.value.length : 0),
            });
          }
        },
        onCanceled: (reason) => {
          if (!connected) reject(new Error(`watch cancelled: ${reason}`));
        },
        onDisconnected: () => undefined,
      });
    });
    return r;
  }

  /** Events that arrived in [fromMs, toMs] (hrtime ms). */
  between(fromMs: number, toMs: number): RecordedEvent[] {
    return this.events.filter((e) => e.atMs >= fromMs && e.atMs <= toMs);
  }

  async stop(): Promise<void> {
    await this.handle?.cancel().catch(() => undefined);
    this.driver.close();
  }
}

export { nowMs };
