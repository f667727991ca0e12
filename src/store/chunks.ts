// Splitting a scheduling round into etcd transactions (pure).
//
// etcd refuses a txn with more than 128 operations, the same key twice, or
// a request over 1.5 MiB. A round is therefore cut into chunks of at most
// MAX_WRITES_PER_TXN writes (plus the /schedule bump) and at most
// MAX_TXN_PAYLOAD_BYTES of keys and values; each chunk is guarded by the
// revision the previous one produced (see ClusterStore.commitSchedule).
import { InvalidStoreArgumentError, ValueTooLargeError } from './errors';

/** At most this many writes per transaction (etcd allows 128 ops; the guard bump is one more). */
export const MAX_WRITES_PER_TXN = 64;
/** etcd's default --max-request-bytes. */
export const ETCD_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
/** Keys + values of one transaction; the rest of the 1.5 MiB is headroom for framing and the guard. */
export const MAX_TXN_PAYLOAD_BYTES = ETCD_MAX_REQUEST_BYTES - 64 * 1024;
/** Framing bytes counted per operation (protobuf tags, lengths, op wrapper). */
const PER_OP_OVERHEAD = 16;

/** A put (value set) or a delete (value undefined) of one key. */
export interface KeyWrite {
  key: string;
  value?: string;
}

export interface ChunkLimits {
  maxWrites: number;
  maxBytes: number;
}

export function writeBytes(w: KeyWrite): number {
  return Buffer.byteLength(w.key) + (w.value === undefined ? 0 : Buffer.byteLength(w.value)) + PER_OP_OVERHEAD;
}

/** Throws when a key appears twice: a round's own writes must name each key once (the intent would be ambiguous). */
export function assertDistinctKeys(writes: readonly KeyWrite[]): void {
  const seen = new Set<string>();
  for (const w of writes) {
    if (seen.has(w.key)) throw new InvalidStoreArgumentError(`key ${w.key} is written twice in one schedule commit`);
    seen.add(w.key);
  }
}

/**
 * Cuts `writes` into chunks, keeping their order. A key written again (a
 * job's "leave" write, then its final one: see plan/safe-order.ts) starts a
 * new chunk, since etcd refuses a key twice in one transaction. Throws when
 * one write alone exceeds the byte budget.
 */
export function chunkWrites(
  writes: readonly KeyWrite[],
  limits: ChunkLimits = { maxWrites: MAX_WRITES_PER_TXN, maxBytes: MAX_TXN_PAYLOAD_BYTES },
): KeyWrite[][] {
  if (limits.maxWrites < 1) throw new InvalidStoreArgumentError('maxWrites must be at least 1');
  const chunks: KeyWrite[][] = [];
  let current: KeyWrite[] = [];
  let keys = new Set<string>();
  let bytes = 0;
  for (const w of writes) {
    const size = writeBytes(w);
    if (size > limits.maxBytes) throw new ValueTooLargeError(w.key, size, limits.maxBytes);
    if (current.length > 0 && (current.length >= limits.maxWrites || bytes + size > limits.maxBytes || keys.has(w.key))) {
      chunks.push(current);
      current = [];
      keys = new Set();
      bytes = 0;
    }
    current.push(w);
    keys.add(w.key);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
