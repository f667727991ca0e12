// The cluster brain: one round of "what does git want, what does etcd have,
// commit the difference". Any number of agents run it; there is no leader.
// A round is:
//   1. fetch the tracked branch (a git outage keeps the last judged state);
//      a round kicked by a cluster change between polls skips the fetch
//   2. render and validate what changed since the last judged commit
//   3. snapshot (the agent's is watch-fed: no etcd read); nothing changed
//      since the last round → done; another agent judged a newer commit →
//      stand down
//   4. decide (pure): placements, rejections, deletions
//   5. commit, guarded by the revision the decision read; on a lost race re-read
//   6. the winner pushes the rejection reports into the repository
// No decision compares our clock with another agent's: "how long has this
// schedule mark been there" is measured on our monotonic clock from when
// we first saw it.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { AcceptedJob, Rejection } from '../model/cluster';
import type { InstanceHealth } from '../plan/rollout';
import { rolling } from './rollout-observer';
import type { Decision } from '../plan';
import { decide } from '../plan';
import type { Chart } from '../render/template';
import type { RenderResult } from '../render';
import { IncrementalRender, isRelevantPath, RenderCache, renderRepo } from '../render';
import type { GitPort, Snapshot, SourceFile, StorePort } from './ports';
import type { WantedCounts } from './autoscaler';
import { SecretsGate } from './secrets-gate';
import type { SecretIdentity } from '../secrets/age';
import { isSecretPath } from '../secrets/paths';

export interface BrainOptions {
  node: string;
  reportBranch: string;
  reportsDir: string;
  /** A judged commit older than this that git no longer has was force-pushed away. */
  staleCommitMs: number;
  builtinCharts?: Map<string, Chart>;
  log: Logger;
  /** Wall clock, only for the timestamps written into placements and reports. */
  now?: () => Date;
  /** Monotonic milliseconds for every "how long" this agent decides on. Default performance.now. */
  monotonic?: () => number;
  maxAttempts?: number;
  /** What the instances in rolling updates' batches look like (agent/rollout-observer.ts); without it no batch advances. */
  observeRollouts?(jobs: Iterable<AcceptedJob>): Promise<ReadonlyMap<string, InstanceHealth>>;
  /** Decrypts the repository's secrets (`--secrets-identity`); without it jobs with secrets are refused (secret-unavailable). */
  secretsIdentity?: SecretIdentity;
  /** The autoscaler's wanted counts (agent/autoscaler.ts); a new revision is news even when git and etcd are quiet. */
  autoscale?(): WantedCounts;
}

export type RoundResult =
  | { kind: 'no-source'; gitError?: string }
  | { kind: 'behind'; head: string; judged: string }
  /** Neither the judged commit nor the cluster changed since the last round: nothing was decided. */
  | { kind: 'idle'; head: string }
  | { kind: 'unchanged'; head: string; decision: Decision }
  | { kind: 'committed'; head: string; decision: Decision; attempts: number; reportCommit: string | null }
  | { kind: 'contended'; head: string; attempts: number };

interface Judged {
  head: string;
  files: SourceFile[];
  render: RenderResult;
  /**
   * Commits known to be in head's history without a walk: its parents (as
   * read with its files) and, when one of them is the head judged before,
   * what was known of that one's (at most ANCESTRY_MEMORY).
   */
  ancestors: ReadonlySet<string>;
}

/** Known ancestors a judged head keeps: a few polls' worth of commits. */
const ANCESTRY_MEMORY = 64;

/** Job files rendered per slice of a cold render (about 50 ms of work each). */
const RENDER_SLICE = 250;

export class Brain {
  private judged?: Judged;
  private gitErrorText?: string;
  private readonly now: () => Date;
  private readonly monotonic: () => number;
  /**
   * The head and cluster revision the last decision was taken on (an idle
   * round repeats neither), and the revision of the view it read: after a
   * commit `revision` is the commit's, which is newer than what was read.
   */
  private lastDecided?: { head: string; revision: number; read: number; wanted: number };
  /** The reports this process last made the repository hold, and the reports mark it wrote then. */
  private lastReports?: { digest: string; markedRevision: number };
  /** The schedule mark's revision as first seen, on our monotonic clock. */
  private markSeen = { revision: -1, at: 0 };
  /** The last snapshot had a rolling update under way: the driver must come back soon, even when nothing else changes. */
  private rollingNow = false;
  /** Verdicts of unchanged job files are replayed, not recomputed, on each new commit. */
  private readonly renderCache = new RenderCache();
  /** A commit that changes a few job files re-renders only those (render/incremental-render.ts). */
  private readonly renderer = new IncrementalRender(this.renderCache);
  private readonly secrets: SecretsGate;

  constructor(
    private readonly git: GitPort,
    private readonly store: StorePort,
    private readonly opts: BrainOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
    this.monotonic = opts.monotonic ?? (() => performance.now());
    this.secrets = new SecretsGate(opts.secretsIdentity);
  }

  /** The last git error, cleared by the next successful fetch (shown by `ozy status`). */
  get gitError(): string | undefined {
    return this.gitErrorText;
  }

  get head(): string | undefined {
    return this.judged?.head;
  }

  /** A rolling update was under way at the last round: its batches advance on health, not on git or etcd changes. */
  get rollouts(): boolean {
    return this.rollingNow;
  }

  /** `fetch: false`: a round kicked by a cluster change between polls decides on the last fetched head. */
  async tick(opts: { fetch?: boolean } = {}): Promise<RoundResult> {
    const { log } = this.opts;
    // 1. Fetch. Losing git never changes the schedule by itself (invariant 5).
    let head = this.judged?.head;
    if (opts.fetch !== false || !head) {
      try {
        head = (await this.git.sync()).head;
        this.gitErrorText = undefined;
      } catch (err) {
        this.gitErrorText = err instanceof Error ? err.message : String(err);
        log.warn({ err: this.gitErrorText }, 'git fetch failed; keeping the last judged commit');
      }
    }
    if (!head) return { kind: 'no-source', ...(this.gitErrorText ? { gitError: this.gitErrorText } : {}) };

    // 2. Render only when a relevant file changed (our own report commits don't count).
    if (head !== this.judged?.head) await this.judge(head);
    const judged = this.judged!;

    // 3–5. Decide against a fresh snapshot and commit; the first agent to commit wins.
    const maxAttempts = this.opts.maxAttempts ?? 8;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const wanted = this.opts.autoscale?.();
      const wantedRev = wanted?.revision ?? 0;
      const snap = await this.store.snapshot();
      this.noteScheduleMark(snap);
      // A live node's zone its agent failed to remember: the poller does, so the zone keeps its place once its nodes are gone.
      for (const zone of unrememberedZones(snap)) await this.store.rememberZone?.(zone);
      // Runs ending free room: that is news only to instances and jobs waiting for it.
      const runsNews = snap.runsRevision !== undefined && waitingForRoom(snap) ? snap.runsRevision : 0;
      const inputs = Math.max(snap.inputsRevision ?? snap.revision, runsNews);
      this.rollingNow = anyRolling(snap.jobs.values());
      // The guard only refuses a commit when the schedule key moved; a node that
      // died (or joined), or a cron run that ended, between the view this
      // decision read and its commit lands below the commit's revision
      // unjudged. Such a change is news although `inputs` is not newer.
      const unguarded = Math.max(snap.nodesRevision ?? snap.revision, runsNews);
      if (
        attempt === 1 &&
        !this.rollingNow &&
        this.lastDecided?.head === judged.head &&
        this.lastDecided.revision >= inputs &&
        this.lastDecided.read >= unguarded &&
        this.lastDecided.wanted === wantedRev
      ) {
        await this.finishStaleReports(snap);
        return { kind: 'idle', head: judged.head };
      }
      if (await this.isBehind(snap, judged)) {
        return { kind: 'behind', head: judged.head, judged: snap.schedule!.commit };
      }
      const health = this.rollingNow && this.opts.observeRollouts ? await this.opts.observeRollouts(snap.jobs.values()) : undefined;
      const decision = decide({
        desired: judged.render.jobs,
        invalid: judged.render.problems,
        cluster: { nodes: snap.nodes, jobs: snap.jobs, rejections: snap.rejections, runs: snap.runs, ...(snap.zones ? { zones: snap.zones } : {}) },
        commit: judged.head,
        now: this.now(),
        deletionGuard: judged.render.settings.deletionGuard,
        rebalance: judged.render.settings.rebalance,
        ...(health ? { health } : {}),
        ...(wanted && wanted.counts.size > 0 ? { autoscale: wanted.counts } : {}),
      });
      if (isEmptyDecision(decision)) {
        this.lastDecided = { head: judged.head, revision: inputs, read: snap.revision, wanted: wantedRev };
        await this.finishStaleReports(snap);
        return { kind: 'unchanged', head: judged.head, decision };
      }

      const res = await this.store.commitSchedule(snap.scheduleRevision, { ...decision, readJobs: snap.jobs }, { commit: judged.head, by: this.opts.node });
      if (res.ok) {
        // Rebalancing moves what this very round placed (creates land first): decide once more on it.
        if (!judged.render.settings.rebalance) this.lastDecided = { head: judged.head, revision: res.revision, read: snap.revision, wanted: wantedRev };
        log.info({ commit: judged.head, counts: decision.counts, attempt }, 'schedule committed');
        // 6. The winner writes the reports: exactly one report commit per judged change.
        const reportCommit = await this.pushReports(applyRejections(snap.rejections, decision), judged.head, res.revision, snap.reportsRevision);
        return { kind: 'committed', head: judged.head, decision, attempts: attempt, reportCommit };
      }
      log.debug({ attempt }, 'another agent committed first; re-reading');
    }
    return { kind: 'contended', head: judged.head, attempts: maxAttempts };
  }

  private async judge(head: string): Promise<void> {
    const prev = this.judged;
    const { files, changed, parents } = await this.git.readFiles(
      head,
      isJudgedPath,
      prev ? { commit: prev.head, files: prev.files } : undefined,
    );
    const ancestors = ancestorsOf(parents, prev);
    if (prev && changed.length === 0) {
      // e.g. a report commit: same job files, nothing to re-render.
      this.judged = { ...prev, head, files, ancestors };
      return;
    }
    // A cold render (a new poller, a large merge) fills the cache in slices first,
    // yielding in between: one multi-second synchronous render would starve the
    // event loop, and with it the poll claim's keepalive.
    if (changed.length > RENDER_SLICE) await this.warmRenderCache(files, changed, head);
    const rendered = this.renderer.render(files, {
      commit: head,
      ...(this.opts.builtinCharts ? { builtinCharts: this.opts.builtinCharts } : {}),
    });
    // Secret references get their files' hashes and bytes (or a secret-unavailable problem).
    const render = await this.secrets.bind(rendered, files, head);
    this.opts.log.info({ commit: head, jobs: render.jobs.length, problems: render.problems.length, changed: changed.length }, 'rendered');
    this.judged = { head, files, render, ancestors };
  }

  private async warmRenderCache(files: SourceFile[], changed: string[], head: string): Promise<void> {
    const wanted = new Set(changed);
    const slice: SourceFile[] = [];
    const flush = async (): Promise<void> => {
      renderRepo(slice, {
        commit: head,
        cache: this.renderCache,
        partial: true,
        ...(this.opts.builtinCharts ? { builtinCharts: this.opts.builtinCharts } : {}),
      });
      slice.length = 0;
      await new Promise((r) => setImmediate(r));
    };
    for (const f of files) {
      if (!wanted.has(f.path)) continue;
      slice.push(f);
      if (slice.length >= RENDER_SLICE) await flush();
    }
    if (slice.length > 0) await flush();
  }

  /**
   * True when another agent already judged a commit we have not fetched yet:
   * committing our older view would undo theirs. A judged commit that our
   * fresh fetch does not contain and that is old was force-pushed away.
   * One known to be in our head's history (usually the head this agent
   * judged and committed last: the new head's parent) needs no git walk.
   */
  private async isBehind(snap: Snapshot, ours: Judged): Promise<boolean> {
    const { head } = ours;
    const judged = snap.schedule?.commit;
    if (!judged || judged === head) return false;
    if (ours.ancestors.has(judged)) return false;
    if (await this.git.isAncestor(judged, head).catch(() => false)) return false;
    return !(this.gitErrorText === undefined && this.markAgeMs() > this.opts.staleCommitMs);
  }

  /** Starts our own stopwatch when the schedule mark changes (never another agent's timestamp). */
  private noteScheduleMark(snap: Snapshot): void {
    if (snap.scheduleRevision !== this.markSeen.revision) this.markSeen = { revision: snap.scheduleRevision, at: this.monotonic() };
  }

  /** How long, by our clock, the schedule mark has stayed as it is. */
  private markAgeMs(): number {
    return this.monotonic() - this.markSeen.at;
  }

  /**
   * The agent that won a round may die before pushing its reports. Once the
   * schedule has been quiet for a while and the reports mark is behind it,
   * any agent pushes them (idempotent: no commit when the repo already agrees).
   */
  private async finishStaleReports(snap: Snapshot): Promise<void> {
    if (!snap.schedule || snap.reportsRevision >= snap.scheduleRevision) return;
    if (this.markAgeMs() < this.opts.staleCommitMs) return;
    this.opts.log.info({ scheduleRevision: snap.scheduleRevision, reportsRevision: snap.reportsRevision }, 'finishing a report push the winner did not make');
    await this.pushReports(snap.rejections, snap.schedule.commit, snap.scheduleRevision);
  }

  /**
   * Make the reports directory mirror the rejections in etcd, then record it.
   * When the reports are the ones this process last pushed and nobody has
   * pushed since (the mark in etcd, `currentMark`, is still ours), the
   * repository already holds them: only the mark moves (no git round trip).
   */
  async pushReports(rejections: Map<string, Rejection>, head: string, scheduleRevision: number, currentMark?: number): Promise<string | null> {
    const desired = new Map<string, string | null>();
    for (const [key, r] of rejections) desired.set(reportFileName(key), `${JSON.stringify(r.problem, null, 2)}\n`);
    const digest = reportsDigest(desired);
    try {
      if (this.lastReports?.digest === digest && currentMark !== undefined && currentMark === this.lastReports.markedRevision) {
        await this.store.markReportsPushed(scheduleRevision);
        this.lastReports = { digest, markedRevision: scheduleRevision };
        return null;
      }
      const commit = await this.git.syncReports(
        this.opts.reportBranch,
        this.opts.reportsDir,
        desired,
        `ozy: rejection reports for ${head.slice(0, 12)}`,
        { prune: true },
      );
      if (commit) this.opts.log.info({ commit, reports: desired.size }, 'reports pushed');
      await this.store.markReportsPushed(scheduleRevision);
      this.lastReports = { digest, markedRevision: scheduleRevision };
      return commit;
    } catch (err) {
      this.opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'pushing reports failed');
      return null;
    }
  }
}

/**
 * What is known of a new head's history: its parents, and when one of them
 * is the head judged before, that one's known ancestors too (ancestry is
 * transitive, and a commit's history never changes). Nothing without the
 * parents (a GitPort that does not say them): isBehind then asks git.
 */
function ancestorsOf(parents: readonly string[] | undefined, prev: Judged | undefined): Set<string> {
  const out = new Set(parents ?? []);
  if (prev && out.has(prev.head)) {
    for (const c of prev.ancestors) {
      if (out.size >= ANCESTRY_MEMORY) break;
      out.add(c);
    }
  }
  return out;
}

function anyRolling(jobs: Iterable<AcceptedJob>): boolean {
  for (const j of jobs) if (rolling(j)) return true;
  return false;
}

/** Identifies a set of report files and their contents. */
function reportsDigest(desired: ReadonlyMap<string, string | null>): string {
  const h = createHash('sha256');
  for (const name of [...desired.keys()].sort()) h.update(`${name}\0${desired.get(name) ?? ''}\0`);
  return h.digest('hex');
}

/** `<job>.json`, or `<path>.json` for a file that could not be parsed. */
export function reportFileName(key: string): string {
  return `${key}.json`;
}

export function isEmptyDecision(d: Decision): boolean {
  return d.putJobs.length + d.deleteJobs.length + d.putRejections.length + d.deleteRejections.length === 0;
}

function applyRejections(current: Map<string, Rejection>, d: Decision): Map<string, Rejection> {
  const next = new Map(current);
  for (const k of d.deleteRejections) next.delete(k);
  for (const r of d.putRejections) next.set(r.key, r);
  return next;
}

/** Zones of live nodes missing from the snapshot's known zones (none when the store does not keep zones). */
function unrememberedZones(snap: Snapshot): string[] {
  if (snap.zones === undefined) return [];
  const known = new Set(snap.zones);
  return [...new Set(snap.nodes.flatMap((n) => (n.zone !== undefined && !known.has(n.zone) ? [n.zone] : [])))].sort();
}

/** Some instance is pending, or some job was turned away: room freed elsewhere may change the decision. */
function waitingForRoom(snap: Snapshot): boolean {
  if (snap.rejections.size > 0) return true;
  for (const job of snap.jobs.values()) for (const p of job.instances) if (p.node === null) return true;
  return false;
}

/** What a judged commit is read for: the files the renderer reads, and the secrets jobs refer to. */
function isJudgedPath(p: string): boolean {
  return isRelevantPath(p) || isSecretPath(p);
}
