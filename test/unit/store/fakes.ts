// Fakes for store unit tests: a manual clock and an EtcdDriver whose
// methods are scripted per test (unscripted ones throw).
import type { Clock } from '../../../src/store';
import type { EtcdDriver } from '../../../src/store/driver';

export class ManualClock implements Clock {
  private t = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((x) => x.id !== id);
    };
  }

  pending(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing due timers in order and letting their promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

export function fakeDriver(overrides: Partial<EtcdDriver>): EtcdDriver {
  const missing = (name: string) => () => {
    throw new Error(`fake driver: ${name} not scripted`);
  };
  return {
    txn: missing('txn'),
    range: missing('range'),
    put: missing('put'),
    delete: missing('delete'),
    currentRevision: missing('currentRevision'),
    leaseGrant: missing('leaseGrant'),
    leaseKeepAliveOnce: missing('leaseKeepAliveOnce'),
    leaseTimeToLive: missing('leaseTimeToLive'),
    leaseRevoke: missing('leaseRevoke'),
    watch: missing('watch'),
    close: () => undefined,
    ...overrides,
  };
}
