// How `ozy plan` prints a decision: for a person (human) and for a pull
// request comment (Markdown). Pure.
//   - A rejected or invalid change does not show the placements of the
//     version that keeps running as if they were the plan: they are
//     labelled "keeps running".
//   - A problem shared by several jobs (the deletion guard holds back every
//     delete of the commit) is printed once.
//   - The Markdown fits a pull-request comment (GitHub's limit is 65,536
//     characters): verdict and summary first, the problems next, every
//     job's outcome in a collapsed <details>, cut with a note if too long.
import type { Decision, JobOutcome } from '../plan';
import type { Problem } from '../model/problem';
import { nodeReasonLine } from '../schedule';
import { plural } from './format';

export const REJECTING: ReadonlySet<string> = new Set(['rejected', 'invalid']);

/** Room for a comment, below GitHub's 65,536 characters with a margin for a bot's own header. */
export const MARKDOWN_LIMIT = 60_000;

function placementText(o: JobOutcome): string {
  if (!o.placements) return '';
  return o.placements.map((n, i) => `${o.job}-${i} → ${n ?? 'pending'}`).join(', ');
}

/** What to print after the job's name: the plan's placements, or what keeps running when the change is refused. */
function placementsLine(o: JobOutcome): string {
  if (!o.placements || o.bucket === 'unchanged') return '';
  if (REJECTING.has(o.bucket)) return o.placements.length > 0 ? `  (keeps running: ${placementText(o)})` : '';
  return `  ${placementText(o)}`;
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

/** The first job each distinct problem was printed for (by content: several outcomes may share one problem). */
class ProblemsSeen {
  private readonly first = new Map<string, string>();
  /** undefined the first time `p` is seen (print it), else the job it was printed for. */
  seen(p: Problem, job: string): string | undefined {
    const key = `${p.type}\n${p.title}\n${p.detail}`;
    const before = this.first.get(key);
    if (before === undefined) this.first.set(key, job);
    return before;
  }
}

export function humanPlan(d: Decision, commit: string, nodes: number): string {
  const lines = [`Plan for ${commit} against ${plural(nodes, 'live node')}:`];
  const problems = new ProblemsSeen();
  for (const o of d.outcomes) {
    lines.push(`  ${o.bucket.padEnd(11)} ${o.job}${o.strategy ? ` (${o.strategy})` : ''}${placementsLine(o)}`);
    if (o.autoscale) lines.push(`              ${autoscaleText(o.autoscale)}`);
    if (o.zones) lines.push(`              zones: ${zoneText(o.zones)}`);
    for (const [instance, why] of Object.entries(o.away ?? {})) lines.push(`              ${instance} ${why}`);
    if (o.problem) {
      const printedFor = problems.seen(o.problem, o.job);
      if (printedFor !== undefined) {
        lines.push(`              ${o.problem.title}: see ${printedFor} above`);
        continue;
      }
      lines.push(`              ${o.problem.title}: ${o.problem.detail}`);
      for (const e of o.problem.errors ?? []) lines.push(`                at ${e.pointer || '/'}: ${e.message}`);
      for (const [node, why] of Object.entries(o.nodeReasons ?? {})) lines.push(`                ${nodeReasonLine(node, why)}`);
    }
  }
  lines.push(`Summary: ${summary(d) || 'nothing to do'}`);
  return `${lines.join('\n')}\n`;
}

function esc(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ').replace(/</g, '&lt;');
}

export function markdownPlan(d: Decision, commit: string, limit = MARKDOWN_LIMIT): string {
  const rejected = d.outcomes.filter((o) => REJECTING.has(o.bucket));
  const verdict = rejected.length > 0 ? `:x: ${plural(rejected.length, 'job')} would be rejected` : ':white_check_mark: every job fits';
  const head = [`### ozy plan for \`${commit}\``, '', verdict, '', `Summary: ${summary(d) || 'nothing to do'}`, ''];
  const problems = new ProblemsSeen();
  const problemRows = rejected.map((o) => {
    if (!o.problem) return `| \`${o.job}\` | ${o.bucket} | |`;
    const printedFor = problems.seen(o.problem, o.job);
    const text = printedFor !== undefined ? `**${esc(o.problem.title)}**: see \`${printedFor}\`` : `**${esc(o.problem.title)}**: ${esc(o.problem.detail)}${(o.problem.errors ?? []).map((e) => `<br>\`${esc(e.pointer || '/')}\`: ${esc(e.message)}`).join('')}`;
    return `| \`${o.job}\` | ${o.bucket} | ${text} |`;
  });
  const detailRows = d.outcomes.map((o) => {
    const zones = (o.zones ? ` (zones: ${esc(zoneText(o.zones))})` : '') + (o.autoscale ? ` (${autoscaleText(o.autoscale)})` : '');
    const where = REJECTING.has(o.bucket) ? (o.placements && o.placements.length > 0 ? `keeps running: ${esc(placementText(o))}` : '') : esc(placementText(o)) + zones;
    return `| \`${o.job}\` | ${o.bucket}${o.strategy ? ` (${esc(o.strategy)})` : ''} | ${where} |`;
  });
  const out: string[] = [...head];
  if (problemRows.length > 0) out.push('| job | change | problem |', '|---|---|---|');
  const closing = ['', '</details>', ''];
  const note = (n: number, what: string): string => `\n_… ${plural(n, 'more ' + what)} not shown (run \`ozy plan\` locally for all of them)._`;
  // Each part is added while it fits, leaving room for the closing lines and a truncation note.
  const room = (): number => limit - out.join('\n').length - 300;
  let shown = 0;
  for (const row of problemRows) {
    if (row.length + 1 > room()) break;
    out.push(row);
    shown++;
  }
  if (shown < problemRows.length) out.push(note(problemRows.length - shown, 'problem'));
  out.push('', `<details><summary>Every job (${d.outcomes.length})</summary>`, '', '| job | change | placements |', '|---|---|---|');
  shown = 0;
  for (const row of detailRows) {
    if (row.length + 1 > room()) break;
    out.push(row);
    shown++;
  }
  if (shown < detailRows.length) out.push(note(detailRows.length - shown, 'job'));
  out.push(...closing);
  return out.join('\n');
}
