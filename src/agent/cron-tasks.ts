// One node-cron task per cron job, rebuilt when a job's schedule or time
// zone changes. A task only says "a scheduled time of this job came": what
// happens then (claim, skip, place) is the cron round's, against etcd.
import * as nodeCron from 'node-cron';
import type { AcceptedJob } from '../model/cluster';
import { cronPolicyOf } from '../cron/run-load';

interface Task {
  /** schedule + zone: a change of either rebuilds the task. */
  key: string;
  task: nodeCron.ScheduledTask;
}

export class CronTasks {
  private readonly tasks = new Map<string, Task>();

  /** `onDue(job, at)` is called at each scheduled time of each job (at: the time, unix ms). */
  constructor(private readonly onDue: (job: string, at: number) => void) {}

  /** Makes the tasks match `jobs` (every accepted cron job). */
  sync(jobs: Iterable<AcceptedJob>): void {
    const seen = new Set<string>();
    for (const job of jobs) {
      const policy = cronPolicyOf(job);
      if (!policy) continue;
      const name = job.spec.name;
      seen.add(name);
      const key = `${policy.schedule}\n${policy.timeZone}`;
      const existing = this.tasks.get(name);
      if (existing?.key === key) continue;
      if (existing) void existing.task.destroy();
      try {
        const task = nodeCron.schedule(policy.schedule, (ctx) => this.onDue(name, ctx.date.getTime()), {
          timezone: policy.timeZone,
          name: `ozy-${name}`,
          // Our rounds decide what a late or missed time means, not node-cron.
          suppressMissedWarning: true,
          unref: true,
        });
        this.tasks.set(name, { key, task });
      } catch {
        // Validation refused such a schedule already; an accepted job from a newer version we cannot parse is left to the other agents.
        this.tasks.delete(name);
      }
    }
    for (const [name, t] of this.tasks) {
      if (seen.has(name)) continue;
      void t.task.destroy();
      this.tasks.delete(name);
    }
  }

  get size(): number {
    return this.tasks.size;
  }

  stop(): void {
    for (const t of this.tasks.values()) void t.task.destroy();
    this.tasks.clear();
  }
}
