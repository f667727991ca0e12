// A node's run exits, written in batches: when a thousand cron runs end in
// the same second, one transaction per few dozen exits instead of one each
// (each write is a disk sync on every etcd member). An exit waits at most
// `windowMs` for company; its promise settles with its batch.
import type { ClusterStore, ExitInput, ExitReport } from '../store';
import { EXITS_PER_TXN } from '../store/cron-store';

interface Pending {
  input: ExitInput;
  resolve(r: ExitReport): void;
  reject(err: unknown): void;
}

export class ExitBatcher {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;

  constructor(
    private readonly store: Pick<ClusterStore, 'cron'>,
    private readonly windowMs = 20,
    private readonly now: () => Date = () => new Date(),
  ) {}

  report(input: ExitInput): Promise<ExitReport> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.queue.length >= EXITS_PER_TXN) this.flushSoon(0);
      else this.flushSoon(this.windowMs);
    });
  }

  private flushSoon(ms: number): void {
    if (this.flushing) return;
    if (this.timer !== undefined && ms > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), ms);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, EXITS_PER_TXN);
        try {
          const results = await this.store.cron.reportExits(
            batch.map((p) => p.input),
            this.now,
          );
          batch.forEach((p, i) => p.resolve(results[i]!));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
