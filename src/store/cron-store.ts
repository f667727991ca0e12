// Cron runs in etcd (model/cron.ts for the values, docs/cron.md for the rules).
//
// Two kinds of writes of `<prefix>/runs/<job>`:
//   - a cron round's (claims, placements, retirements) takes capacity, so it
//     is a schedule write: it compares the guard key's mod revision and puts
//     the guard key again with the value it had (the schedule mark names the
//     judged git commit: a cron write must not change it). A run placed
//     invalidates any decision taken without it and the other way round
//     (invariant 1). It also compares each run state it writes with the
//     revision it read, so it never overwrites an exit it did not see.
//   - a node's exit report only frees capacity: a decision that did not see
//     it is still safe, so it compares the job's key alone and leaves the
//     guard alone. A thousand runs ending in the same second then do not
//     make every decision of that second start over.
// Two agents racing for the same scheduled time compare the same guard, so
// only one can move the job's cursor.
import { randomUUID } from 'node:crypto';
import type { CronState, InstanceExit, RunRecord } from '../model/cron';
import { applyExit, type Settled } from '../cron/run-state';
import { cronPolicyOf } from '../cron/run-load';
import type { CronPolicy } from '../model/job';
import { decodeAcceptedJob, decodeCronState, decodeRunRecord, encodeValue } from './codec';
import type { Compare, EtcdDriver, StoredKv, TxnOp, TxnResult } from './driver';
import { MAX_TXN_PAYLOAD_BYTES, MAX_WRITES_PER_TXN, writeBytes, type KeyWrite } from './chunks';
import { CorruptValueError } from './errors';
import { keyName, type KeyLayout } from './keys';

export interface CronWrites {
  putRuns: readonly CronState[];
  deleteRuns: readonly string[];
  history: ReadonlyArray<{ job: string; record: RunRecord }>;
}

export type CronCommit =
  | { ok: true; revision: number; transactions: number; appliedJobs: ReadonlySet<string> }
  /** `revision`: etcd's when the guard failed: a view at least this new shows why; `appliedJobs`: whose writes did land. */
  | { ok: false; appliedTransactions: number; revision: number; appliedJobs: ReadonlySet<string> };

export type ExitReport =
  | { kind: 'recorded'; settled: Settled }
  /** The run, its attempt or the instance is no longer there (replaced, lost, job deleted): nothing to record. */
  | { kind: 'stale' };

export interface ExitInput {
  job: string;
  run: string;
  ordinal: number;
  attempt: number;
  /** The reporting node: the instance must still be placed there. */
  node: string;
  exit: InstanceExit;
}

/** Exits per batch: two reads and up to two puts (state, record) each stay under etcd's 128 operations per transaction. */
export const EXITS_PER_TXN = 40;

/** What `ozy runs` reads. */
export interface RunsView {
  state?: CronState;
  /** Newest scheduled time first. */
  history: RunRecord[];
}

export class CronStore {
  constructor(
    private readonly driver: EtcdDriver,
    private readonly keys: KeyLayout,
    private readonly onCorrupt: (err: CorruptValueError) => void,
  ) {}

  /**
   * Writes a cron round guarded by the schedule key as the round read it
   * (`guardRevision`, its mod revision). The guard key is put again with the
   * value it had (the schedule mark names the judged git commit) plus a token
   * of this commit. A job's state and its history records go in one
   * transaction; a large round is several:
   *   1. the first compares the guard's mod revision with the one read, and
   *      puts the token;
   *   2. the others, all at once, compare the guard's value with the token
   *      (and put it again, so each bumps the guard's revision).
   * Any other write of the guard key (a decision, another cron round)
   * replaces the token and stops what is not applied yet, and a decision
   * that read before any of these transactions fails its own guard. What
   * applies is a set of whole jobs: claims and placements only add load the
   * round found room for together, retirements only free it, so any subset
   * is a valid state, and the next round completes a round cut short.
   */
  async commit(guardRevision: number, scheduleValue: string, writes: CronWrites, runRevisions: ReadonlyMap<string, number>): Promise<CronCommit> {
    const k = this.keys;
    const groups = new Map<string, KeyWrite[]>();
    const group = (job: string): KeyWrite[] => {
      let g = groups.get(job);
      if (!g) groups.set(job, (g = []));
      return g;
    };
    for (const job of writes.deleteRuns) group(job).push({ key: k.runs(job) });
    for (const s of writes.putRuns) group(s.job).push({ key: k.runs(s.job), value: encodeValue(s) });
    for (const h of writes.history) group(h.job).push({ key: k.history(h.job, h.record.run), value: encodeValue(h.record) });
    const chunks = packGroups([...groups.values()]);
    const runsKeys = new Map([...groups.keys()].map((job) => [k.runs(job), job]));
    const jobsOf = (chunk: KeyWrite[]): string[] => chunk.flatMap((w) => (runsKeys.has(w.key) ? [runsKeys.get(w.key)!] : []));
    const token = withToken(scheduleValue);
    const send = (chunk: KeyWrite[], guard: Compare): Promise<TxnResult> => {
      const ops: TxnOp[] = chunk.map((w) => (w.value === undefined ? { op: 'delete', key: w.key } : { op: 'put', key: w.key, value: w.value }));
      ops.push({ op: 'put', key: k.schedule, value: token });
      const compares: Compare[] = [guard];
      // Each run state as read (0: it did not exist): an exit reported since makes this job start over.
      for (const job of jobsOf(chunk)) compares.push({ key: k.runs(job), target: 'mod', equals: runRevisions.get(job) ?? 0 });
      return this.driver.txn(compares, ops);
    };
    const first = await send(chunks[0]!, { key: k.schedule, target: 'mod', equals: guardRevision });
    if (!first.succeeded) return { ok: false, appliedTransactions: 0, revision: first.revision, appliedJobs: new Set() };
    const rest = await Promise.all(chunks.slice(1).map((chunk) => send(chunk, { key: k.schedule, target: 'value', equals: token })));
    const appliedJobs = new Set(jobsOf(chunks[0]!));
    rest.forEach((r, i) => {
      if (r.succeeded) for (const job of jobsOf(chunks[i + 1]!)) appliedJobs.add(job);
    });
    const applied = 1 + rest.filter((r) => r.succeeded).length;
    const revision = Math.max(first.revision, ...rest.map((r) => r.revision));
    if (applied < chunks.length) return { ok: false, appliedTransactions: applied, revision, appliedJobs };
    // A job that is no longer a cron job takes its records with it.
    for (const job of writes.deleteRuns) await this.driver.delete(k.historyPrefix(job), { prefix: true });
    return { ok: true, revision, transactions: chunks.length, appliedJobs };
  }

  /**
   * A node records that instances exited. Read every job's run state once,
   * apply each exit (cron/run-state.ts), compare-and-put the run states
   * alone (an exit only frees room: see the file comment) with the finished
   * runs' records, in one transaction. Retries on a lost race; an exit whose
   * run, attempt or instance is gone, or that was recorded already, is
   * 'stale'. At most EXITS_PER_TXN exits per call.
   */
  async reportExits(reports: readonly ExitInput[], now: () => Date): Promise<ExitReport[]> {
    const k = this.keys;
    if (reports.length > EXITS_PER_TXN) throw new Error(`at most ${EXITS_PER_TXN} exits per batch (got ${reports.length})`);
    const jobs = [...new Set(reports.map((r) => r.job))];
    for (let tries = 0; tries < 50; tries++) {
      const read = await this.driver.txn(
        [],
        jobs.flatMap((job) => [
          { op: 'range' as const, key: k.runs(job) },
          { op: 'range' as const, key: k.job(job) },
        ]),
      );
      const results: ExitReport[] = reports.map(() => ({ kind: 'stale' }));
      const compares: Compare[] = [];
      const ops: TxnOp[] = [];
      const done = new Map<string, CronPolicy['history']>();
      jobs.forEach((job, j) => {
        const [stateKv] = read.results[2 * j] ?? [];
        const [jobKv] = read.results[2 * j + 1] ?? [];
        if (!stateKv || !jobKv) return;
        let state = this.decode(stateKv, (kv) => decodeCronState(kv.value, job));
        const accepted = this.decode(jobKv, (kv) => decodeAcceptedJob(kv.value, job));
        const policy = cronPolicyOf(accepted);
        if (!state || !policy) return;
        const at = now().toISOString();
        let changed = false;
        reports.forEach((r, i) => {
          if (r.job !== job) return;
          const applied = applyExit(state!, r.run, r.ordinal, r.attempt, r.node, r.exit, policy, at);
          if (applied.kind === 'stale') return;
          state = applied.state;
          changed = true;
          results[i] = { kind: 'recorded', settled: applied.settled };
          if (applied.settled.kind === 'done') {
            ops.push({ op: 'put', key: k.history(job, r.run), value: encodeValue(applied.settled.record) });
            done.set(job, policy.history);
          }
        });
        if (!changed) return;
        compares.push({ key: k.runs(job), target: 'mod', equals: stateKv.modRevision });
        ops.push({ op: 'put', key: k.runs(job), value: encodeValue(state) });
      });
      if (ops.length === 0) return results;
      const res = await this.driver.txn(compares, ops);
      if (res.succeeded) {
        for (const [job, bounds] of done) await this.trimHistory(job, bounds);
        return results;
      }
    }
    throw new Error('could not record run exits: their run states kept changing');
  }

  /** Deletes the records beyond `history` (newest kept): succeeded ones, and all the others. */
  async trimHistory(job: string, bounds: CronPolicy['history']): Promise<number> {
    const records = await this.history(job);
    const drop: string[] = [];
    let succeeded = 0;
    let others = 0;
    for (const r of records) {
      const keep = r.result === 'succeeded' ? ++succeeded <= bounds.succeeded : ++others <= bounds.failed;
      if (!keep) drop.push(r.run);
    }
    if (drop.length === 0) return 0;
    for (let i = 0; i < drop.length; i += MAX_WRITES_PER_TXN) {
      await this.driver.txn(
        [],
        drop.slice(i, i + MAX_WRITES_PER_TXN).map((run) => ({ op: 'delete' as const, key: this.keys.history(job, run) })),
      );
    }
    return drop.length;
  }

  /** The job's ended runs, newest scheduled time first. */
  async history(job: string): Promise<RunRecord[]> {
    const prefix = this.keys.historyPrefix(job);
    const res = await this.driver.range(prefix, { prefix: true });
    const out: RunRecord[] = [];
    for (const kv of res.kvs) {
      if (keyName(prefix, kv.key) === undefined) continue;
      const r = this.decode(kv, (x) => decodeRunRecord(x.value));
      if (r) out.push(r);
    }
    return out.sort((a, b) => (a.scheduledAt < b.scheduledAt ? 1 : a.scheduledAt > b.scheduledAt ? -1 : a.run < b.run ? 1 : -1));
  }

  /** A job's active runs and kept records, for `ozy runs`. */
  async view(job: string): Promise<RunsView> {
    const res = await this.driver.range(this.keys.runs(job));
    const kv = res.kvs[0];
    const state = kv ? this.decode(kv, (x) => decodeCronState(x.value, job)) : undefined;
    return { ...(state ? { state } : {}), history: await this.history(job) };
  }

  private decode<T>(kv: StoredKv, fn: (kv: StoredKv) => { ok: true; value: T } | { ok: false; reason: string }): T | undefined {
    const d = fn(kv);
    if (d.ok) return d.value;
    this.onCorrupt(new CorruptValueError(kv.key, d.reason));
    return undefined;
  }
}

/**
 * Writes per cron transaction: etcd allows 128 operations (and, separately,
 * 128 compares); each write of a run state brings one compare, and the guard
 * one put and one compare. Twice the scheduling rounds' chunk: a claim burst
 * of a thousand jobs takes half the transactions, each one disk sync.
 */
const CRON_WRITES_PER_TXN = 120;

/** Whole groups into transactions of at most CRON_WRITES_PER_TXN writes and MAX_TXN_PAYLOAD_BYTES; never an empty list. */
function packGroups(groups: readonly KeyWrite[][]): KeyWrite[][] {
  const chunks: KeyWrite[][] = [];
  let cur: KeyWrite[] = [];
  let bytes = 0;
  for (const g of groups) {
    const size = g.reduce((n, w) => n + writeBytes(w), 0);
    if (cur.length > 0 && (cur.length + g.length > CRON_WRITES_PER_TXN || bytes + size > MAX_TXN_PAYLOAD_BYTES)) {
      chunks.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(...g);
    bytes += size;
  }
  if (cur.length > 0 || chunks.length === 0) chunks.push(cur);
  return chunks;
}

/** The schedule mark with a fresh token: the later transactions of one cron commit recognise it. */
function withToken(scheduleValue: string): string {
  const mark = JSON.parse(scheduleValue) as Record<string, unknown>;
  return encodeValue({ ...mark, cron: randomUUID() });
}
