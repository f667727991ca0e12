// Cron runs in etcd (model/cron.ts for the values, docs/cron.md for the rules).
//
// Every write of `<prefix>/runs/<job>` is a schedule write: it compares the
// guard key's mod revision and puts the guard key again with the value it
// had (the schedule mark names the judged git commit: a cron write must not
// change it). So a run claimed or placed invalidates any decision taken
// without it, and the other way round (invariant 1), and two agents racing
// for the same scheduled time cannot both move the job's cursor.
import type { CronState, InstanceExit, RunRecord } from '../model/cron';
import { applyExit, type Settled } from '../cron/run-state';
import type { CronPolicy } from '../model/job';
import { decodeAcceptedJob, decodeCronState, decodeRunRecord, encodeValue } from './codec';
import type { EtcdDriver, StoredKv, TxnOp } from './driver';
import { MAX_TXN_PAYLOAD_BYTES, MAX_WRITES_PER_TXN, writeBytes, type KeyWrite } from './chunks';
import { CorruptValueError } from './errors';
import { keyName, type KeyLayout } from './keys';

export interface CronWrites {
  putRuns: readonly CronState[];
  deleteRuns: readonly string[];
  history: ReadonlyArray<{ job: string; record: RunRecord }>;
}

export type CronCommit = { ok: true; revision: number; transactions: number } | { ok: false; appliedTransactions: number };

export type ExitReport =
  | { kind: 'recorded'; settled: Settled }
  /** The run, its attempt or the instance is no longer there (replaced, lost, job deleted): nothing to record. */
  | { kind: 'stale' };

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
   * Writes a cron round guarded by `guardRevision` (the schedule key's mod
   * revision the round read), re-putting `scheduleValue` (the guard key's
   * value at that revision). A job's state and its history records go in one
   * transaction; a large round is several, each guarded by the previous one's
   * revision. Claims and placements only add load and a retirement only
   * frees it, so every revision in between stays within capacity.
   */
  async commit(guardRevision: number, scheduleValue: string, writes: CronWrites): Promise<CronCommit> {
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
    let guard = guardRevision;
    for (let i = 0; i < chunks.length; i++) {
      const ops: TxnOp[] = chunks[i]!.map((w) => (w.value === undefined ? { op: 'delete', key: w.key } : { op: 'put', key: w.key, value: w.value }));
      ops.push({ op: 'put', key: k.schedule, value: scheduleValue });
      const res = await this.driver.txn([{ key: k.schedule, target: 'mod', equals: guard }], ops);
      if (!res.succeeded) return { ok: false, appliedTransactions: i };
      guard = res.revision;
    }
    // A job that is no longer a cron job takes its records with it.
    for (const job of writes.deleteRuns) await this.driver.delete(k.historyPrefix(job), { prefix: true });
    return { ok: true, revision: guard, transactions: chunks.length };
  }

  /**
   * A node records that instance `ordinal` of `run` exited. Read, apply
   * (cron/run-state.ts), compare-and-put; a finished run's record goes in the
   * same transaction. Retries on a lost race; 'stale' when there is nothing
   * to record any more.
   */
  async reportExit(job: string, run: string, ordinal: number, attempt: number, node: string, exit: InstanceExit, now: () => Date): Promise<ExitReport> {
    const k = this.keys;
    for (let tries = 0; tries < 50; tries++) {
      const read = await this.driver.txn(
        [],
        [
          { op: 'range', key: k.runs(job) },
          { op: 'range', key: k.schedule },
          { op: 'range', key: k.job(job) },
        ],
      );
      const [[stateKv] = [], [scheduleKv] = [], [jobKv] = []] = read.results;
      if (!stateKv || !scheduleKv || !jobKv) return { kind: 'stale' };
      const state = this.decode(stateKv, (kv) => decodeCronState(kv.value, job));
      const accepted = this.decode(jobKv, (kv) => decodeAcceptedJob(kv.value, job));
      const policy = accepted?.spec.type === 'cron' ? accepted.spec.cron : undefined;
      if (!state || !policy) return { kind: 'stale' };
      const applied = applyExit(state, run, ordinal, attempt, node, exit, policy, now().toISOString());
      if (applied.kind === 'stale') return applied;
      const ops: TxnOp[] = [
        { op: 'put', key: k.runs(job), value: encodeValue(applied.state) },
        { op: 'put', key: k.schedule, value: scheduleKv.value.toString() },
      ];
      if (applied.settled.kind === 'done') ops.push({ op: 'put', key: k.history(job, run), value: encodeValue(applied.settled.record) });
      const res = await this.driver.txn(
        [
          { key: k.runs(job), target: 'mod', equals: stateKv.modRevision },
          { key: k.schedule, target: 'mod', equals: scheduleKv.modRevision },
        ],
        ops,
      );
      if (res.succeeded) {
        if (applied.settled.kind === 'done') await this.trimHistory(job, policy.history);
        return { kind: 'recorded', settled: applied.settled };
      }
    }
    throw new Error(`could not record the exit of ${run}: the schedule kept changing`);
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

/** Whole groups into transactions of at most MAX_WRITES_PER_TXN writes and MAX_TXN_PAYLOAD_BYTES; never an empty list. */
function packGroups(groups: readonly KeyWrite[][]): KeyWrite[][] {
  const chunks: KeyWrite[][] = [];
  let cur: KeyWrite[] = [];
  let bytes = 0;
  for (const g of groups) {
    const size = g.reduce((n, w) => n + writeBytes(w), 0);
    if (cur.length > 0 && (cur.length + g.length > MAX_WRITES_PER_TXN || bytes + size > MAX_TXN_PAYLOAD_BYTES)) {
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
