// What the driver of rolling updates sees of the instances in their batches:
// the statuses their nodes publish, read for those instances only (one etcd
// request per round while an update runs, none otherwise), timed on this
// agent's monotonic clock. Another agent's clock is never compared with
// ours: a new driver (the old one died) starts its stopwatches afresh, so it
// waits longer, never fails an instance early.
import type { AcceptedJob, InstanceStatus } from '../model/cluster';
import { placementName } from '../model/cluster';
import type { InstanceHealth } from '../plan/rollout';

export type StatusReader = (refs: ReadonlyArray<{ node: string; instance: string }>) => Promise<InstanceStatus[]>;

interface Watched {
  /** node, spec hash and placement time: a new placement of the instance starts the clocks again. */
  key: string;
  since: number;
  healthySince?: number;
}

/** A job whose rolling update is under way (not halted). */
export function rolling(job: AcceptedJob): boolean {
  return job.rollout !== undefined && job.rollout.halted !== true;
}

export class RolloutObserver {
  private readonly watched = new Map<string, Watched>();

  constructor(
    private readonly read: StatusReader,
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  /** Health of every placed instance in a batch of `jobs`, by instance name. No batch, no read. */
  async observe(jobs: Iterable<AcceptedJob>): Promise<Map<string, InstanceHealth>> {
    const refs: Array<{ node: string; instance: string; key: string; specHash: string }> = [];
    for (const job of jobs) {
      if (!rolling(job)) continue;
      for (const i of job.rollout!.batch) {
        const p = job.instances[i];
        if (p === undefined || p.node === null) continue;
        refs.push({ node: p.node, instance: placementName(job.spec.name, p, i), key: `${p.node}\0${job.specHash}\0${p.since}`, specHash: job.specHash });
      }
    }
    const out = new Map<string, InstanceHealth>();
    if (refs.length === 0) {
      this.watched.clear();
      return out;
    }
    const statuses = new Map((await this.read(refs)).map((s) => [s.instance, s]));
    const now = this.monotonic();
    const live = new Set<string>();
    for (const ref of refs) {
      live.add(ref.instance);
      let w = this.watched.get(ref.instance);
      if (!w || w.key !== ref.key) this.watched.set(ref.instance, (w = { key: ref.key, since: now }));
      const s = statuses.get(ref.instance);
      const mine = s !== undefined && s.node === ref.node && s.specHash === ref.specHash ? s : undefined;
      if (mine?.state === 'healthy') w.healthySince ??= now;
      else delete w.healthySince;
      const h: InstanceHealth = { waitedMs: now - w.since, restarts: mine?.restarts ?? 0 };
      if (w.healthySince !== undefined) h.healthyMs = now - w.healthySince;
      if (mine) h.state = mine.state;
      if (mine?.message) h.message = mine.message;
      out.set(ref.instance, h);
    }
    for (const name of [...this.watched.keys()]) if (!live.has(name)) this.watched.delete(name);
    return out;
  }
}
