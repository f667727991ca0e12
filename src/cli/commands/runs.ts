// `ozy runs JOB --etcd URL [--json]`: a cron job's next scheduled time and
// its kept runs, newest first (the active ones from the run state, the ended
// ones from the history). Fields: DESIGN.md, "Cron jobs".
import { parseArgs } from 'node:util';
import type { ActiveRun, RunRecord } from '../../model/cron';
import { recordOf } from '../../cron/run-state';
import { nextRunAt } from '../../cron/next-run';
import { cronPolicyOf } from '../../cron/run-load';
import { ClusterStore } from '../../store';
import type { Command, CommandIo } from '../command';
import { ETCD_ACCESS_USAGE, ETCD_OPTIONS, etcdConnection, storeFailure } from '../etcd-options';
import { formatAge, table } from '../table';

const USAGE = `Usage: ozy runs JOB [--etcd URL] [--json] [--etcd-prefix P]

A cron job's next scheduled time and its runs, newest first: the active ones
(pending: waiting for room, with the reason; running) and the kept records
(succeeded, failed, missed, skipped, replaced) with exit codes, the reason and
the last 4 KiB of each container's output (--json).

Options:
  --etcd URL        etcd endpoints, comma-separated (or OZY_ETCD; else the
                    running ozy up's, else http://127.0.0.1:2379)
  --etcd-prefix P   key prefix (default /ozy, or OZY_ETCD_PREFIX)
${ETCD_ACCESS_USAGE}  --json            {"job", "nextRunAt", "runs": [{"run", "scheduledAt", "startedAt", "finishedAt",
                    "node", "result", "exitCodes", "reason", "output"}]}
`;

export interface RunsOutput {
  job: string;
  nextRunAt: string | null;
  runs: RunRecord[];
}

export const command: Command = {
  summary: "a cron job's next run and its kept runs",
  usage: USAGE,
  async run(argv: string[], io: CommandIo): Promise<number> {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...ETCD_OPTIONS, json: { type: 'boolean' } } });
    const conn = etcdConnection(values, io.env, { discover: true });
    const job = positionals[0];
    if ('problem' in conn || job === undefined || positionals.length > 1) {
      io.stderr.write(`ozy runs: ${job === undefined ? 'JOB is required' : positionals.length > 1 ? 'one JOB only' : 'problem' in conn ? conn.problem : ''}\n\n${USAGE}`);
      return 1;
    }
    const store = ClusterStore.connect(conn);
    try {
      const out = await readRuns(store, job, Date.now()).catch((err: unknown) => storeFailure('runs', err, io));
      if (typeof out === 'number') return out;
      if (!out) {
        io.stderr.write(`ozy runs: no accepted cron job named "${job}"\n`);
        return 1;
      }
      io.stdout.write(values.json ? `${JSON.stringify(out, null, 2)}\n` : formatRuns(out));
      return 0;
    } finally {
      await store.close();
    }
  },
};

/** undefined when `job` is not an accepted cron job and has no records. */
export async function readRuns(store: ClusterStore, job: string, nowMs: number): Promise<RunsOutput | undefined> {
  const [accepted, view] = await Promise.all([store.readJob(job), store.cron.view(job)]);
  const policy = cronPolicyOf(accepted);
  if (!policy && view.history.length === 0 && !view.state) return undefined;
  const active = (view.state?.runs ?? []).map(activeRecord);
  const runs = [...active, ...view.history].sort((a, b) => (a.scheduledAt < b.scheduledAt ? 1 : a.scheduledAt > b.scheduledAt ? -1 : 0));
  return { job, nextRunAt: policy ? nextRunAt(policy, nowMs) : null, runs };
}

/** An active run as `ozy runs` shows it: running, or pending with why it waits. */
function activeRecord(run: ActiveRun): RunRecord {
  const pending = run.startedAt === undefined;
  return { ...recordOf(run, pending ? 'pending' : 'running', pending ? (run.waiting ?? 'not placed yet') : null, null) };
}

export function formatRuns(o: RunsOutput, now = Date.now()): string {
  const lines = [`JOB ${o.job}   next run: ${o.nextRunAt ?? '-'}`];
  lines.push(
    table(
      ['RUN', 'SCHEDULED', 'RESULT', 'NODE', 'TOOK', 'EXIT', 'REASON'],
      o.runs.map((r) => [
        r.run,
        r.scheduledAt,
        r.result,
        r.node ?? '-',
        r.startedAt && r.finishedAt ? `${((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)}s` : r.startedAt ? `${formatAge(r.startedAt, now)} so far` : '-',
        Object.entries(r.exitCodes)
          .map(([c, code]) => `${c}=${code}`)
          .join(' ') || '-',
        r.reason ?? '',
      ]),
    ),
  );
  return lines.join('\n');
}
