// `ozy status [JOB] [--etcd URL] [--json]`: nodes, jobs, instances and
// rejections; or one job with the why of each instance (cli/job-status.ts).
import { parseArgs } from 'node:util';
import { buildClusterStatus, type ClusterStatus } from '../../agent/cluster-status';
import { formatBytes, formatCpu } from '../../schedule';
import { ClusterStore } from '../../store';
import { nextRunAt } from '../../cron/next-run';
import type { Command, CommandIo } from '../command';
import { formatAge, table } from '../table';
import { ETCD_ACCESS_USAGE, ETCD_OPTIONS, etcdConnection, storeFailure } from '../etcd-options';
import { formatJobStatus, jobStatus, type JobStatus } from '../job-status';
import { readRuns } from './runs';
import type { Rejection } from '../../model/cluster';

const USAGE = `Usage: ozy status [JOB] [--etcd URL] [--json] [--etcd-prefix P]

With JOB: that job alone — its accepted commit and spec hash, update
progress, each instance (node, zone, state, health, restarts and, when it
is not healthy, why: the failing health check's result such as
"GET /health → 404" or "connection refused", the exit code or OOM kill, the
pull error, the per-node reasons it is pending; the latest restart's
cause), a cron job's runs, and its rejection report. Exit 1 when etcd knows
nothing of JOB.

Without: the cluster as etcd holds it:
  nodes       capacity, allocated, zone, lease alive, the agent's git head and last git error
  jobs        accepted commit, instances desired / placed / pending / healthy
  instances   node, state (pending, pulling, starting, healthy, unhealthy, exited, failed; lost
              when its node died and it is not rescheduled yet), restarts, how long in this placement;
              a pending instance says how long it has waited and why
  cron jobs   schedule, next run, active runs, the last run's result (ozy runs JOB: all kept runs)
  autoscaled  count, bounds, measured CPU (average of the counted instances) and target, the count
              that asks for, capped by capacity when more are wanted than fit
  runs        active cron runs: pending (how long, why) or running (where)
  rejections  the problem each rejected job or file got

Options:
  --etcd URL        etcd endpoints, comma-separated (or OZY_ETCD; else the
                    running ozy up's, else http://127.0.0.1:2379)
  --etcd-prefix P   key prefix (default /ozy, or OZY_ETCD_PREFIX)
${ETCD_ACCESS_USAGE}  --json            print the status as JSON
`;

export const command: Command = {
  summary: 'nodes, jobs, instances and rejections of the live cluster',
  usage: USAGE,
  async run(argv: string[], io: CommandIo): Promise<number> {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...ETCD_OPTIONS, json: { type: 'boolean' } },
    });
    if (positionals.length > 1) {
      io.stderr.write(`ozy status: one JOB at most (got ${positionals.join(' ')})\n\n${USAGE}`);
      return 2;
    }
    const conn = etcdConnection(values, io.env, { discover: true });
    if ('problem' in conn) {
      io.stderr.write(`ozy status: ${conn.problem}\n\n${USAGE}`);
      return 1;
    }
    const store = ClusterStore.connect(conn);
    try {
      const job = positionals[0];
      if (job !== undefined) {
        const one = await readJobStatus(store, job);
        if (!one) {
          io.stderr.write(`ozy status: no job named "${job}" is accepted, rejected or scheduled (\`ozy status\` lists them)\n`);
          return 1;
        }
        io.stdout.write(values.json ? `${JSON.stringify(one, null, 2)}\n` : formatJobStatus(one));
        return 0;
      }
      const status = await readClusterStatus(store);
      io.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
      return 0;
    } catch (err) {
      return storeFailure('status', err, io);
    } finally {
      await store.close();
    }
  },
};

export async function readClusterStatus(store: ClusterStore): Promise<ClusterStatus> {
  return (await readStatusAndSnapshot(store)).status;
}

/** One job's status; undefined when etcd knows nothing of it. */
export async function readJobStatus(store: ClusterStore, job: string): Promise<JobStatus | undefined> {
  const [{ status, rejections }, runs] = await Promise.all([readStatusAndSnapshot(store), readRuns(store, job, Date.now())]);
  return jobStatus(status, job, rejections.get(job), runs);
}

async function readStatusAndSnapshot(store: ClusterStore): Promise<{ status: ClusterStatus; rejections: ReadonlyMap<string, Rejection> }> {
  const [snap, statuses, agents, poller, cpu] = await Promise.all([store.snapshot(), store.listInstanceStatus(), store.listAgentStatus(), store.getPoller(), store.readNodeCpu()]);
  const status = buildClusterStatus({ ...snap, statuses, agents, poller, nextRunAt, cpu, ...(snap.schedule ? { schedule: snap.schedule } : {}) });
  return { status, rejections: snap.rejections };
}

export function formatStatus(s: ClusterStatus, now = Date.now()): string {
  const out: string[] = [];
  out.push('NODES');
  out.push(
    table(
      ['NAME', 'ALIVE', 'ZONE', 'MEMORY', 'DISK', 'CPU', 'INSTANCES', 'GIT'],
      s.nodes.map((n) => [
        n.name,
        n.alive ? 'yes' : 'no',
        n.zone ?? '-',
        n.capacity ? `${formatBytes(n.allocated.memory)}/${formatBytes(n.capacity.memory)}` : formatBytes(n.allocated.memory),
        n.capacity ? `${formatBytes(n.allocated.disk)}/${formatBytes(n.capacity.disk)}` : formatBytes(n.allocated.disk),
        n.capacity ? `${formatCpu(n.allocated.cpu)}/${formatCpu(n.capacity.cpu)}` : formatCpu(n.allocated.cpu),
        String(n.instances),
        n.agent?.gitError ? `error: ${n.agent.gitError}` : n.agent?.head ? n.agent.head.slice(0, 12) : '-',
      ]),
    ),
  );
  out.push('JOBS');
  out.push(
    table(
      ['NAME', 'DESIRED', 'PLACED', 'PENDING', 'HEALTHY', 'COMMIT', 'STATE', 'FILE'],
      s.jobs.map((j) => [j.name, String(j.desired), String(j.placed), String(j.pending), String(j.healthy), j.commit.slice(0, 12), j.rollout, j.file]),
    ),
  );
  out.push('INSTANCES');
  out.push(
    table(
      ['INSTANCE', 'NODE', 'ZONE', 'STATE', 'HEALTH', 'RESTARTS', 'FOR', 'MESSAGE'],
      s.instances.map((i) => [
        i.instance,
        i.node ?? '-',
        i.away ? `${i.zone ?? '-'} (${i.away})` : (i.zone ?? '-'),
        i.state,
        i.health,
        String(i.restarts),
        formatAge(i.since, now),
        i.message ?? '',
      ]),
    ),
  );
  const cron = s.jobs.filter((j) => j.cron);
  if (cron.length > 0) {
    out.push('CRON JOBS');
    out.push(
      table(
        ['NAME', 'SCHEDULE', 'ZONE', 'NEXT RUN', 'ACTIVE', 'LAST RUN'],
        cron.map((j) => [
          j.name,
          j.cron!.schedule,
          j.cron!.timeZone,
          j.cron!.nextRunAt ?? '-',
          String(j.cron!.active),
          j.cron!.lastRun ? `${j.cron!.lastRun.run} ${j.cron!.lastRun.result}` : '-',
        ]),
      ),
    );
  }
  const scaled = s.jobs.filter((j) => j.autoscale);
  if (scaled.length > 0) {
    out.push('AUTOSCALED JOBS');
    out.push(
      table(
        ['NAME', 'COUNT', 'MIN-MAX', 'CPU', 'TARGET', 'WANTS', 'STATE'],
        scaled.map((j) => {
          const a = j.autoscale!;
          return [j.name, String(a.count), `${a.min}-${a.max}`, a.measuredPercent === null ? '-' : `${a.measuredPercent}% (${a.counted})`, `${a.targetPercent}%`, String(a.wants), a.state];
        }),
      ),
    );
  }
  if (s.runs.length > 0) {
    out.push('RUNS');
    out.push(
      table(
        ['RUN', 'STATE', 'NODES', 'FOR', 'REASON'],
        s.runs.map((r) => [r.run, r.attempt > 0 ? `${r.state} (attempt ${r.attempt + 1})` : r.state, r.nodes.join(',') || '-', formatAge(r.since, now), r.reason ?? '']),
      ),
    );
  }
  out.push('REJECTIONS');
  out.push(
    s.rejections.length === 0
      ? '(none)\n'
      : table(['KEY', 'COMMIT', 'PROBLEM'], s.rejections.map((r) => [r.key, r.commit.slice(0, 12), `${r.title}: ${r.detail}`])),
  );
  return out.join('\n');
}
