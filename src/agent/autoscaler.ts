// The poller's autoscaler (docs/autoscaling.md). While this agent holds the
// poll claim it reads every node's CPU record (`<prefix>/cpu/<node>`, a
// watch-fed mirror) and, every `evalMs`, turns each autoscaled job's
// instances into a recommendation (autoscale/recommend.ts) and that into a
// count through the job's scale-down window (autoscale/window.ts). Counts
// that differ from the accepted ones are handed to the brain, whose next
// round commits them like any scale change: the same guarded transaction,
// new instances bin-packed, the highest ordinals removed. Nothing here
// writes to etcd, so two agents that both believe they poll are as safe as
// two brains (invariant 3); a new poller starts its windows afresh, which
// only delays a scale-down. So does a change of the job's policy in git: the
// recommendations in the window were clamped to the old min and max. And a
// wish made under another policy than the accepted one is not handed out: a
// fulfilled wish of 1, still held when git raised min to 3 and then lowered
// max to 2 within one evaluation period, made the brain scale 3 → 1 at once
// (the integration test's flake) instead of re-clamping to 2.
import type { Logger } from 'pino';
import type { AcceptedJob } from '../model/cluster';
import type { AutoscalePolicy, InstanceCpu, NodeCpu } from '../model/autoscale';
import { recommend, type Recommendation } from '../autoscale/recommend';
import { ScaleDownWindow } from '../autoscale/window';

/** The CPU records of every node, as last seen (store: openCpuMirror). */
export interface CpuRecords {
  records(): ReadonlyMap<string, NodeCpu>;
  close(): Promise<void>;
}

export interface AutoscalerOptions {
  log: Logger;
  /** Opens the watch-fed view of `<prefix>/cpu/` (called when this agent starts polling). */
  openCpu(onChange: () => void): Promise<CpuRecords>;
  /** The accepted jobs (the poller's watch-fed schedule). */
  jobs(): Iterable<AcceptedJob>;
  /** The brain should decide again: the wanted counts changed. */
  onWanted(): void;
  /** How often counts are recomputed. Default 1000 ms. */
  evalMs?: number;
  /** A higher count must be asked for this long (the lowest ask over it is taken). Default SCALE_UP_WINDOW_MS. */
  scaleUpWindowMs?: number;
  /** Monotonic ms. */
  monotonic?: () => number;
}

/** What the brain reads each round: wanted counts and a revision that moves when they change. */
export interface WantedCounts {
  counts: ReadonlyMap<string, number>;
  revision: number;
}

/** Two CPU samples at the nodes' default 2 s period: one high sample does not start an instance. */
export const SCALE_UP_WINDOW_MS = 3000;

/** A node's record counts while it is younger than this many of its sample periods (by our clock). */
const STALE_PERIODS = 3;

export class Autoscaler {
  private cpu: CpuRecords | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Per job: its window, and the policy its recommendations were made under. */
  private readonly windows = new Map<string, { window: ScaleDownWindow; policy: string }>();
  /** When each node's record last changed, by our clock (no other agent's clock is compared). */
  private readonly seen = new Map<string, { record: NodeCpu; at: number }>();
  private wantedNow: WantedCounts = { counts: new Map(), revision: 0 };
  /** The policy (policyKey) each wish in wantedNow was made under. */
  private wishPolicies = new Map<string, string>();
  private readonly monotonic: () => number;
  private attached = false;
  /** The last evaluation's figures, by job (the agent's metrics read them). */
  private lastRecommendations: ReadonlyMap<string, Recommendation> = new Map();

  constructor(private readonly opts: AutoscalerOptions) {
    this.monotonic = opts.monotonic ?? (() => performance.now());
  }

  /** The wishes of the last evaluation, less those made under a policy the accepted job no longer has. */
  wanted(): WantedCounts {
    const { counts } = this.wantedNow;
    if (counts.size === 0) return this.wantedNow;
    let kept: Map<string, number> | undefined;
    for (const job of this.opts.jobs()) {
      const name = job.spec.name;
      const made = this.wishPolicies.get(name);
      if (made === undefined || !counts.has(name)) continue;
      if (job.spec.autoscale && policyKey(job.spec.autoscale) === made) continue;
      kept ??= new Map(counts);
      kept.delete(name);
    }
    if (kept) this.wantedNow = { counts: kept, revision: this.wantedNow.revision + 1 };
    return this.wantedNow;
  }

  /** The last evaluation: each autoscaled job's count, measured CPU and wish (empty unless polling). */
  recommendations(): ReadonlyMap<string, Recommendation> {
    return this.attached ? this.lastRecommendations : new Map();
  }

  /** This agent became the poller. Never throws: an etcd that cannot list the records now is tried again. */
  async attach(): Promise<void> {
    if (this.attached) return;
    this.attached = true;
    const every = this.opts.evalMs ?? 1000;
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
    await this.tick();
  }

  private opening = false;

  private async tick(): Promise<void> {
    if (this.cpu) {
      this.evaluate();
      return;
    }
    if (this.opening || !this.attached) return;
    this.opening = true;
    try {
      const cpu = await this.opts.openCpu(() => undefined);
      if (this.attached && !this.cpu) this.cpu = cpu;
      else await cpu.close();
    } catch (err) {
      this.opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot read the CPU records yet; retrying');
    } finally {
      this.opening = false;
    }
  }

  /** No longer the poller: windows start afresh next time (what was wanted meanwhile is unknown). */
  async detach(): Promise<void> {
    this.attached = false;
    clearInterval(this.timer);
    this.timer = undefined;
    const cpu = this.cpu;
    this.cpu = undefined;
    this.windows.clear();
    this.seen.clear();
    if (this.wantedNow.counts.size > 0) this.wantedNow = { counts: new Map(), revision: this.wantedNow.revision + 1 };
    await cpu?.close();
  }

  /** One look at every autoscaled job; exposed for tests. */
  evaluate(): Map<string, Recommendation> {
    const out = new Map<string, Recommendation>();
    if (!this.cpu) return out;
    const now = this.monotonic();
    const measured = this.freshMeasurements(now);
    const counts = new Map<string, number>();
    const policies = new Map<string, string>();
    const names = new Set<string>();
    for (const job of this.opts.jobs()) {
      const policy = job.spec.autoscale;
      if (!policy || job.spec.type !== undefined) continue;
      const name = job.spec.name;
      names.add(name);
      const rec = recommend(job, policy, (instance, node) => {
        const m = measured.get(instance);
        return m && m.node === node ? m.cpu : undefined;
      });
      out.set(name, rec);
      const key = policyKey(policy);
      let held = this.windows.get(name);
      if (held?.policy !== key) this.windows.set(name, (held = { window: new ScaleDownWindow(now), policy: key }));
      const target = held.window.next(rec.count, rec.wanted, now, policy.scaleDownAfterMs, this.opts.scaleUpWindowMs ?? SCALE_UP_WINDOW_MS);
      if (target !== rec.count) {
        counts.set(name, target);
        policies.set(name, key);
      }
    }
    for (const name of this.windows.keys()) if (!names.has(name)) this.windows.delete(name);
    this.setWanted(counts, out);
    this.wishPolicies = policies;
    this.lastRecommendations = out;
    return out;
  }

  /** Instance → its latest figure and the node that measured it, from records not older than STALE_PERIODS periods. */
  private freshMeasurements(now: number): Map<string, { node: string; cpu: InstanceCpu }> {
    const records = this.cpu!.records();
    const out = new Map<string, { node: string; cpu: InstanceCpu }>();
    for (const node of this.seen.keys()) if (!records.has(node)) this.seen.delete(node);
    for (const [node, record] of records) {
      let s = this.seen.get(node);
      if (!s || s.record !== record) this.seen.set(node, (s = { record, at: now }));
      if (now - s.at > STALE_PERIODS * record.sampleMs) continue;
      for (const [instance, cpu] of Object.entries(record.instances)) out.set(instance, { node, cpu });
    }
    return out;
  }

  /** A new or changed wish kicks the brain; a wish withdrawn does not (the accepted count already is what is wanted). */
  private setWanted(counts: Map<string, number>, recs: ReadonlyMap<string, Recommendation>): void {
    const before = this.wantedNow.counts;
    let news = false;
    for (const [name, n] of counts) {
      if (before.get(name) === n) continue;
      news = true;
      const rec = recs.get(name)!;
      this.opts.log.info({ job: name, from: rec.count, to: n, averagePercent: round1(rec.averagePercent), counted: rec.counted }, n > rec.count ? 'autoscale: scaling up' : 'autoscale: scaling down');
    }
    this.wantedNow = { counts, revision: this.wantedNow.revision + (news ? 1 : 0) };
    if (news) this.opts.onWanted();
  }
}

/** What a recommendation depends on besides the CPU figures. */
function policyKey(p: AutoscalePolicy): string {
  return `${p.min}/${p.max}/${p.cpuPercent}/${p.scaleDownAfterMs}`;
}

function round1(x: number | undefined): number | undefined {
  return x === undefined ? undefined : Math.round(x * 10) / 10;
}
