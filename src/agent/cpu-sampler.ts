// The node's CPU sampling for autoscaling (DESIGN.md "Autoscaling on CPU"):
// every sampleMs, one stats call per running container of the node's
// instances of autoscaled jobs, paired with the previous round's samples
// (cpu-sampling.ts), published as one NodeCpu record on the node's lease.
//
// Cost: nothing at all while the node has no autoscaled instance — the
// loop stops after a round finds none (deleting the record once) and only
// poke() starts it again, which the node agent calls when its instances
// change. With some, a round is one batch request for all the containers
// when the engine has one (podman's libpod endpoint: per-container Docker
// API calls cost podman several times more CPU, docs/benchmarks.md), else
// one stats call per container, a few at a time (Limiter); and one etcd put.
// A failed batch falls back to per-container calls for that round; a failed
// stats call costs its instance this round's figure, nothing more.
import type { Logger } from 'pino';
import type { NodeCpu } from '../model/autoscale';
import type { ContainerStats } from '../runtime/facts';
import { cpuRound, type CpuTarget } from './cpu-sampling';
import { Limiter } from './limiter';

export const DEFAULT_CPU_SAMPLE_MS = 2000;
/** Stats calls in flight at once: 100 instances must not open 100 engine connections together. */
const STATS_CONCURRENCY = 4;

export interface CpuSamplerOptions {
  sampleMs: number;
  /** The node's instances of autoscaled jobs now; [] when it has none (the loop then stops). */
  targets(): CpuTarget[];
  /** One sample of a container (ContainerEngine.stats). */
  stats(id: string): Promise<ContainerStats>;
  /** Samples of many running containers at once; undefined when the engine cannot (ContainerEngine.statsMany). */
  statsMany?(ids: readonly string[]): Promise<Map<string, ContainerStats> | undefined>;
  /** Writes the node's record; null deletes it. */
  publish(record: NodeCpu | null): Promise<void>;
  log: Logger;
  concurrency?: number;
}

export class CpuSampler {
  private samples = new Map<string, ContainerStats>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  /** What the key holds as far as we know: 'unknown' at start (a resumed lease may carry an earlier process's record) and after a failed write. */
  private key: 'present' | 'absent' | 'unknown' = 'unknown';
  private lastWriteError: string | undefined;
  private closed = false;
  /** Until the engine says it has no batch endpoint. */
  private batch: boolean;
  private readonly limiter: Limiter;

  constructor(private readonly opts: CpuSamplerOptions) {
    this.limiter = new Limiter(opts.concurrency ?? STATS_CONCURRENCY);
    this.batch = opts.statsMany !== undefined;
  }

  /** The node's instances may have changed: sample now unless a round is under way or due. */
  poke(): void {
    if (this.closed || this.round !== undefined || this.timer !== undefined) return;
    this.run();
  }

  /** No round under way and none due: the loop rests until poke(). */
  get idle(): boolean {
    return this.round === undefined && this.timer === undefined;
  }

  /** Stops the loop (no timer left); the record stays on the lease, like the statuses. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }

  private run(): void {
    this.timer = undefined;
    const startedAt = Date.now();
    this.round = this.sampleOnce()
      .catch((err: unknown) => this.opts.log.warn({ err: errText(err) }, 'CPU sampling round failed'))
      .then((more) => {
        this.round = undefined;
        if (!more || this.closed) return;
        // A fixed period from round start to round start; a slow round is followed at once.
        this.timer = setTimeout(() => this.run(), Math.max(0, this.opts.sampleMs - (Date.now() - startedAt)));
        this.timer.unref();
      });
  }

  /** One round; false when there was nothing to sample (the loop stops). */
  private async sampleOnce(): Promise<boolean> {
    const targets = this.opts.targets();
    if (targets.length === 0) {
      this.samples.clear();
      if (this.key !== 'absent') await this.write(null);
      // A deletion that failed (etcd away) is tried again next period; then the loop rests.
      return this.key !== 'absent';
    }
    const got = await this.collect(targets);
    if (this.closed) return false;
    const { record, samples } = cpuRound(targets, this.samples, got, this.opts.sampleMs);
    this.samples = samples;
    // Until some instance has a figure (two samples), an absent key stays absent.
    const empty = Object.keys(record.instances).length === 0;
    if (!empty || this.key !== 'absent') await this.write(empty ? null : record);
    return true;
  }

  /** This round's samples, by container id; a container whose call failed is missing. */
  private async collect(targets: readonly CpuTarget[]): Promise<Map<string, ContainerStats>> {
    const ids = targets.flatMap((t) => t.containers);
    if (ids.length === 0) return new Map();
    if (this.batch && this.opts.statsMany) {
      try {
        const got = await this.opts.statsMany(ids);
        if (got !== undefined) return got;
        this.batch = false;
        this.opts.log.info('the engine has no batch stats endpoint: one stats call per container');
      } catch (err) {
        this.opts.log.debug({ err: errText(err) }, 'batch stats failed; one call per container this round');
      }
    }
    const got = new Map<string, ContainerStats>();
    await Promise.all(
      targets.flatMap((t) =>
        t.containers.map((id) =>
          this.limiter.run(async () => {
            if (this.closed) return;
            try {
              got.set(id, await this.opts.stats(id));
            } catch (err) {
              this.opts.log.debug({ instance: t.instance, container: id, err: errText(err) }, 'no CPU sample this round');
            }
          }),
        ),
      ),
    );
    return got;
  }

  private async write(record: NodeCpu | null): Promise<void> {
    try {
      await this.opts.publish(record);
      this.key = record === null ? 'absent' : 'present';
      if (this.lastWriteError !== undefined) this.opts.log.info('CPU record writes work again');
      this.lastWriteError = undefined;
    } catch (err) {
      this.key = 'unknown';
      const message = errText(err);
      // One line per distinct failure, not one per round.
      if (message !== this.lastWriteError) this.opts.log.warn({ err: message }, 'writing the node\'s CPU record failed; next round tries again');
      this.lastWriteError = message;
    }
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
