// Following the cluster while `ozy up` runs: every refresh, read what etcd
// holds (the same view as `ozy status`) and print it — a dashboard redrawn
// in place on a terminal, change lines otherwise (see summary.ts).
import type { Writable } from 'node:stream';
import type { ClusterStatus } from '../agent/cluster-status';
import { readClusterStatus } from '../cli/commands/status';
import { ClusterStore } from '../store';
import { changeLines, emptyDigest, renderDashboard, type Digest } from './summary';

export interface FollowOptions {
  endpoints: string[];
  prefix?: string;
  out: Writable & { isTTY?: boolean; columns?: number };
  /** Redraw in place (terminal) or print changes. */
  tty: boolean;
  refreshMs: number;
  /** Current problems of supervised processes, shown with the cluster. */
  problems: () => string[];
  now?: () => number;
}

export { readClusterStatus };

export class ClusterFollower {
  private readonly store: ClusterStore;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private current: Promise<void> = Promise.resolve();
  private drawn = 0;
  private digest: Digest = emptyDigest();
  private readonly now: () => number;

  constructor(private readonly opts: FollowOptions) {
    this.store = ClusterStore.connect({ endpoints: opts.endpoints, requestTimeoutMs: 2_000, ...(opts.prefix ? { prefix: opts.prefix } : {}) });
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  /** Stops refreshing; the last dashboard stays on screen. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
    await this.store.close().catch(() => undefined);
  }

  private tick(): void {
    if (!this.running) return;
    this.current = this.refresh()
      .catch(() => undefined)
      .finally(() => {
        if (this.running) this.timer = setTimeout(() => this.tick(), this.opts.refreshMs);
      });
  }

  private async refresh(): Promise<void> {
    let status: ClusterStatus | undefined;
    let problems = this.opts.problems();
    try {
      status = await readClusterStatus(this.store);
    } catch (err) {
      problems = [...problems, `cannot read the cluster from etcd: ${(err as Error).message}`];
    }
    if (!this.running) return;
    if (this.opts.tty) this.draw(renderDashboard(status, { now: this.now(), problems }));
    else if (status) {
      const { lines, digest } = changeLines(this.digest, status, { now: this.now(), problems });
      this.digest = digest;
      if (lines.length) this.opts.out.write(`${lines.join('\n')}\n`);
    } else {
      const { lines, digest } = changeLines(this.digest, { nodes: [], jobs: [], instances: [], runs: [], rejections: [] }, { now: this.now(), problems });
      // Keep what we knew about the cluster; only report new problems.
      this.digest = { ...this.digest, problems: digest.problems };
      const news = lines.filter((l) => l.includes(' ! '));
      if (news.length) this.opts.out.write(`${news.join('\n')}\n`);
    }
  }

  /** Replaces the previous dashboard: cursor up over it, clear to the end, print. */
  private draw(lines: string[]): void {
    const width = Math.max(20, (this.opts.out.columns ?? 120) - 1);
    // Lines longer than the terminal wrap and would break the cursor arithmetic.
    const fitted = lines.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
    const up = this.drawn > 0 ? `\x1b[${this.drawn}F\x1b[J` : '';
    this.opts.out.write(`${up}${fitted.join('\n')}\n`);
    this.drawn = fitted.length;
  }

  /** Forget the dashboard on screen (someone else printed below it). */
  detachScreen(): void {
    this.drawn = 0;
  }
}
