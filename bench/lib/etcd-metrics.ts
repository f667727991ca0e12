// etcd's own counters (GET <endpoint>/metrics, Prometheus text), diffed
// around a piece of work: the server-side truth about how many puts,
// transactions and bytes the work cost, whatever client did it.
import * as http from 'node:http';

/** The counters we diff; names as etcd 3.4 exposes them. */
export const COUNTERS = {
  puts: 'etcd_mvcc_put_total',
  deletes: 'etcd_mvcc_delete_total',
  txns: 'etcd_mvcc_txn_total',
  ranges: 'etcd_mvcc_range_total',
  putBytes: 'etcd_debugging_mvcc_total_put_size_in_bytes',
  receivedBytes: 'etcd_network_client_grpc_received_bytes_total',
  sentBytes: 'etcd_network_client_grpc_sent_bytes_total',
  proposals: 'etcd_server_proposals_committed_total',
  dbBytes: 'etcd_mvcc_db_total_size_in_bytes',
  keys: 'etcd_debugging_mvcc_keys_total',
  revision: 'etcd_debugging_mvcc_current_revision',
} as const;

export type CounterName = keyof typeof COUNTERS;
export type Counters = Record<CounterName, number>;

/** Parses unlabelled samples of the Prometheus text format (pure). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    // Labelled series of one metric are summed (e.g. per-type counters).
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + value);
  }
  return out;
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
  });
}

export async function readCounters(endpoint: string): Promise<Counters> {
  const all = parseMetrics(await get(`${endpoint}/metrics`));
  const out = {} as Counters;
  for (const [k, name] of Object.entries(COUNTERS) as Array<[CounterName, string]>) out[k] = all.get(name) ?? NaN;
  return out;
}

/** after − before, counter by counter (gauges like dbBytes become growth). */
export function diffCounters(before: Counters, after: Counters): Counters {
  const out = {} as Counters;
  for (const k of Object.keys(COUNTERS) as CounterName[]) out[k] = after[k] - before[k];
  return out;
}
