// Rendering figures as text and keeping docs/benchmarks.md current (pure).
//
// The document has a hand-written part and a generated region between
// BEGIN and END markers. Inside it every benchmark has its own block, so a
// run of a subset (`node dist/bench/run.js poll`) replaces only the blocks
// it measured and keeps the others, each block stating its own date,
// machine and command, and any hand-written remarks placed between blocks.
import { formatRatio, formatValue, ratioOf, type Figure, type Section } from './figures';

export const BEGIN = '<!-- bench:generated:begin (rewritten by `npm run bench`; edit outside these markers) -->';
export const END = '<!-- bench:generated:end -->';
const blockBegin = (id: string): string => `<!-- bench:section:${id}:begin -->`;
const blockEnd = (id: string): string => `<!-- bench:section:${id}:end -->`;

export interface RunContext {
  date: string;
  machine: string;
  command: string;
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function comparisonCell(f: Figure): string {
  if (!f.vs) return '–';
  const how = f.vs.measured ? 'measured' : f.vs.kind === 'limit' ? 'limit' : 'reference';
  return `${f.vs.label}: ${formatValue(f.vs.value, f.vs.unit)} (${how})`;
}

function goalCell(f: Figure): string {
  if (!f.goal) return '–';
  return `${f.goal.met ? '✅' : '❌'} ${f.goal.text}`;
}

export function sectionMarkdown(s: Section, ctx: RunContext): string {
  const lines = [
    `### ${s.title}`,
    '',
    `Measured ${ctx.date} with \`${ctx.command}\` (this part took ${(s.durationMs / 1000).toFixed(1)} s) on ${ctx.machine}.`,
    '',
  ];
  if (s.error) lines.push(`**The benchmark failed:** \`${escapeCell(s.error)}\``, '');
  if (s.figures.length > 0) {
    lines.push('| figure | value | against | ratio | goal |', '|---|---:|---|---:|---|');
    for (const f of s.figures) {
      const label = f.detail ? `${f.label} <br><sub>${escapeCell(f.detail)}</sub>` : f.label;
      lines.push(
        `| ${escapeCell(label)} | ${formatValue(f.value, f.unit)} | ${escapeCell(comparisonCell(f))} | ${formatRatio(ratioOf(f))} | ${escapeCell(goalCell(f))} |`,
      );
    }
    lines.push('');
  }
  if (s.markdown && s.markdown.length > 0) lines.push(...s.markdown, '');
  for (const n of s.notes) lines.push(`- ${n}`);
  if (s.notes.length > 0) lines.push('');
  return lines.join('\n').trimEnd();
}

/** The blocks currently in the generated region, by section id. */
export function parseBlocks(doc: string): Map<string, string> {
  const blocks = new Map<string, string>();
  const re = /<!-- bench:section:([a-z0-9-]+):begin -->\n([\s\S]*?)\n<!-- bench:section:\1:end -->/g;
  for (let m = re.exec(doc); m !== null; m = re.exec(doc)) blocks.set(m[1]!, m[2]!);
  return blocks;
}

/**
 * Replaces the blocks of `fresh` sections in `doc` where they are, keeping
 * everything else in the generated region (the other blocks and the
 * hand-written text between them, e.g. the remarks under a block). A block
 * not there yet goes right before the nearest block after it in `order`, so
 * the remarks under the block before it stay under that block (else right
 * after the nearest one before it, else at the region's end).
 * A doc without the generated region gets one appended.
 */
export function updateDoc(doc: string, fresh: ReadonlyMap<string, string>, order: readonly string[]): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) {
    const ids = [...order.filter((id) => fresh.has(id)), ...[...fresh.keys()].filter((id) => !order.includes(id))];
    const region = [BEGIN, ...ids.flatMap((id) => [blockBegin(id), fresh.get(id)!, blockEnd(id), '']), END].join('\n');
    return `${doc.trimEnd()}\n\n${region}\n`;
  }
  let region = doc.slice(start + BEGIN.length, end);
  for (const [id, md] of fresh) {
    const block = `${blockBegin(id)}\n${md}\n${blockEnd(id)}`;
    const at = region.indexOf(blockBegin(id));
    const until = region.indexOf(blockEnd(id));
    if (at >= 0 && until > at) {
      region = region.slice(0, at) + block + region.slice(until + blockEnd(id).length);
      continue;
    }
    const i = order.indexOf(id);
    const before = (i < 0 ? order : order.slice(0, i)).filter((o) => region.includes(blockEnd(o))).at(-1);
    const after = i < 0 ? undefined : order.slice(i + 1).find((o) => region.includes(blockBegin(o)));
    if (after !== undefined) {
      const pos = region.indexOf(blockBegin(after));
      region = `${region.slice(0, pos)}${block}\n\n${region.slice(pos)}`;
    } else if (before !== undefined) {
      const pos = region.indexOf(blockEnd(before)) + blockEnd(before).length;
      region = `${region.slice(0, pos)}\n\n${block}${region.slice(pos)}`;
    } else {
      region = `${region.trimEnd()}\n${block}\n\n`;
    }
  }
  return doc.slice(0, start) + BEGIN + region + doc.slice(end);
}

/** Plain-text lines for the console. */
export function sectionText(s: Section): string[] {
  const out = [`== ${s.title} (${(s.durationMs / 1000).toFixed(1)} s)`];
  if (s.error) out.push(`   FAILED: ${s.error}`);
  for (const f of s.figures) {
    const vs = f.vs ? `  vs ${f.vs.label} ${formatValue(f.vs.value, f.vs.unit)}${f.vs.measured ? '' : ' (ref)'} → ${formatRatio(ratioOf(f))}` : '';
    const goal = f.goal ? `  [${f.goal.met ? 'goal met' : 'GOAL MISSED'}: ${f.goal.text}]` : '';
    out.push(`   ${f.label}: ${formatValue(f.value, f.unit)}${vs}${goal}`);
    if (f.detail) out.push(`      ${f.detail}`);
  }
  for (const n of s.notes) out.push(`   note: ${n}`);
  return out;
}
