// The agent's observability, wired: its metrics (agent-metrics.ts), its
// HTTP endpoint (agent-http.ts) bound by the --http rules (http-listen.ts),
// and the taps that feed the counters from the agent's loops. The agent
// hands it closures over state it already holds; nothing here reads etcd.
import type * as http from 'node:http';
import type { Logger } from 'pino';
import type { CronEvent } from '../cron/round';
import type { InstanceStatus } from '../model/cluster';
import { LABEL, type ContainerEngine } from '../runtime';
import type { GitPort } from '../agent/ports';
import type { RoundResult } from '../agent/brain';
import { AgentMetrics, commitsOf, CRON_RESULTS, type AgentMetricsSource, type CronResult } from './agent-metrics';
import { createAgentHttpServer, type LogContainer, type Readiness } from './agent-http';
import { listenHttp, reachableAddress, type HttpListen } from './http-listen';

export interface AgentEndpointOptions {
  node: string;
  /** The node's --address: what a server bound to every address is reached by. */
  address: string;
  http: HttpListen;
  apiToken: string | undefined;
  engine: Pick<ContainerEngine, 'listManaged' | 'streamLogs'>;
  source: AgentMetricsSource;
  /** Why the agent is not ready, or undefined when it is. */
  notReadyBecause(): string | undefined;
  log: Logger;
}

export class AgentEndpoint {
  readonly metrics: AgentMetrics;
  private server: http.Server | undefined;
  /** Restarts last seen per instance: a status put that raises it is a restart. */
  private readonly restartsSeen = new Map<string, number>();
  private address: string | undefined;

  constructor(private readonly opts: AgentEndpointOptions) {
    this.metrics = new AgentMetrics(opts.source);
  }

  /** Binds the endpoint (before the node registers: an explicit --http that cannot bind stops the agent first). */
  async listen(): Promise<string | undefined> {
    const { opts } = this;
    if (opts.http.kind === 'off') return undefined;
    const server = createAgentHttpServer({
      metrics: this.metrics,
      readiness: () => this.readiness(),
      apiToken: opts.apiToken,
      containersOf: (instance) => this.containersOf(instance),
      streamLogs: (id, o) => opts.engine.streamLogs(id, o),
      log: opts.log.child({ loop: 'http' }),
    });
    const bound = await listenHttp(server, opts.http);
    this.server = server;
    this.address = bound ? reachableAddress(bound, opts.address) : undefined;
    opts.log.info({ http: this.address, logs: opts.apiToken !== undefined ? 'with OZY_API_TOKEN' : 'off (no OZY_API_TOKEN)' }, 'HTTP endpoint listening');
    return this.address;
  }

  /** The address recorded in the agent's etcd record (`ozy logs` connects to it). */
  get httpAddress(): string | undefined {
    return this.address;
  }

  readiness(): Readiness {
    const why = this.opts.notReadyBecause();
    return why === undefined ? { ready: true } : { ready: false, reason: why };
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  // ── taps ──────────────────────────────────────────────────────────

  /** Every instance status the node publishes: a raised restart count is a restart. */
  onStatus(s: InstanceStatus): void {
    const before = this.restartsSeen.get(s.instance);
    if (before !== undefined && s.restarts > before) this.metrics.recordRestarts(s.restarts - before);
    this.restartsSeen.set(s.instance, s.restarts);
  }

  onStatusDeleted(instance: string): void {
    this.restartsSeen.delete(instance);
  }

  onRound(result: RoundResult, seconds: number): void {
    this.metrics.recordRound(result.kind, commitsOf(result), seconds);
  }

  onRoundError(seconds: number): void {
    this.metrics.recordRound('error', { won: 0, lost: 0 }, seconds);
  }

  onCronEvents(events: readonly CronEvent[]): void {
    for (const e of events) {
      if (e.what === 'placed') this.metrics.recordCronStartDelay(e.delayMs / 1000);
      else if ((CRON_RESULTS as readonly string[]).includes(e.what)) this.metrics.recordCronRun(e.what as CronResult);
    }
  }

  /** The git port with its fetches counted (the poller's only git traffic that can fail for the cluster). */
  countFetches(git: GitPort): GitPort {
    const m = this.metrics;
    return {
      async sync() {
        try {
          const r = await git.sync();
          m.recordFetch(true);
          return r;
        } catch (err) {
          m.recordFetch(false);
          throw err;
        }
      },
      readFiles: (commit, filter, previous) => git.readFiles(commit, filter, previous),
      syncReports: (branch, dir, desired, message, o) => git.syncReports(branch, dir, desired, message, o),
      isAncestor: (a, d) => git.isAncestor(a, d),
    };
  }

  /** The instance's containers on this node, in the order they were created (the pod's start order). */
  private async containersOf(instance: string): Promise<LogContainer[] | undefined> {
    const found = await this.opts.engine.listManaged(this.opts.node, { instance });
    if (found.length === 0) return undefined;
    return [...found]
      .sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''))
      .map((c) => ({ name: c.labels[LABEL.container] ?? c.name, id: c.id }));
  }
}
