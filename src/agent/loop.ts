// A periodic task that can also be kicked to run now. Runs never overlap:
// a kick during a run schedules exactly one more run right after it.
import type { Logger } from 'pino';

export class Loop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = true;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly body: () => Promise<void>,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Run as soon as possible (after the current run, if one is going). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.runOnce().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.kick();
      } else {
        this.timer = setTimeout(() => this.kick(), this.intervalMs);
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async runOnce(): Promise<void> {
    try {
      await this.body();
    } catch (err) {
      // A failed round (etcd or git away) is retried on the next tick; the agent stays up.
      this.log.warn({ loop: this.name, err: err instanceof Error ? err.message : String(err) }, 'round failed');
    }
  }
}
