// `ozy plan [DIR] --etcd URL`: the brain's pipeline as a dry run against the
// live cluster. Nothing is written.
import { redactJob } from '../../model/redact';
import { parseArgs } from 'node:util';
import { decide, type Decision, type JobOutcome } from '../../plan';
import { renderRepoDir } from '../../render';
import { nodeReasonLine } from '../../schedule';
import { ClusterStore } from '../../store';
import type { Command, CommandIo } from '../command';
import { plural } from '../format';
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

const REJECTING = new Set(['rejected', 'invalid']);

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
      else if (values.markdown) io.stdout.write(markdown(decision, commit));
      else io.stdout.write(human(decision, commit, snap.nodes.length));
      return decision.outcomes.some((o) => REJECTING.has(o.bucket)) ? 2 : 0;
    } finally {
      await store.close();
    }
  },
};

function placementText(o: JobOutcome): string {
  if (!o.placements) return '';
  return o.placements.map((n, i) => `${o.job}-${i} → ${n ?? 'pending'}`).join(', ');
}

/** Instances per zone of a spread: zones job: "a 2, b 2, c 1". */
function zoneText(zones: Record<string, number>): string {
  return Object.keys(zones)
    .sort()
    .map((z) => `${z || '(no zone)'} ${zones[z]}`)
    .join(', ');
}

/** The count an autoscaled job keeps: git's numInstances only starts it. */
function autoscaleText(a: NonNullable<JobOutcome['autoscale']>): string {
  return `autoscaled: keeps ${plural(a.count, 'instance')} (min ${a.min}, max ${a.max})`;
}

function summary(d: Decision): string {
  return Object.entries(d.counts)
    .filter(([, n]) => n > 0)
    .map(([b, n]) => `${n} ${b}`)
    .join(', ');
}

function human(d: Decision, commit: string, nodes: number): string {
  const lines = [`Plan for ${commit} against ${plural(nodes, 'live node')}:`];
  for (const o of d.outcomes) {
    lines.push(`  ${o.bucket.padEnd(11)} ${o.job}${o.strategy ? ` (${o.strategy})` : ''}${o.placements && o.bucket !== 'unchanged' ? `  ${placementText(o)}` : ''}`);
    if (o.autoscale) lines.push(`              ${autoscaleText(o.autoscale)}`);
    if (o.zones) lines.push(`              zones: ${zoneText(o.zones)}`);
    for (const [instance, why] of Object.entries(o.away ?? {})) lines.push(`              ${instance} ${why}`);
    if (o.problem) {
      lines.push(`              ${o.problem.title}: ${o.problem.detail}`);
      for (const e of o.problem.errors ?? []) lines.push(`                at ${e.pointer || '/'}: ${e.message}`);
      for (const [node, why] of Object.entries(o.nodeReasons ?? {})) lines.push(`                ${nodeReasonLine(node, why)}`);
    }
  }
  lines.push(`Summary: ${summary(d) || 'nothing to do'}`);
  return `${lines.join('\n')}\n`;
}

function markdown(d: Decision, commit: string): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = d.outcomes.map((o) => {
    const zones = (o.zones ? ` (zones: ${esc(zoneText(o.zones))})` : '') + (o.autoscale ? ` (${autoscaleText(o.autoscale)})` : '');
    const what = o.problem ? `**${esc(o.problem.title)}**: ${esc(o.problem.detail)}` : esc(placementText(o)) + zones;
    return `| \`${o.job}\` | ${o.bucket}${o.strategy ? ` (${esc(o.strategy)})` : ''} | ${what} |`;
  });
  const rejected = d.outcomes.filter((o) => REJECTING.has(o.bucket)).length;
  const verdict = rejected ? `:x: ${plural(rejected, 'job')} would be rejected` : ':white_check_mark: every job fits';
  return [`### ozy plan for \`${commit}\``, '', verdict, '', '| job | change | placements / problem |', '|---|---|---|', ...rows, '', `Summary: ${summary(d) || 'nothing to do'}`, ''].join('\n');
}
