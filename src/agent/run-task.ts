// One cron run pod on this node, from start (or adoption) to the report of
// its exit and the removal of its containers. Steps, each only after the
// previous one succeeded, so a crash anywhere loses nothing (start() of a
// new executor finds the containers again):
//   1. start  — adopt this attempt's containers if they exist (the agent
//               restarted), else start the pod; a pod that cannot start
//               (pull, create...) is finished at once with that reason
//   2. running — wait for engine events; on each, one listing of the pod:
//               finished once nothing of it runs; at the activeDeadline the
//               pod is stopped (kept, for its codes and output) first
//   3. report — reportExit until etcd has it (retried with back-off)
//   4. cleanup — only now remove the containers and local volumes
// Every step is retried with back-off when the engine or the reporter
// fails; cancel() (the run left the assignment) removes the pod without a
// report, whatever step it is in.
import type { Logger } from 'pino';
import { OUTPUT_TAIL_BYTES, type InstanceExit } from '../model/cron';
import { podTemplateHash } from '../model/hash';
import {
  ContainerNotFoundError,
  EngineUnavailableError,
  LABEL,
  PodStartError,
  PullError,
  podOf,
  stopOptionsOf,
  stopOrder,
  type ContainerEngine,
  type EngineEvent,
  type InspectedContainer,
  type PodRuntime,
} from '../runtime';
import { NEVER_RAN, deadlineBeforeStartExit, runExit, startFailureExit, utf8Tail, type ExitedContainer } from './run-exit';
import type { RunAssignment, RunReporter } from './run-types';
import type { Limiter } from './limiter';

export type RunEngine = Pick<ContainerEngine, 'listManaged' | 'outputTail' | 'events' | 'remove' | 'inspect'>;
export type RunPods = Pick<PodRuntime, 'startPod' | 'stopPod' | 'haltPod' | 'cleanupVolumes'>;

export type RunPhase = 'start' | 'running' | 'report' | 'cleanup' | 'done';

export interface RunTaskDeps {
  node: string;
  engine: RunEngine;
  pods: RunPods;
  reporter: RunReporter;
  log: Logger;
  now: () => number;
  /** Back-off of a failed step: base, doubling up to max. */
  retry: { baseMs: number; maxMs: number };
  /** Pod starts and removals of the whole node go through it (a few at a time). */
  engineSlots: Limiter;
}

/** setTimeout's limit (about 24.8 days); a longer deadline is re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class RunTask {
  phase: RunPhase = 'start';
  private exit: InstanceExit | undefined;
  /** Stopped at its activeDeadline: the exit's reason, whatever the codes. */
  private halted = false;
  private cancelled = false;
  private closed = false;
  /** Steps run one after another on this chain; it starts after the previous task of the same instance is gone. */
  private chain: Promise<void>;
  private queued = false;
  private failures = 0;
  /** This attempt's container ids once started or adopted: a check inspects them, no listing. */
  private ids: string[] | undefined;
  /** The pod's containers as the check that found it finished saw them: removed by id, no second listing. */
  private finished: InspectedContainer[] | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    readonly a: RunAssignment,
    private readonly deps: RunTaskDeps,
    after: Promise<void> = Promise.resolve(),
    /**
     * Nothing of this instance can exist yet: the executor's listing since
     * start() showed none and no earlier task of the name is left. Then the
     * start skips looking for containers to adopt (one listing less per run).
     */
    private readonly fresh = false,
  ) {
    this.chain = after;
    this.log = deps.log.child({ run: a.run, instance: a.instance, attempt: a.attempt });
  }

  /** When activeDeadline stops it (epoch ms); undefined without one. */
  get deadlineAt(): number | undefined {
    const ms = this.a.activeDeadlineMs ?? this.a.spec.cron?.activeDeadlineMs;
    return ms === undefined ? undefined : Date.parse(this.a.startedAt) + ms;
  }

  /** Runs the next steps (coalesced: one queued run at most). */
  kick(): void {
    if (this.queued || this.cancelled || this.closed) return;
    this.queued = true;
    this.chain = this.chain.then(() => {
      this.queued = false;
      return this.drive();
    });
  }

  /** An engine event of one of its containers: a running pod may have finished. */
  notify(ev: EngineEvent): void {
    if (this.phase !== 'running') return;
    // podman: die, then cleanup (`other`); dockerd: oom, die, stop. Any of them may be the last word.
    if (ev.action === 'die' || ev.action === 'oom' || ev.action === 'stop' || ev.action === 'destroy' || ev.rawAction === 'cleanup') this.kick();
  }

  /**
   * The run left this node's assignment (replaced, deleted, moved, or a new
   * attempt): stop and remove its pod, no report. Resolves when it is gone;
   * a failed removal is retried with back-off until it succeeds or the
   * executor closes.
   */
  cancel(): Promise<void> {
    if (this.cancelled) return this.chain;
    this.cancelled = true;
    this.clearTimers();
    if (this.phase === 'done') return this.chain;
    this.chain = this.chain.then(() => this.removeUntilGone());
    return this.chain;
  }

  /** The executor stops: no more steps or timers; the containers stay as they are. */
  close(): void {
    this.closed = true;
    this.clearTimers();
  }

  /** Resolves when no step is under way. */
  idle(): Promise<void> {
    return this.chain;
  }

  private clearTimers(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.deadlineTimer);
    this.retryTimer = undefined;
    this.deadlineTimer = undefined;
  }

  private async drive(): Promise<void> {
    try {
      while (!this.cancelled && !this.closed && this.phase !== 'done') {
        const before = this.phase;
        await this.step();
        // 'running' stays put until an event (or the deadline) says more.
        if (this.phase === before) break;
      }
      this.failures = 0;
    } catch (err) {
      if (this.cancelled || this.closed) return;
      const delay = Math.min(this.deps.retry.maxMs, this.deps.retry.baseMs * 2 ** Math.min(this.failures++, 16));
      this.log.warn({ err: errText(err), phase: this.phase, retryInMs: delay }, 'cron run step failed; retrying');
      this.retryTimer = setTimeout(() => this.kick(), delay);
      this.retryTimer.unref();
    }
  }

  private async step(): Promise<void> {
    switch (this.phase) {
      case 'start':
        return this.startOrAdopt();
      case 'running':
        return this.check();
      case 'report':
        await this.deps.reporter.reportExit(this.a, this.exit!);
        this.log.info({ reason: this.exit!.reason }, 'cron run exit reported');
        this.phase = 'cleanup';
        return;
      case 'cleanup':
        await this.removeFinished();
        this.phase = 'done';
        return;
      case 'done':
        return;
    }
  }

  // 1. start, or adopt what an earlier agent started
  private async startOrAdopt(): Promise<void> {
    const found = this.fresh ? [] : await this.deps.engine.listManaged(this.deps.node, { instance: this.a.instance, hasLabel: LABEL.run });
    if (found.some((c) => this.isMine(c))) {
      this.log.info({ containers: found.length }, 'adopting cron run pod');
      this.ids = found.filter((c) => this.isMine(c)).map((c) => c.id);
      this.running();
      return;
    }
    // Leftovers of another attempt (or run) under this instance name: out first, no report (not ours to report).
    if (found.length > 0) await this.remove();
    const names = this.a.spec.containers.map((c) => c.name);
    const deadline = this.deadlineAt;
    if (deadline !== undefined && this.deps.now() >= deadline) {
      this.finish(deadlineBeforeStartExit(names, this.isoNow()));
      return;
    }
    const pod = { ...podOf(this.a.spec, podTemplateHash(this.a.spec), this.a.instance), labels: { [LABEL.run]: this.a.run, [LABEL.attempt]: String(this.a.attempt) } };
    try {
      this.log.info('starting cron run pod');
      const queuedAt = Date.now();
      const started = await this.deps.engineSlots.run(async () => {
        const t = Date.now();
        const r = await this.deps.pods.startPod(pod);
        this.log.debug({ waitedMs: t - queuedAt, startMs: Date.now() - t }, 'cron run pod started');
        return r;
      });
      this.ids = started.containers.map((c) => c.id);
    } catch (err) {
      // An engine that cannot be reached says nothing about the run: try again. Anything else fails the run.
      if (!(err instanceof PodStartError) || err.cause instanceof EngineUnavailableError) throw err;
      const message = err.cause instanceof PullError ? err.cause.registryMessage : errText(err.cause);
      this.finish(startFailureExit(names, { container: err.container, step: err.step, message }, this.isoNow()));
      return;
    }
    this.running();
  }

  private running(): void {
    this.phase = 'running';
    this.armDeadline();
  }

  private armDeadline(): void {
    const at = this.deadlineAt;
    if (at === undefined || this.halted) return;
    const delay = Math.max(0, at - this.deps.now());
    this.deadlineTimer = setTimeout(() => (delay > MAX_TIMER_MS ? this.armDeadline() : this.kick()), Math.min(delay, MAX_TIMER_MS));
    this.deadlineTimer.unref();
  }

  // 2. one look at the pod: stop it at its deadline; finished once nothing runs
  private async check(): Promise<void> {
    const deadline = this.deadlineAt;
    if (!this.halted && deadline !== undefined && this.deps.now() >= deadline) {
      this.log.info({ activeDeadlineMs: deadline - Date.parse(this.a.startedAt) }, 'cron run reached its activeDeadline; stopping it');
      await this.deps.pods.haltPod(this.a.instance, stopOptionsOf(this.a.spec));
      this.halted = true;
    }
    const mine = await this.look();
    if (mine.some(isRunning)) return;
    const byName = new Map(mine.map((c) => [c.labels[LABEL.container] ?? '', c]));
    const containers: ExitedContainer[] = [];
    for (const spec of this.a.spec.containers) containers.push(await this.exited(spec.name, byName.get(spec.name)));
    this.finished = mine;
    this.finish(runExit(containers, { deadline: this.halted, finishedAt: lastFinish(mine) ?? this.isoNow() }));
  }

  /** This attempt's containers now: by id when known (one inspect each), else one listing. */
  private async look(): Promise<InspectedContainer[]> {
    if (this.ids === undefined) {
      return (await this.deps.engine.listManaged(this.deps.node, { instance: this.a.instance, hasLabel: LABEL.run })).filter((c) => this.isMine(c));
    }
    const out: InspectedContainer[] = [];
    for (const id of this.ids) {
      try {
        out.push(await this.deps.engine.inspect(id));
      } catch (err) {
        // Gone (removed by hand, or the engine lost it): exited() says "missing".
        if (!(err instanceof ContainerNotFoundError)) throw err;
      }
    }
    return out;
  }

  private async exited(name: string, c: InspectedContainer | undefined): Promise<ExitedContainer> {
    if (c === undefined) return { name, exitCode: NEVER_RAN, oomKilled: false, lost: 'missing', output: '' };
    // Created but never started (an agent that died mid-start): its exit code 0 means nothing.
    if (c.state === 'created') return { name, exitCode: NEVER_RAN, oomKilled: false, lost: 'never started', output: '' };
    let output = '';
    try {
      output = utf8Tail(await this.deps.engine.outputTail(c.id, OUTPUT_TAIL_BYTES));
    } catch (err) {
      if (!(err instanceof ContainerNotFoundError)) throw err;
    }
    return { name, exitCode: c.exitCode, oomKilled: c.oomKilled, output };
  }

  private finish(exit: InstanceExit): void {
    clearTimeout(this.deadlineTimer);
    this.exit = exit;
    this.phase = 'report';
    this.log.info({ exitCodes: exit.exitCodes, reason: exit.reason }, 'cron run pod finished');
  }

  // 4. containers and local volumes go only after the report (or on cancel)
  private async remove(): Promise<void> {
    await this.deps.engineSlots.run(async () => {
      await this.deps.pods.stopPod(this.a.instance, stopOptionsOf(this.a.spec));
      await this.deps.pods.cleanupVolumes(this.a.instance);
    });
  }

  /** After the report: the containers the last check saw, by id (exited: nothing to stop); else as any removal. */
  private async removeFinished(): Promise<void> {
    const seen = this.finished;
    if (!seen) return this.remove();
    await this.deps.engineSlots.run(async () => {
      for (const c of stopOrder(seen)) {
        try {
          await this.deps.engine.remove(c.id, { force: true });
        } catch (err) {
          if (!(err instanceof ContainerNotFoundError)) throw err;
        }
      }
      await this.deps.pods.cleanupVolumes(this.a.instance);
    });
  }

  private async removeUntilGone(): Promise<void> {
    for (let failures = 0; !this.closed; failures++) {
      try {
        await this.remove();
        this.log.info({ phase: this.phase }, 'cron run pod removed (no longer assigned here)');
        return;
      } catch (err) {
        const delay = Math.min(this.deps.retry.maxMs, this.deps.retry.baseMs * 2 ** Math.min(failures, 16));
        this.log.warn({ err: errText(err), retryInMs: delay }, 'cannot remove cron run pod; retrying');
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  }

  /** This run's and attempt's container (not a leftover of another attempt under the same instance name). */
  private isMine(c: InspectedContainer): boolean {
    return c.labels[LABEL.run] === this.a.run && c.labels[LABEL.attempt] === String(this.a.attempt);
  }

  private isoNow(): string {
    return new Date(this.deps.now()).toISOString();
  }
}

function isRunning(c: InspectedContainer): boolean {
  // 'created' is never started (see exited()); exited, dead and removing are over.
  return c.state === 'running' || c.state === 'restarting' || c.state === 'paused' || c.state === 'unknown';
}

/** The latest finish time of the pod's containers (ISO), when the engine says. */
function lastFinish(containers: readonly InspectedContainer[]): string | undefined {
  const times = containers.map((c) => (c.finishedAt ? Date.parse(c.finishedAt) : NaN)).filter((t) => Number.isFinite(t));
  return times.length > 0 ? new Date(Math.max(...times)).toISOString() : undefined;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
