// Measures, throughout a fault scenario, what the end-of-scenario checks
// cannot see: an instance running on two nodes at the same moment, and for
// how long (invariant 2, engine side), and accepted instances lost by the end.
//
// A background loop samples every ~150 ms, from before the fault until the
// scenario stops it after convergence. One sample is one engine API call
// (every container labelled with this test's nodes: listContainers) and then
// one etcd request (ClusterStore.snapshot: nodes and jobs at one revision, a
// single txn of ranges). The etcd read goes *after* the engine list, so a
// copy the engine shows running on a new home is always placed there in the
// snapshot (a copy starts only after its placement was committed): the
// snapshot never makes a legitimate new copy look stale.
//
// Duplicates: a sample in which an instance has running containers on two
// nodes or more. Some scenarios run such copies by design: the containers of
// a SIGKILLed, frozen or cut-off agent keep running (DNS fencing names only
// the new ones) until it fences or comes back. A scenario declares that
// window with allowStale(node, from); a duplicate is *expected* when it
// falls in such a window, the extra copy is on that node and the other one
// is where etcd places the instance. Every other duplicate is unexpected:
// the scenarios assert there is none.
//
// Lost instances: at each checkpoint (after convergence) and at stop, full
// reads (etcd placements and statuses, the engine) of every instance the
// scenario expects (job → instance count): one missing from the accepted
// jobs, without a placement, placed on a dead node, not healthy there or not
// running there is lost unless it gets there before a deadline (it "never
// returns healthy"). Those that were not there at the first read but
// recovered are counted apart (transient: e.g. an adopted instance reads
// `starting` until its first health check in the new process passes).
import assert from 'node:assert/strict';
import type { AcceptedJob, NodeInfo } from '../../src/model/cluster';
import { instanceName } from '../../src/model/cluster';
import { ClusterStore } from '../../src/store';
import { waitFor } from '../harness/wait';
import type { FaultCluster } from './fault-cluster';
import { figure, healthyOn, instancesOf, invariantViolations, listContainers, readView, type ClusterView } from './observe';

export const SAMPLE_INTERVAL_MS = 150;

interface Sample {
  /** Epoch ms when the engine list was sent. */
  at: number;
  /** How long the list took: it saw the engine at some moment in [at, at + listMs]. */
  listMs: number;
  /** Instance → nodes with a running container of it. */
  running: Map<string, Set<string>>;
  /** Instance → node in etcd; undefined when etcd did not answer (the engine side still counts). */
  placement?: Map<string, string | null>;
}

interface StaleWindow {
  node: string;
  from: number;
  until: number;
}

export interface DuplicateEpisode {
  instance: string;
  nodes: string[];
  /** First sample that saw it (epoch ms). */
  from: number;
  /** Upper estimate: from the first sample that saw it to the first that did not (or the last sample). */
  ms: number;
  /** From the first sample that saw it to the last that did (0 when one sample saw it). */
  minMs: number;
  /** How long the first sample's list call took. The real overlap lasted at least minMs − firstListMs. */
  firstListMs: number;
  expected: boolean;
  /** Why it is unexpected (empty when expected). */
  why: string;
}

export interface SamplerReport {
  /** Samples with the engine's view (the ones duplicates are counted on). */
  samples: number;
  /** Samples where etcd answered too. */
  etcdSamples: number;
  errors: number;
  /** Longest time between two samples: the resolution of every duration below. */
  gapMsMax: number;
  /** Duplicate episodes, for any reason: an instance seen running on two nodes at once, one count per contiguous stretch of samples. */
  duplicates: number;
  /** Distinct instances among them. */
  duplicateInstances: number;
  /** Longest episode (ms, upper estimate). */
  duplicateMsMax: number;
  /** Instances seen running on two nodes at once outside an allowed stale window. */
  unexpectedDuplicates: string[];
  episodes: DuplicateEpisode[];
  /** Instances not healthy and running where placed at a checkpoint's first read, that recovered before its deadline. */
  transient: string[];
  /** Median and longest duration of one sample's engine list call (ms): the sampler's cost. */
  listMsMedian: number;
  listMsMax: number;
  /** Median and longest duration of one sample's etcd read (ms). */
  etcdMsMedian: number;
  etcdMsMax: number;
  /** Accepted instances missing, unplaced or unhealthy at a checkpoint or at the end, and still so at its deadline. */
  lost: string[];
  /** Capacity / double placement violations seen in the sampled etcd snapshots. */
  capacityViolations: string[];
  checkpoints: number;
}

export class FaultSampler {
  private readonly samples: Sample[] = [];
  private readonly windows: StaleWindow[] = [];
  private readonly lost = new Map<string, string>();
  private readonly transient: string[] = [];
  private readonly listMs: number[] = [];
  private readonly etcdMs: number[] = [];
  private readonly capacity: string[] = [];
  private errors = 0;
  private checkpoints = 0;
  private running = true;
  private readonly loop: Promise<void>;
  /** Its own client with a short timeout: a read stuck on a dead etcd must not stall the engine samples for 5 s. */
  private readonly store: ClusterStore;

  private constructor(private readonly c: FaultCluster, intervalMs: number) {
    this.store = ClusterStore.connect({ endpoints: c.etcdEndpoints, requestTimeoutMs: 1000 });
    this.loop = (async () => {
      while (this.running) {
        await this.sampleOnce();
        // unref: a sampler a failed test never stopped must not keep the process alive.
        await new Promise((r) => setTimeout(r, intervalMs).unref());
      }
    })();
  }

  /** Starts sampling; resolves once the first sample (engine and etcd) is in, so it covers the moment before the fault. */
  static async start(c: FaultCluster, intervalMs = SAMPLE_INTERVAL_MS): Promise<FaultSampler> {
    const s = new FaultSampler(c, intervalMs);
    await waitFor('the first sample', () => s.samples.some((x) => x.placement !== undefined), { timeoutMs: 15_000 });
    return s;
  }

  private async sampleOnce(): Promise<void> {
    const at = Date.now();
    let rows;
    let listMs: number;
    try {
      rows = await listContainers(this.c.podman.socketPath, this.c.podman.prefix);
      listMs = Date.now() - at;
      this.listMs.push(listMs);
    } catch {
      // The engine may be the fault: no sample (the gap figure shows it).
      this.errors++;
      return;
    }
    const running = new Map<string, Set<string>>();
    for (const r of rows) if (r.running) running.set(r.instance, (running.get(r.instance) ?? new Set<string>()).add(r.node));
    const sample: Sample = { at, listMs, running };
    try {
      const etcdAt = Date.now();
      const snap = await this.store.snapshot();
      this.etcdMs.push(Date.now() - etcdAt);
      sample.placement = new Map(instancesOf(snap.jobs).map((i) => [i.instance, i.node]));
      for (const p of invariantViolations(partialView(snap.revision, snap.nodes, snap.jobs))) this.capacity.push(`${new Date(at).toISOString()} ${p}`);
    } catch {
      // etcd may be the fault: the engine side of the sample still counts.
      this.errors++;
    }
    this.samples.push(sample);
  }

  /**
   * From `from` (epoch ms) on, copies left running on `node` beside the new
   * home are expected (its agent is dead, frozen or cut off). Call the
   * returned function once they must be gone (e.g. the agent is running
   * again, or registered anew): samples sent after that expect none. Open
   * windows close when the sampler stops.
   */
  allowStale(node: string, from: number = Date.now()): () => void {
    const w: StaleWindow = { node, from, until: Infinity };
    this.windows.push(w);
    return () => {
      w.until = Math.min(w.until, Date.now());
    };
  }

  /**
   * Reads the whole cluster until every instance of `expect` (job → count)
   * is healthy and running where it is placed, or `timeoutMs` passed: those
   * still not are lost; those that only needed time are transient.
   */
  async checkpoint(label: string, expect: Record<string, number>, timeoutMs = 30_000): Promise<void> {
    this.checkpoints++;
    const deadline = Date.now() + timeoutMs;
    let first: Map<string, string> | undefined;
    for (;;) {
      let now: Map<string, string>;
      try {
        now = lostInstances(await readView(this.c), expect);
      } catch (err) {
        now = new Map([['(cluster)', `cannot read the cluster: ${(err as Error).message}`]]);
      }
      first ??= now;
      if (now.size === 0 || Date.now() > deadline) {
        for (const [instance, why] of now) if (!this.lost.has(instance)) this.lost.set(instance, `${label}: ${why}`);
        for (const [instance, why] of first) if (!now.has(instance)) this.transient.push(`${instance} (${label}: ${why}, then recovered)`);
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Stops sampling, takes a last checkpoint against `expect`, and analyses every sample. */
  async stop(expect: Record<string, number>): Promise<SamplerReport> {
    this.running = false;
    await this.loop;
    await this.store.close().catch(() => undefined);
    await this.checkpoint('end', expect);
    return this.report();
  }

  /**
   * Longest time (ms) any of `instances` ran on two nodes at once, summed
   * over its episodes. 'upper' (default): from the first sample that saw it
   * to the first that did not: at most the real overlap plus one gap between
   * samples and one list call. 'proven': what the samples prove it lasted at
   * least (a list sees the engine at some moment between its send time and
   * its answer: from the end of the first list that saw two copies to the
   * start of the last one), at most the real overlap.
   */
  overlapMs(instances: readonly string[], estimate: 'upper' | 'proven' = 'upper'): number {
    const per = new Map<string, number>();
    for (const e of this.report().episodes) {
      if (!instances.includes(e.instance)) continue;
      per.set(e.instance, (per.get(e.instance) ?? 0) + (estimate === 'upper' ? e.ms : Math.max(0, e.minMs - e.firstListMs)));
    }
    return Math.max(0, ...per.values());
  }

  /** The first sample sent at or after `since` in which `node` ran none of `instances` (epoch ms), or undefined. */
  goneFrom(node: string, instances: readonly string[], since: number): number | undefined {
    return this.samples.find((s) => s.at >= since && !instances.some((i) => s.running.get(i)?.has(node)))?.at;
  }

  /** Longest time between two consecutive samples, the first sent in [from, to]: the resolution there. */
  gapMsMax(from: number, to: number): number {
    let gap = 0;
    for (let k = 0; k + 1 < this.samples.length; k++) {
      const s = this.samples[k]!;
      if (s.at >= from && s.at <= to) gap = Math.max(gap, this.samples[k + 1]!.at - s.at);
    }
    return gap;
  }

  /** Instances running on `node` in the first sample sent at or after `since` (undefined: no such sample yet). */
  runningOn(node: string, since: number): string[] | undefined {
    const s = this.samples.find((x) => x.at >= since);
    return s && [...s.running].filter(([, nodes]) => nodes.has(node)).map(([i]) => i).sort();
  }

  /** Whether some sample sent at or after `since` saw `node` run every one of `instances`. */
  sawRunning(node: string, instances: readonly string[], since: number, until = Infinity): boolean {
    return this.samples.some((s) => s.at >= since && s.at <= until && instances.every((i) => s.running.get(i)?.has(node)));
  }

  private report(): SamplerReport {
    const s = this.samples;
    let gapMsMax = 0;
    for (let k = 0; k + 1 < s.length; k++) gapMsMax = Math.max(gapMsMax, s[k + 1]!.at - s[k]!.at);
    const episodes: DuplicateEpisode[] = [];
    const open = new Map<string, DuplicateEpisode>();
    for (let k = 0; k < s.length; k++) {
      const cur = s[k]!;
      const next = s[k + 1];
      for (const [instance, nodes] of cur.running) {
        if (nodes.size < 2) continue;
        const why = this.unexpected(cur, instance, nodes);
        let e = open.get(instance);
        if (!e) {
          e = { instance, nodes: [...nodes].sort(), from: cur.at, ms: 0, minMs: 0, firstListMs: cur.listMs, expected: true, why: '' };
          open.set(instance, e);
          episodes.push(e);
        }
        for (const n of nodes) if (!e.nodes.includes(n)) e.nodes = [...e.nodes, n].sort();
        e.ms = (next ?? cur).at - e.from;
        e.minMs = cur.at - e.from;
        if (why && e.expected) {
          e.expected = false;
          e.why = `${new Date(cur.at).toISOString()} ${why}`;
        }
      }
      for (const instance of [...open.keys()]) if ((cur.running.get(instance)?.size ?? 0) < 2) open.delete(instance);
    }
    return {
      samples: s.length,
      etcdSamples: s.filter((x) => x.placement !== undefined).length,
      errors: this.errors,
      gapMsMax,
      duplicates: episodes.length,
      duplicateInstances: new Set(episodes.map((e) => e.instance)).size,
      duplicateMsMax: Math.max(0, ...episodes.map((e) => e.ms)),
      unexpectedDuplicates: episodes.filter((e) => !e.expected).map((e) => `${e.instance} on ${e.nodes.join(' and ')} (${e.why})`),
      episodes,
      lost: [...this.lost].map(([i, why]) => `${i}: ${why}`),
      capacityViolations: [...this.capacity],
      checkpoints: this.checkpoints,
      transient: [...this.transient],
      listMsMedian: median(this.listMs),
      listMsMax: Math.max(0, ...this.listMs),
      etcdMsMedian: median(this.etcdMs),
      etcdMsMax: Math.max(0, ...this.etcdMs),
    };
  }

  /** Why this duplicate is not explained by an allowed stale window ('' when it is). */
  private unexpected(sample: Sample, instance: string, nodes: Set<string>): string {
    const desc = `${instance} runs on ${[...nodes].sort().join(' and ')}`;
    const windows = this.windows.filter((w) => w.from <= sample.at && sample.at <= w.until && nodes.has(w.node));
    if (windows.length === 0) return `${desc}, outside any window where a dead, frozen or cut-off node's copies may linger`;
    const placed = sample.placement?.get(instance);
    for (const w of windows) {
      const others = [...nodes].filter((n) => n !== w.node);
      if (others.length !== 1) continue;
      // Without etcd's answer in this sample the placement is unknown: the engine side alone must fit.
      if (sample.placement === undefined || placed === others[0]) return '';
    }
    return `${desc}, placed on ${placed ?? 'no node'}: more than the one stale copy a window allows`;
  }
}

/** Instances of `expect` (job → count) not healthy and running where etcd places them, with the reason. */
export function lostInstances(v: ClusterView, expect: Record<string, number>): Map<string, string> {
  const out = new Map<string, string>();
  const placed = new Map(instancesOf(v.jobs).map((i) => [i.instance, i.node]));
  const alive = new Set(v.nodes.map((n) => n.name));
  for (const [job, count] of Object.entries(expect)) {
    for (let ordinal = 0; ordinal < count; ordinal++) {
      const instance = instanceName(job, ordinal);
      const node = placed.get(instance);
      const why =
        node === undefined ? 'missing from the accepted jobs'
        : node === null ? 'no placement'
        : !alive.has(node) ? `placed on dead node ${node}`
        : healthyOn(v, instance) !== node ? `not healthy on ${node} (${statusText(v, instance, node)})`
        : !v.containers.some((c) => c.instance === instance && c.node === node && c.running) ? `not running on ${node}`
        : '';
      if (why) out.set(instance, why);
    }
  }
  return out;
}

/**
 * The invariants every sampled scenario asserts: some samples were taken,
 * no instance ran on two nodes outside an allowed stale window, no accepted
 * instance was lost, no node over capacity in any sampled revision.
 */
export function assertSampled(r: SamplerReport): void {
  assert.ok(r.etcdSamples >= 2, `the sampler took samples (${r.samples}, ${r.etcdSamples} with etcd)`);
  assert.deepEqual(r.unexpectedDuplicates, [], 'no instance ran on two nodes at once (but a dead, frozen or cut-off node\'s stale copy)');
  assert.deepEqual(r.lost, [], 'no accepted instance lost');
  assert.deepEqual(r.capacityViolations, [], 'no node over capacity in any sampled revision');
}

function statusText(v: ClusterView, instance: string, node: string): string {
  const s = v.statuses.find((x) => x.node === node && x.instance === instance);
  return s ? s.state : 'no status';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

function partialView(revision: number, nodes: NodeInfo[], jobs: Map<string, AcceptedJob>): ClusterView {
  return { at: Date.now(), revision, nodes, jobs, statuses: [], dns: new Map(), containers: [] };
}

/** Prints a report as FIGURE lines under `prefix`, and a readable line. */
export function printSampled(prefix: string, r: SamplerReport): void {
  console.log(
    `# ${prefix}: ${r.samples} samples (${r.etcdSamples} with etcd, ${r.errors} failed reads, longest gap ${r.gapMsMax} ms), ` +
      `${r.checkpoints} checkpoints (${r.transient.length} transiently unhealthy), engine list ${r.listMsMedian} ms median (max ${r.listMsMax}), etcd read ${r.etcdMsMedian} ms (max ${r.etcdMsMax}); ${r.duplicates} duplicate episodes of ${r.duplicateInstances} instances (longest ${r.duplicateMsMax} ms, ` +
      `${r.unexpectedDuplicates.length} unexpected), ${r.lost.length} lost, ${r.capacityViolations.length} capacity violations`,
  );
  for (const e of r.episodes) console.log(`#   duplicate ${e.instance} on ${e.nodes.join(' and ')} from ${new Date(e.from).toISOString()} for ≤${e.ms} ms${e.expected ? ' (stale copy of a dead/frozen/cut-off node)' : ` UNEXPECTED: ${e.why}`}`);
  for (const l of r.lost) console.log(`#   lost ${l}`);
  for (const t of r.transient) console.log(`#   transient ${t}`);
  figure(`${prefix}_samples`, r.samples);
  figure(`${prefix}_sample_gap_ms_max`, r.gapMsMax);
  figure(`${prefix}_duplicates`, r.duplicates);
  figure(`${prefix}_duplicate_ms_max`, r.duplicateMsMax);
  figure(`${prefix}_duplicates_unexpected`, r.unexpectedDuplicates.length);
  figure(`${prefix}_lost_instances`, r.lost.length);
  figure(`${prefix}_transient_unhealthy`, r.transient.length);
}
