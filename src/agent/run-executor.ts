// The node side of cron runs: runs the run pods placed on this node to
// completion and reports how each ended (DESIGN.md "Cron jobs"). The
// control plane says which run instances this node must run (assign());
// each gets a RunTask (run-task.ts) that starts or adopts its pod, waits
// for it to finish, reports the exit and only then removes the containers.
//
// Engine cost is O(changes): the executor has its own event subscription
// for this node's containers (it asks the engine for ozy.run ones only:
// dockerd honours that, podman 4.3 ignores a key-only label filter on
// events, so route() drops the services' events in memory), and an event of
// a run container looks at that one pod (one listing by instance). The whole node's run
// containers are listed only by start() and when the event stream
// (re)connects (events may have been missed): that listing also removes run
// pods that are no longer assigned here.
//
// Not for runs: DNS, health checks, status or ingress endpoints, restarts.
// A container's `restart: on-failure` does not restart it here (the engine
// policy is 'no' as for every ozy container): the run fails, and the
// control plane starts the whole run again if the job has `retries` left.
//
// The assignment must not name an instance whose exit etcd already holds:
// once reported and removed, a pod named again would start again.
import type { Logger } from 'pino';
import { LABEL, groupByInstance, type EngineEvent } from '../runtime';
import { EngineWatch } from './engine-watch';
import { RunTask, type RunEngine, type RunPhase, type RunPods } from './run-task';
import type { RunAssignment, RunReporter } from './run-types';
import { Limiter } from './limiter';

export type { RunAssignment, RunReporter } from './run-types';
export type { RunEngine, RunPhase, RunPods } from './run-task';

export interface RunExecutorOptions {
  /** This node (label ozy.node): only its containers are touched. */
  node: string;
  engine: RunEngine;
  /** The node's PodRuntime (runtime/pod.ts). */
  pods: RunPods;
  reporter: RunReporter;
  log: Logger;
  /** Clock of deadlines and finish times. Default Date.now. */
  now?: () => number;
  /** Back-off of a failed step (engine call, report, removal): base doubling to max. Default 1000 → 30000 ms. */
  retry?: { baseMs: number; maxMs: number };
  /** Event stream reconnect back-off (EngineWatch). Default 250 → 2000 ms. */
  eventRetry?: { baseMs: number; maxMs: number };
  /** Pod starts and removals under way at once on this node. Default RUN_ENGINE_CONCURRENCY. */
  engineConcurrency?: number;
}

/** Run pods started or removed at once per node: enough to keep the engine busy, few enough not to swamp it. */
export const RUN_ENGINE_CONCURRENCY = 8;

/** A listing that failed (resync, orphan removal) is tried again this soon. */
const RESYNC_RETRY_MS = 5000;

export class RunExecutor {
  /** By instance name: the current attempt of each assigned instance, finished ones included until they leave the assignment. */
  private readonly tasks = new Map<string, RunTask>();
  /** Instances whose pod is being removed (cancelled tasks): a new task of the same name starts after, and orphan removal leaves them alone. */
  private readonly leaving = new Map<string, { task: RunTask; gone: Promise<void> }>();
  /** Instance names of the last assign(); undefined before the first (nothing counts as an orphan yet). */
  private assigned: ReadonlySet<string> | undefined;
  private started = false;
  private closed = false;
  /** A listing of this node's run containers succeeded since start(), and the instances it showed. */
  private listedOnce = false;
  private seenAtListing: ReadonlySet<string> = new Set();
  private watch: EngineWatch | undefined;
  private resyncRun: Promise<Error | undefined> | undefined;
  private resyncAgain = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly retry: { baseMs: number; maxMs: number };
  private readonly engineSlots: Limiter;

  constructor(private readonly opts: RunExecutorOptions) {
    this.now = opts.now ?? Date.now;
    this.engineSlots = new Limiter(opts.engineConcurrency ?? RUN_ENGINE_CONCURRENCY);
    this.retry = opts.retry ?? { baseMs: 1000, maxMs: 30_000 };
  }

  /**
   * The complete set of run instances this node must run now. Idempotent;
   * call it on every change. A new instance (or a new attempt of one) is
   * started; an instance no longer in the set that still has containers
   * here is stopped and removed without a report; an instance already
   * reported stays reported while it is named.
   */
  assign(list: readonly RunAssignment[]): void {
    if (this.closed) return;
    const wanted = new Map(list.map((a) => [a.instance, a]));
    const first = this.assigned === undefined;
    this.assigned = new Set(wanted.keys());
    // 1. what left (or is now another run or attempt under the same name): removed, no report
    for (const [instance, task] of this.tasks) {
      const a = wanted.get(instance);
      if (a === undefined || !sameAttempt(a, task.a)) this.cancel(instance, task);
    }
    // 2. what is new: a task each, started after any pod of the same name is gone
    for (const a of wanted.values()) {
      if (this.tasks.has(a.instance)) continue;
      const leaving = this.leaving.get(a.instance)?.gone;
      // Past start()'s listing, a new name with nothing leaving has no containers to adopt.
      const task = new RunTask(a, this.taskDeps(), leaving, this.listedOnce && leaving === undefined && !this.seenAtListing.has(a.instance));
      this.tasks.set(a.instance, task);
      if (this.started) task.kick();
    }
    // 3. the first assignment after start(): leftovers of runs no longer here can go now
    if (first && this.started) void this.resync();
  }

  /**
   * Subscribes to the engine's events for this node's run containers, then
   * lists them once: assigned pods still running are adopted (no second
   * container), pods that exited while the agent was away are reported, pods
   * not assigned are removed (once an assignment is known). Rejects when
   * the listing fails; the subscription stays and lists again when the
   * engine answers.
   */
  async start(): Promise<void> {
    if (this.started || this.closed) return;
    this.started = true;
    this.watch = new EngineWatch({
      node: this.opts.node,
      labels: [LABEL.run],
      engine: this.opts.engine,
      log: this.opts.log,
      onEvent: (ev) => this.route(ev),
      onResync: () => void this.resync(),
      ...(this.opts.eventRetry ? { retryBaseMs: this.opts.eventRetry.baseMs, retryMaxMs: this.opts.eventRetry.maxMs } : {}),
    });
    this.watch.start();
    for (const task of this.tasks.values()) task.kick();
    const error = await this.resync();
    if (error !== undefined) throw error;
  }

  /** Stops timers and the event stream and waits for steps under way; never stops a container. */
  async stop(): Promise<void> {
    this.closed = true;
    this.watch?.stop();
    clearTimeout(this.resyncTimer);
    const tasks = [...this.tasks.values(), ...[...this.leaving.values()].map((l) => l.task)];
    for (const t of tasks) t.close();
    await Promise.all([...tasks.map((t) => t.idle()), this.resyncRun]);
  }

  /**
   * Fencing (the node's lease expired): removes every run container of this
   * node now, without reports (etcd records these runs as lost). Rejects
   * when some could not be removed; the executor stays usable, with an
   * empty assignment until the next assign().
   */
  async removeAll(): Promise<void> {
    this.assign([]);
    await Promise.all([...this.leaving.values()].map((l) => l.gone));
    const found = await this.opts.engine.listManaged(this.opts.node, { hasLabel: LABEL.run });
    for (const instance of groupByInstance(found).keys()) {
      await this.opts.pods.stopPod(instance);
      await this.opts.pods.cleanupVolumes(instance);
    }
  }

  /** Each assigned instance's attempt and phase: for status, metrics and tests. */
  phases(): Array<{ instance: string; run: string; attempt: number; phase: RunPhase }> {
    return [...this.tasks.values()]
      .map((t) => ({ instance: t.a.instance, run: t.a.run, attempt: t.a.attempt, phase: t.phase }))
      .sort((x, y) => x.instance.localeCompare(y.instance));
  }

  // ── helpers ───────────────────────────────────────────────────────

  private taskDeps(): ConstructorParameters<typeof RunTask>[1] {
    const { node, engine, pods, reporter, log } = this.opts;
    return { node, engine, pods, reporter, log, now: this.now, retry: this.retry, engineSlots: this.engineSlots };
  }

  private cancel(instance: string, task: RunTask): void {
    this.tasks.delete(instance);
    const gone = task.cancel().finally(() => {
      if (this.leaving.get(instance)?.gone === gone) this.leaving.delete(instance);
    });
    this.leaving.set(instance, { task, gone });
  }

  /** Events of one run's containers go to its task; everything else (service containers, under podman) is dropped. */
  private route(ev: EngineEvent): void {
    const run = ev.labels[LABEL.run];
    const task = this.tasks.get(ev.labels[LABEL.instance] ?? '');
    if (run !== undefined && task !== undefined && task.a.run === run) task.notify(ev);
  }

  /**
   * One listing after another, never two at once; a call during one asks
   * for one more. Resolves with the last listing's error (retried soon), if
   * it failed.
   */
  private resync(): Promise<Error | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    if (this.resyncRun) {
      this.resyncAgain = true;
      return this.resyncRun;
    }
    const run = (async (): Promise<Error | undefined> => {
      let error: Error | undefined;
      do {
        this.resyncAgain = false;
        try {
          await this.listAndSweep();
          error = undefined;
        } catch (err) {
          error = err instanceof Error ? err : new Error(String(err));
          this.opts.log.warn({ err: error.message }, 'cannot list cron run containers; retrying');
          clearTimeout(this.resyncTimer);
          this.resyncTimer = setTimeout(() => void this.resync(), RESYNC_RETRY_MS);
          this.resyncTimer.unref();
        }
      } while (this.resyncAgain && !this.closed);
      return error;
    })().finally(() => (this.resyncRun = undefined));
    this.resyncRun = run;
    return run;
  }

  /**
   * Lists this node's run containers: every running task looks at its pod
   * again (an event may have been missed); pods of instances not assigned
   * (and not already being removed) are removed, once an assignment is known.
   */
  private async listAndSweep(): Promise<void> {
    const found = await this.opts.engine.listManaged(this.opts.node, { hasLabel: LABEL.run });
    this.seenAtListing = new Set(groupByInstance(found).keys());
    this.listedOnce = true;
    for (const task of this.tasks.values()) if (task.phase === 'running') task.kick();
    if (this.assigned === undefined) return;
    for (const instance of groupByInstance(found).keys()) {
      if (this.assigned.has(instance) || this.tasks.has(instance) || this.leaving.has(instance)) continue;
      this.opts.log.info({ instance }, 'removing cron run pod not assigned here (no report)');
      // Its spec is unknown here: the runtime's default grace.
      await this.opts.pods.stopPod(instance);
      await this.opts.pods.cleanupVolumes(instance);
    }
  }
}

function sameAttempt(a: RunAssignment, b: RunAssignment): boolean {
  return a.job === b.job && a.run === b.run && a.attempt === b.attempt;
}
