// A scheduling round → the key writes of each etcd transaction (pure).
//
// A round that fits one transaction is written as is: a transaction is
// atomic, so no order is needed and no job is stopped needlessly. A larger
// round is written in the safe order of plan/safe-order.ts, so that every
// revision in between (which watchers see, and which stays if the agent
// dies) keeps every node within capacity.
import type { AcceptedJob, Rejection } from '../model/cluster';
import { safeWriteOrder, type RoundWrite } from '../plan/safe-order';
import { assertDistinctKeys, chunkWrites, type ChunkLimits, type KeyWrite } from './chunks';
import { encodeValue } from './codec';
import { InvalidStoreArgumentError } from './errors';
import type { KeyLayout } from './keys';

export interface RoundInput {
  putJobs: readonly AcceptedJob[];
  deleteJobs: readonly string[];
  putRejections: readonly Rejection[];
  deleteRejections: readonly string[];
  /** The accepted jobs the round was decided on (etcd's at the guard revision). */
  readJobs: ReadonlyMap<string, AcceptedJob>;
}

export interface RoundTxns {
  /** One entry per transaction, in order; never empty (a round with no writes still bumps the guard). */
  chunks: KeyWrite[][];
  /** "Leave" writes the safe order needed (0 for a single transaction). */
  leaves: number;
}

/** `now` (ISO) stamps instances a leave write makes pending. Throws StoreError on a bad round. */
export function roundTransactions(keys: KeyLayout, round: RoundInput, now: string, limits?: ChunkLimits): RoundTxns {
  // Today's order (deletes, puts, reports) is fine inside one atomic transaction.
  const plain: RoundWrite[] = [
    ...round.deleteJobs.map((name) => ({ kind: 'delete-job' as const, name })),
    ...round.putJobs.map((job) => ({ kind: 'put-job' as const, job })),
    ...round.deleteRejections.map((key) => ({ kind: 'delete-rejection' as const, key })),
    ...round.putRejections.map((rejection) => ({ kind: 'put-rejection' as const, rejection })),
  ];
  // Jobs are encoded once even when both orders are built (a large round is MiBs of JSON).
  const encoded = new Map<object, string>();
  const write = (w: RoundWrite): KeyWrite => keyWrite(keys, w, encoded);
  const plainWrites = plain.map(write);
  assertDistinctKeys(plainWrites);
  const single = chunkWrites(plainWrites, limits);
  if (single.length <= 1) return { chunks: single.length === 0 ? [[]] : single, leaves: 0 };

  const ordered = safeWriteOrder(round.readJobs, round, now);
  return { chunks: chunkWrites(ordered.writes.map(write), limits), leaves: ordered.leaves };
}

function keyWrite(keys: KeyLayout, w: RoundWrite, encoded: Map<object, string>): KeyWrite {
  const encode = (value: AcceptedJob | Rejection): string => {
    let text = encoded.get(value);
    if (text === undefined) encoded.set(value, (text = encodeValue(value)));
    return text;
  };
  let out: KeyWrite;
  switch (w.kind) {
    case 'delete-job':
      out = { key: keys.job(w.name) };
      break;
    case 'put-job':
    case 'leave-job':
      out = { key: keys.job(w.job.spec.name), value: encode(w.job) };
      break;
    case 'delete-rejection':
      out = { key: keys.rejection(w.key) };
      break;
    case 'put-rejection':
      out = { key: keys.rejection(w.rejection.key), value: encode(w.rejection) };
      break;
  }
  if (out.key === keys.schedule) throw new InvalidStoreArgumentError('the /schedule key is written by commitSchedule itself');
  return out;
}
