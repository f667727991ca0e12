// The agent's Prometheus metrics: the only prom-client user on the agent's
// side, on a Registry of its own (the global one would mix in whatever else
// registers there, and prom-client's default process metrics fail
// `promtool check metrics`). Catalogue with meanings: docs/observability.md.
//
// Two kinds of series:
//   - gauges computed at scrape time from state the agent already holds
//     (its supervisors' statuses, its node's jobs, and, on the poller, the
//     watch-fed schedule): no etcd read, no engine call per scrape;
//   - counters and histograms fed by events (rounds, fetches, restarts,
//     cron events) through the record* methods.
// Cluster-wide series (pending instances, node count, autoscaling) come
// only from the agent that holds the poll claim (`ozy_poller 1`): the others
// do not export them, so alert rules aggregate with max() and a hand-over
// never doubles a figure.
// Labels stay bounded: states, results and resources are fixed sets; `job`
// appears only on the autoscaling series (the repository's autoscaled jobs,
// few and stable); instance names never appear.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AcceptedJob, InstanceState } from '../model/cluster';
import type { Resources } from '../model/job';
import { countByState, pendingSummary } from './cluster-gauges';

/** What the scrape-time gauges read; every call must be cheap and must not do I/O. */
export interface AgentMetricsSource {
  /** The states of the instances this node supervises. */
  instanceStates(): Iterable<InstanceState>;
  /** Schedulable capacity: bytes, bytes, millicores. */
  capacity(): Resources;
  /** What the schedule assigns to this node: bytes, bytes, millicores. */
  allocated(): Resources;
  /** The node's lease is held and the node is not fenced. */
  leaseHeld(): boolean;
  /** The first node round is done (with leaseHeld: /readyz). */
  firstRoundDone(): boolean;
  /** This agent holds the poll claim. */
  polling(): boolean;
  /** The poller's watch-fed cluster view; undefined on a follower. */
  cluster(): { jobs: Iterable<AcceptedJob>; nodes: number; rejections: number } | undefined;
  /** The poller's autoscaled jobs: the count it wants and the measured CPU use (ratio of the pod's limit). */
  autoscale(): Iterable<{ job: string; desired: number; cpuRatio?: number }>;
  /** Wall clock, ms (pending ages). */
  now(): number;
}

export const ROUND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const CRON_DELAY_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
export const CRON_RESULTS = ['succeeded', 'failed', 'missed', 'skipped', 'replaced'] as const;
export type CronResult = (typeof CRON_RESULTS)[number];
export const ROUND_RESULTS = ['no-source', 'behind', 'idle', 'unchanged', 'committed', 'contended', 'error'] as const;
export type RoundOutcome = (typeof ROUND_RESULTS)[number];

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly commits: Counter<'result'>;
  private readonly rounds: Counter<'result'>;
  private readonly roundSeconds: Histogram<string>;
  private readonly gitFetches: Counter<string>;
  private readonly gitErrors: Counter<string>;
  private gitFailing = false;
  private readonly restarts: Counter<string>;
  private readonly reconcileErrors: Counter<'loop'>;
  private readonly cronRuns: Counter<'result'>;
  private readonly cronDelay: Histogram<string>;

  constructor(src: AgentMetricsSource) {
    const registers = [this.registry];
    const states = new Gauge({
      name: 'ozy_instances',
      help: 'Instances supervised on this node, by state.',
      labelNames: ['state'],
      registers,
      collect() {
        for (const [state, n] of countByState(src.instanceStates())) states.set({ state }, n);
      },
    });
    const capBytes = new Gauge({
      name: 'ozy_node_capacity_bytes',
      help: 'Schedulable capacity of this node in bytes, by resource (memory, disk).',
      labelNames: ['resource'],
      registers,
      collect() {
        const c = src.capacity();
        capBytes.set({ resource: 'memory' }, c.memory);
        capBytes.set({ resource: 'disk' }, c.disk);
      },
    });
    const capCores = new Gauge({
      name: 'ozy_node_capacity_cpu_cores',
      help: 'Schedulable CPU of this node, in cores.',
      registers,
      collect() {
        capCores.set(src.capacity().cpu / 1000);
      },
    });
    const allocBytes = new Gauge({
      name: 'ozy_node_allocated_bytes',
      help: 'Bytes the schedule assigns to this node (instances and retained volumes), by resource (memory, disk).',
      labelNames: ['resource'],
      registers,
      collect() {
        const a = src.allocated();
        allocBytes.set({ resource: 'memory' }, a.memory);
        allocBytes.set({ resource: 'disk' }, a.disk);
      },
    });
    const allocCores = new Gauge({
      name: 'ozy_node_allocated_cpu_cores',
      help: 'CPU the schedule assigns to this node, in cores.',
      registers,
      collect() {
        allocCores.set(src.allocated().cpu / 1000);
      },
    });
    const lease = new Gauge({
      name: 'ozy_lease_held',
      help: '1 while this node holds its etcd lease and is not fenced, else 0.',
      registers,
      collect() {
        lease.set(src.leaseHeld() ? 1 : 0);
      },
    });
    const ready = new Gauge({
      name: 'ozy_ready',
      help: '1 when /readyz answers 200 (lease held and first node round done), else 0.',
      registers,
      collect() {
        ready.set(src.leaseHeld() && src.firstRoundDone() ? 1 : 0);
      },
    });
    const poller = new Gauge({
      name: 'ozy_poller',
      help: '1 on the agent that holds the poll claim (it exports the cluster-wide series), else 0.',
      registers,
      collect() {
        poller.set(src.polling() ? 1 : 0);
      },
    });
    // Cluster-wide: a sample on the poller, none elsewhere. (A label-less prom-client
    // gauge always has a sample, 0 after reset(): get() drops it on followers.)
    const clusterGauge = (name: string, help: string, value: (c: NonNullable<ReturnType<AgentMetricsSource['cluster']>>) => number): Gauge => {
      const g: Gauge = new Gauge({
        name,
        help,
        registers,
        collect() {
          const c = src.cluster();
          if (c) g.set(value(c));
        },
      });
      const get = g.get.bind(g);
      g.get = async () => {
        const r = await get();
        return src.cluster() ? r : { ...r, values: [] };
      };
      return g;
    };
    // One pass over the jobs per scrape serves both pending series.
    let pendingAt = -1;
    let pending = { count: 0, oldestAgeSeconds: 0 };
    const pendingNow = (c: { jobs: Iterable<AcceptedJob> }) => {
      const now = src.now();
      if (now !== pendingAt) {
        pending = pendingSummary(c.jobs, now);
        pendingAt = now;
      }
      return pending;
    };
    clusterGauge('ozy_instances_pending', 'Instances the schedule placed nowhere, cluster-wide (exported by the poller).', (c) => pendingNow(c).count);
    clusterGauge(
      'ozy_instances_pending_oldest_age_seconds',
      'Seconds the oldest pending instance has waited, cluster-wide; 0 when none (exported by the poller).',
      (c) => pendingNow(c).oldestAgeSeconds,
    );
    clusterGauge('ozy_cluster_nodes', 'Nodes registered with a live lease (exported by the poller).', (c) => c.nodes);
    clusterGauge('ozy_cluster_rejections', 'Jobs or files whose latest version was rejected (exported by the poller).', (c) => c.rejections);
    const desired = new Gauge({
      name: 'ozy_autoscale_desired_instances',
      help: 'The instance count the autoscaler wants for an autoscaled job (exported by the poller).',
      labelNames: ['job'],
      registers,
      collect() {
        desired.reset();
        cpu.reset();
        for (const a of src.autoscale()) {
          desired.set({ job: a.job }, a.desired);
          if (a.cpuRatio !== undefined) cpu.set({ job: a.job }, a.cpuRatio);
        }
      },
    });
    const cpu = new Gauge({
      name: 'ozy_autoscale_cpu_utilization_ratio',
      help: "Measured CPU use of an autoscaled job's instances, as a ratio of the pod's CPU limit (exported by the poller).",
      labelNames: ['job'],
      registers,
    });
    this.commits = new Counter({ name: 'ozy_schedule_commits_total', help: 'Schedule commits this agent attempted, by result: won, or lost to another agent.', labelNames: ['result'], registers });
    this.rounds = new Counter({ name: 'ozy_schedule_rounds_total', help: "Scheduling rounds this agent ran as poller, by result (the brain's round kinds, or error).", labelNames: ['result'], registers });
    this.roundSeconds = new Histogram({ name: 'ozy_schedule_round_duration_seconds', help: 'Duration of a scheduling round (fetch, render, decide, commit).', buckets: ROUND_BUCKETS, registers });
    this.gitFetches = new Counter({ name: 'ozy_git_fetches_total', help: 'Fetches of the job repository by this agent (as poller).', registers });
    this.gitErrors = new Counter({ name: 'ozy_git_fetch_errors_total', help: 'Fetches of the job repository that failed.', registers });
    const failing: Gauge = new Gauge({
      name: 'ozy_git_fetch_failing',
      help: "1 while this agent's last fetch of the job repository failed (poller only; 0 elsewhere).",
      registers,
      collect: (): void => failing.set(this.gitFailing && src.polling() ? 1 : 0),
    });
    this.restarts = new Counter({ name: 'ozy_container_restarts_total', help: "Restarts of this node's instances (a container exited or failed its health check).", registers });
    this.reconcileErrors = new Counter({ name: 'ozy_reconcile_errors_total', help: 'Failed steps of the node loop (start, stop, listing) and failed scheduling rounds, by loop.', labelNames: ['loop'], registers });
    this.cronRuns = new Counter({ name: 'ozy_cron_runs_total', help: 'Cron runs settled by the cron rounds this agent committed (as poller), by result.', labelNames: ['result'], registers });
    this.cronDelay = new Histogram({ name: 'ozy_cron_run_start_delay_seconds', help: 'Seconds from a cron run\'s scheduled time to its placement on nodes.', buckets: CRON_DELAY_BUCKETS, registers });
    // Every label value of a counter exists from the start: rate() over a series that appears late misses its first increase.
    for (const result of ['won', 'lost']) this.commits.inc({ result }, 0);
    for (const result of ROUND_RESULTS) this.rounds.inc({ result }, 0);
    for (const loop of ['node', 'brain']) this.reconcileErrors.inc({ loop }, 0);
    for (const result of CRON_RESULTS) this.cronRuns.inc({ result }, 0);
  }

  /** One scheduling round: its outcome, how many commits it won or lost, how long it took. */
  recordRound(outcome: RoundOutcome, commits: { won: number; lost: number }, seconds: number): void {
    this.rounds.inc({ result: outcome });
    if (commits.won > 0) this.commits.inc({ result: 'won' }, commits.won);
    if (commits.lost > 0) this.commits.inc({ result: 'lost' }, commits.lost);
    this.roundSeconds.observe(seconds);
    if (outcome === 'error') this.reconcileErrors.inc({ loop: 'brain' });
  }

  recordFetch(ok: boolean): void {
    this.gitFetches.inc();
    if (!ok) this.gitErrors.inc();
    this.gitFailing = !ok;
  }

  recordRestarts(n: number): void {
    if (n > 0) this.restarts.inc(n);
  }

  recordReconcileError(loop: 'node' | 'brain'): void {
    this.reconcileErrors.inc({ loop });
  }

  recordCronRun(result: CronResult): void {
    this.cronRuns.inc({ result });
  }

  recordCronStartDelay(seconds: number): void {
    this.cronDelay.observe(Math.max(0, seconds));
  }

  /** The text exposition format. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Won and lost commits of a round, from its result (the brain retries after each loss). */
export function commitsOf(result: { kind: string; attempts?: number }): { won: number; lost: number } {
  if (result.kind === 'committed') return { won: 1, lost: Math.max(0, (result.attempts ?? 1) - 1) };
  if (result.kind === 'contended') return { won: 0, lost: result.attempts ?? 0 };
  return { won: 0, lost: 0 };
}
