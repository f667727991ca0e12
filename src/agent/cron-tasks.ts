// node-cron tasks for the cron jobs, rebuilt when a job's schedule or time
// zone changes. A task only says "a scheduled time came": what happens then
// (claim, skip, place) is the cron round's, against etcd.
//
// Jobs with the same schedule in the same zone share one task. node-cron
// does its own date arithmetic in every task at every tick, and a thousand
// tasks due at the same second (Stripe's thousand jobs every minute) kept
// the event loop busy for half a second exactly when the round should run;
// one task per distinct schedule fires once and names every job it covers.
import * as nodeCron from 'node-cron';
import type { AcceptedJob } from '../model/cluster';
import { cronPolicyOf } from '../cron/run-load';

interface Task {
  task: nodeCron.ScheduledTask;
  jobs: Set<string>;
}

export class CronTasks {
  /** By schedule + zone. */
  private readonly tasks = new Map<string, Task>();
  /** job → the key of its task. */
  private readonly jobKey = new Map<string, string>();

  /** `onDue(jobs, at)` is called at each scheduled time, with every job due then (at: the time, unix ms). */
  constructor(private readonly onDue: (jobs: ReadonlySet<string>, at: number) => void) {}

  /** Makes the tasks match `jobs` (every accepted cron job). */
  sync(jobs: Iterable<AcceptedJob>): void {
    const seen = new Set<string>();
    for (const job of jobs) {
      const policy = cronPolicyOf(job);
      if (!policy) continue;
      const name = job.spec.name;
      seen.add(name);
      const key = `${policy.schedule}\n${policy.timeZone}`;
      const before = this.jobKey.get(name);
      if (before === key) continue;
      if (before !== undefined) this.leave(name, before);
      const task = this.tasks.get(key) ?? this.create(key, policy.schedule, policy.timeZone);
      // Validation refused such a schedule already; an accepted job this node-cron cannot parse is left to the other agents.
      if (!task) continue;
      task.jobs.add(name);
      this.jobKey.set(name, key);
    }
    for (const [name, key] of this.jobKey) if (!seen.has(name)) this.leave(name, key);
  }

  /** Distinct node-cron tasks. */
  get size(): number {
    return this.tasks.size;
  }

  stop(): void {
    for (const t of this.tasks.values()) void t.task.destroy();
    this.tasks.clear();
    this.jobKey.clear();
  }

  private create(key: string, schedule: string, timeZone: string): Task | undefined {
    const jobs = new Set<string>();
    try {
      const task = nodeCron.schedule(schedule, (ctx) => this.onDue(jobs, ctx.date.getTime()), {
        timezone: timeZone,
        // Our rounds decide what a late or missed time means, not node-cron.
        suppressMissedWarning: true,
        unref: true,
      });
      const t = { task, jobs };
      this.tasks.set(key, t);
      return t;
    } catch {
      return undefined;
    }
  }

  private leave(name: string, key: string): void {
    this.jobKey.delete(name);
    const t = this.tasks.get(key);
    if (!t) return;
    t.jobs.delete(name);
    if (t.jobs.size > 0) return;
    void t.task.destroy();
    this.tasks.delete(key);
  }
}
