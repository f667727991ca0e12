// At most `max` of some operation at once; the rest wait in order. The
// container engine slows down for everyone when a node asks it to create a
// few hundred containers at the same instant (a thousand cron jobs due on
// the same minute), so a node starts and removes run pods a few at a time.
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
