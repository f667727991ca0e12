// `ozy status JOB`: one job as a user debugging it wants it — the accepted
// commit and spec, where every instance is and, for each one that is not
// healthy, why (the failing check's result, the exit or OOM kill, the
// per-node reasons it is pending); the update in progress, a cron job's
// runs and the job's rejection report. Built from the same ClusterStatus
// as `ozy status` (pure), so the two never disagree.
import type { ClusterStatus, InstanceRow, JobRow } from '../agent/cluster-status';
import type { Rejection } from '../model/cluster';
import type { Problem } from '../model/problem';
import type { RunsOutput } from './commands/runs';
import { formatAge, table } from './table';

export interface JobStatus {
  job: string;
  /** The accepted job; null when git has it but it was never accepted (see the report). */
  accepted: JobRow | null;
  instances: InstanceRow[];
  /** Cron jobs: the next run and the kept runs, newest first. */
  runs?: RunsOutput;
  /** Its rejection report, when the job's latest version was rejected. */
  report: { key: string; commit: string; at: string; problem: Problem } | null;
}

/** undefined when etcd knows nothing of `job` (not accepted, no report, no runs). */
export function jobStatus(status: ClusterStatus, job: string, rejection: Rejection | undefined, runs: RunsOutput | undefined): JobStatus | undefined {
  const accepted = status.jobs.find((j) => j.name === job) ?? null;
  if (!accepted && !rejection && !runs) return undefined;
  return {
    job,
    accepted,
    instances: status.instances.filter((i) => i.job === job),
    ...(runs ? { runs } : {}),
    report: rejection ? { key: rejection.key, commit: rejection.commit, at: rejection.at, problem: rejection.problem } : null,
  };
}

export function formatJobStatus(s: JobStatus, now = Date.now()): string {
  const out: string[] = [];
  const j = s.accepted;
  if (!j) {
    out.push(`JOB ${s.job}   not accepted${s.report ? ' (rejected: see REPORT)' : ''}`);
  } else {
    out.push(`JOB ${j.name}   ${j.type}   ${j.rollout}`);
    const fields: Array<[string, string]> = [
      ['file', j.file],
      ['commit', `${j.commit} (accepted ${formatAge(j.acceptedAt, now)} ago)`],
      ['spec', j.specHash],
      ['instances', `${j.desired} desired, ${j.placed} placed, ${j.pending} pending, ${j.healthy} healthy`],
    ];
    if (j.update) {
      const u = j.update;
      fields.push(['update', `${u.kind} to ${u.commit.slice(0, 12)}: ${u.done}/${u.total} done${u.batch.length > 0 ? `, now ${u.batch.join(', ')}` : ''}${u.blocked ? `; ${u.blocked}` : ''}${u.halted ? ' (halted)' : ''}`]);
    }
    if (j.failedUpdate) {
      const f = j.failedUpdate;
      fields.push(['failed', `update to ${f.commit.slice(0, 12)} failed on ${f.instance}: ${f.reason}${f.reverted ? ' (reverted)' : ''}`]);
    }
    if (j.autoscale) {
      const a = j.autoscale;
      fields.push(['autoscale', `${a.count} (min ${a.min}, max ${a.max}), CPU ${a.measuredPercent === null ? '-' : `${a.measuredPercent}%`} of target ${a.targetPercent}%: ${a.state}`]);
    }
    if (j.cron) fields.push(['schedule', `${j.cron.schedule} (${j.cron.timeZone}), next run ${j.cron.nextRunAt ?? '-'}, ${j.cron.active} active`]);
    const width = Math.max(...fields.map(([k]) => k.length));
    for (const [k, v] of fields) out.push(`  ${k.padEnd(width)}  ${v}`);
  }
  if (s.instances.length > 0) {
    out.push('', 'INSTANCES');
    out.push(
      table(
        ['INSTANCE', 'NODE', 'ZONE', 'STATE', 'HEALTH', 'RESTARTS', 'FOR', 'WHY'],
        s.instances.map((i) => [i.instance, i.node ?? '-', i.zone ?? '-', i.state, i.health, String(i.restarts), formatAge(i.since, now), why(i)]),
      ).trimEnd(),
    );
    for (const i of s.instances) {
      const lines = detailLines(i, now);
      if (lines.length > 0) out.push(`  ${i.instance}:`, ...lines.map((l) => `    ${l}`));
    }
  }
  if (s.runs && s.runs.runs.length > 0) {
    out.push('', 'RUNS (newest first; `ozy runs` has their output)');
    out.push(table(['RUN', 'SCHEDULED', 'RESULT', 'NODE', 'REASON'], s.runs.runs.slice(0, 10).map((r) => [r.run, r.scheduledAt, r.result, r.node ?? '-', r.reason ?? ''])).trimEnd());
  }
  out.push('', 'REPORT');
  if (!s.report) out.push('  (none)');
  else {
    const p = s.report.problem;
    out.push(`  ${p.title} at commit ${s.report.commit.slice(0, 12)} (${formatAge(s.report.at, now)} ago)`);
    out.push(`  ${p.detail}`);
    for (const e of p.errors ?? []) out.push(`    ${e.pointer}: ${e.message}`);
    const nodes = p.nodes;
    if (nodes && typeof nodes === 'object') for (const [n, r] of Object.entries(nodes as Record<string, unknown>)) out.push(`    ${n}: ${String(r)}`);
    out.push(`  ${p.type}`);
  }
  return `${out.join('\n')}\n`;
}

/** One line: a healthy instance needs no why. */
function why(i: InstanceRow): string {
  if (i.state === 'healthy') return '';
  if (i.state === 'lost') return `node ${i.node ?? '-'} is not alive`;
  return i.message ?? '';
}

/** Below the table: the per-node reasons of a pending instance, the latest restart. */
function detailLines(i: InstanceRow, now: number): string[] {
  const lines: string[] = [];
  if (i.waitingSeconds !== undefined) lines.push(`pending for ${formatAge(i.since, now)}`);
  for (const [node, reason] of Object.entries(i.nodeReasons ?? {})) lines.push(`${node}: ${reason}`);
  if (i.lastRestart) lines.push(`last restart ${formatAge(i.lastRestart.at, now)} ago: ${i.lastRestart.cause}`);
  return lines;
}
