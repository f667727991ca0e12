// A watch-fed view of one cluster for benchmarks that time reactions: the
// accepted jobs, the instance statuses and the nodes' CPU records, each an
// etcd mirror (the same ones the agents use). `when(pred)` resolves with
// the wall-clock time of the first mirror change after which `pred` holds,
// so a figure is "when etcd said so", not "when a poll loop looked".
// Every change of a job's instance count is kept (`counts`), which is what
// a flapping count is read from.
import type { AcceptedJob, InstanceStatus } from '../../src/model/cluster';
import { placementName, versionOf } from '../../src/model/cluster';
import type { ClusterStore, CpuMirror } from '../../src/store';
import type { Mirror } from '../../src/store/prefix-mirror';

export interface CountChange {
  /** Date.now() when the mirror delivered it. */
  at: number;
  count: number;
}

interface Waiter {
  pred: () => boolean;
  resolve: (at: number) => void;
}

export class ClusterWatch {
  /** Job name → every instance count it had, in order (the first is the count when first seen). */
  readonly counts = new Map<string, CountChange[]>();
  private readonly waiters = new Set<Waiter>();

  private constructor(
    private readonly jobs: Mirror<AcceptedJob>,
    private readonly statuses: Mirror<InstanceStatus>,
    private readonly cpu: CpuMirror,
  ) {}

  static async open(store: ClusterStore): Promise<ClusterWatch> {
    // The mirrors call back on every change; `self` is set before the first one can matter.
    let self: ClusterWatch | undefined;
    const changed = (): void => self?.changed();
    const [jobs, statuses, cpu] = await Promise.all([store.mirrorJobs({ onChange: changed }), store.mirrorInstanceStatus({ onChange: changed }), store.openCpuMirror({ onChange: changed })]);
    self = new ClusterWatch(jobs, statuses, cpu);
    self.changed();
    return self;
  }

  async close(): Promise<void> {
    await Promise.all([this.jobs.close(), this.statuses.close(), this.cpu.close()]);
  }

  job(name: string): AcceptedJob | undefined {
    return this.jobs.values.get(name);
  }

  count(name: string): number {
    return this.job(name)?.instances.length ?? 0;
  }

  /** Ordinal `ordinal` of `job` is placed and its node says healthy on the spec it should run. */
  healthy(name: string, ordinal: number): boolean {
    const job = this.job(name);
    const p = job?.instances[ordinal];
    if (!job || !p || p.node === null) return false;
    const s = this.statuses.values.get(`${p.node}/${placementName(name, p, ordinal)}`);
    return s?.state === 'healthy' && s.specHash === versionOf(job, p).specHash;
  }

  /** The engine id of container `container` of every healthy instance of `job`, in ordinal order. */
  healthyContainerIds(name: string, container: string): string[] {
    const job = this.job(name);
    if (!job) return [];
    const ids: string[] = [];
    job.instances.forEach((p, ordinal) => {
      if (!this.healthy(name, ordinal)) return;
      const id = this.statuses.values.get(`${p.node}/${placementName(name, p, ordinal)}`)?.containers[container]?.id;
      if (id !== undefined) ids.push(id);
    });
    return ids;
  }

  /** Whether any node still has a status record for instance `instance` (a removed one is deleted). */
  hasStatus(instance: string): boolean {
    for (const s of this.statuses.values.values()) if (s.instance === instance) return true;
    return false;
  }

  /** The latest figure of `instance` in its node's CPU record, percent of its limit; undefined when none. */
  cpuPercent(instance: string): number | undefined {
    for (const record of this.cpu.records().values()) {
      const m = record.instances[instance];
      if (m && m.limit > 0) return (m.used / m.limit) * 100;
    }
    return undefined;
  }

  /** Resolves with Date.now() at the first change after which `pred` holds (now, if it holds already). */
  when(what: string, pred: () => boolean, timeoutMs: number): Promise<number> {
    if (pred()) return Promise.resolve(Date.now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const waiter: Waiter = {
        pred,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
      this.waiters.add(waiter);
    });
  }

  private changed(): void {
    const at = Date.now();
    for (const [name, job] of this.jobs.values) {
      const seen = this.counts.get(name) ?? [];
      if (seen[seen.length - 1]?.count !== job.instances.length) seen.push({ at, count: job.instances.length });
      this.counts.set(name, seen);
    }
    for (const w of [...this.waiters]) {
      if (!w.pred()) continue;
      this.waiters.delete(w);
      w.resolve(at);
    }
  }
}
