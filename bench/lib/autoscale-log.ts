// The autoscaler's decisions for one job, read from the agents' logs
// (`autoscale: scaling up` / `scaling down`, logged by the poller with the
// counts and the measured average): when a count changes, they say why.
// The harness keeps only the last ~2 MB of each agent's debug log, so the
// bench scans them every few seconds and keeps what it found.
import type { TestCluster } from '../../test/harness/cluster';

export interface AutoscaleDecision {
  /** ms after the reference time given to decisions() (the agent's clock: same machine). */
  atMs: number;
  node: string;
  direction: 'up' | 'down';
  from: number;
  to: number;
  averagePercent: number | null;
  counted: number | null;
}

interface Seen extends Omit<AutoscaleDecision, 'atMs'> {
  time: number;
}

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

export class AutoscaleLog {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly c: TestCluster,
    private readonly job: string,
  ) {}

  scan(): void {
    for (const agent of this.c.agents) {
      for (const line of agent.logs().split('\n')) {
        if (!line.includes('autoscale: scaling') || !line.includes(`"job":"${this.job}"`)) continue;
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch {
          continue; // a line cut by the log's trimming
        }
        if (typeof v !== 'object' || v === null) continue;
        const o = v as Record<string, unknown>;
        const time = num(o.time);
        const from = num(o.from);
        const to = num(o.to);
        if (time === null || from === null || to === null) continue;
        const key = `${agent.node}/${time}/${from}/${to}`;
        if (this.seen.has(key)) continue;
        this.seen.set(key, { time, node: agent.node, direction: to > from ? 'up' : 'down', from, to, averagePercent: num(o.averagePercent), counted: num(o.counted) });
      }
    }
  }

  decisions(since: number): AutoscaleDecision[] {
    return [...this.seen.values()]
      .sort((a, b) => a.time - b.time)
      .map(({ time, ...d }) => ({ atMs: time - since, ...d }));
  }
}
