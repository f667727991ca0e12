// `ozy plan [DIR] --etcd URL`: the brain's pipeline as a dry run against the
// live cluster. Nothing is written.
import { redactJob } from '../../model/redact';
import { parseArgs } from 'node:util';
import { decide } from '../../plan';
import { renderRepoDir } from '../../render';
import { ClusterStore } from '../../store';
import type { Command, CommandIo } from '../command';
import { humanPlan, markdownPlan, REJECTING } from '../plan-format';
import { ETCD_ACCESS_USAGE, ETCD_OPTIONS, etcdConnection, storeFailure } from '../etcd-options';

const USAGE = `Usage: ozy plan [DIR] [--etcd URL] [--json | --markdown] [--commit SHA] [--etcd-prefix P]

Render and validate the job repository in DIR (default: the current
directory), read the live cluster from etcd and print what an agent would do:
per job create / update / scale-up / scale-down / delete / unchanged /
reschedule with the node of every instance, or the problem it would get
(with each node's reason). Nothing is written.

Options:
  --etcd URL        etcd endpoints, comma-separated (or OZY_ETCD; else the
                    running ozy up's, else http://127.0.0.1:2379)
  --etcd-prefix P   key prefix (default /ozy, or OZY_ETCD_PREFIX)
${ETCD_ACCESS_USAGE}  --commit SHA      commit to name in problems (default "working-tree")
  --json            the decision as JSON
  --markdown        a Markdown summary, e.g. for a pull-request comment

Exit status: 0 every job is feasible, 2 some job would be rejected or is
invalid, 1 on errors.
`;

export const command: Command = {
  summary: 'dry run against the live cluster: what would change, and where',
  usage: USAGE,
  async run(argv: string[], io: CommandIo): Promise<number> {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...ETCD_OPTIONS,
        commit: { type: 'string' },
        json: { type: 'boolean' },
        markdown: { type: 'boolean' },
      },
    });
    const conn = etcdConnection(values, io.env, { discover: true });
    if ('problem' in conn) {
      io.stderr.write(`ozy plan: ${conn.problem}\n\n${USAGE}`);
      return 1;
    }
    const dir = positionals[0] ?? io.cwd;
    const commit = values.commit ?? 'working-tree';
    const render = await renderRepoDir(dir, { commit });
    const store = ClusterStore.connect(conn);
    try {
      const snap = await store.snapshot().catch((err: unknown) => storeFailure('plan', err, io));
      if (typeof snap === 'number') return snap;
      const decision = decide({
        desired: render.jobs,
        invalid: render.problems,
        cluster: { nodes: snap.nodes, jobs: snap.jobs, rejections: snap.rejections, runs: snap.runs, ...(snap.zones ? { zones: snap.zones } : {}) },
        commit,
        now: new Date(),
        deletionGuard: render.settings.deletionGuard,
        rebalance: render.settings.rebalance,
      });
      // Environment values never leave in output (invariant 8): the JSON's specs are redacted.
      if (values.json) io.stdout.write(`${JSON.stringify({ commit, nodes: snap.nodes.length, ...decision, putJobs: decision.putJobs.map(redactJob) }, null, 2)}\n`);
      else if (values.markdown) io.stdout.write(markdownPlan(decision, commit));
      else io.stdout.write(humanPlan(decision, commit, snap.nodes.length));
      return decision.outcomes.some((o) => REJECTING.has(o.bucket)) ? 2 : 0;
    } finally {
      await store.close();
    }
  },
};

