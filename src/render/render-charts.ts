// Charts inside the renderer: job files that use a shipped chart
// (`chart: ozy/<name>`) and chart directories under jobs/. Their rendered
// documents are judged like job files; failures are keyed so that the jobs
// the chart produced before are held, not deleted.
import * as path from 'node:path';
import { assembleChart, chartRelativePath, relativeToRoot, renderChartDocuments, type ChartFailure, type RenderedDocument } from './charts';
import { finding, type Finding } from './findings';
import type { ChartReference } from './job-raw.generated';
import { isValidJobName } from './job-name';
import { judgeJobDocument, type NameRule } from './judge-job';
import { problemFromFindings, simpleProblem } from './problem-details';
import type { RenderContext } from './render-context';
import { validateDocument } from './schema';

/** A job file holding `chart: ozy/<name>` (and `values`). */
export function judgeChartReference(p: string, doc: object, job: string | undefined, fileNameFindings: Finding[], ctx: RenderContext): void {
  const problemCtx = { file: p, ...(job ? { job } : {}) };
  const fail = (findings: Finding[]) => ctx.report({ file: p, ...(job ? { job } : {}), problem: problemFromFindings(findings, problemCtx) });
  const schemaFindings = validateDocument('chart-ref', doc);
  if (schemaFindings.length > 0 || !job) return fail([...fileNameFindings, ...schemaFindings]);
  const ref = doc as ChartReference;
  const chartName = ref.chart.slice('ozy/'.length);
  const chart = ctx.opts.builtinCharts?.get(chartName);
  if (!chart) {
    const known = [...(ctx.opts.builtinCharts?.keys() ?? [])].sort().map((n) => `ozy/${n}`);
    return fail([finding('invalid-chart', ['chart'], `expected one of the shipped charts (${known.join(', ') || 'none loaded'}), got ${JSON.stringify(ref.chart)}`)]);
  }
  const rendered = renderChartDocuments(chart, job, ref.values);
  if (!rendered.ok) {
    reportChartFailure(rendered.failure, { holds: p, job, problemFile: p, chartLabel: ref.chart }, ctx);
    return;
  }
  judgeRenderedDocuments(rendered.documents, {
    holds: p,
    problemFile: () => p,
    fallbackJob: job,
    nameRule: { expected: job, allowSuffix: true, source: `the release name, which is the base name of ${p}` },
  }, ctx);
}

/** A directory under jobs/ with a Chart.yaml; `members` are its relevant paths. */
export function judgeChartDirectory(
  root: string,
  members: string[],
  texts: { has(p: string): boolean; get(p: string): string | undefined },
  ctx: RenderContext,
): void {
  const refused = members.filter((m) => !texts.has(m));
  if (refused.length > 0) {
    // Each refused file has its own problem; the chart cannot be rendered without it.
    ctx.reportFile(root, 'invalid-chart', `the chart in ${root} was not rendered: ${refused.join(', ')} could not be read (see ${refused.length === 1 ? 'its problem' : 'their problems'})`);
    return;
  }
  const files = new Map(members.map((m) => [relativeToRoot(root, m), texts.get(m)!]));
  const release = path.posix.basename(root);
  const assembled = assembleChart(release, files);
  if (!assembled.ok) {
    ctx.reportFile(`${root}/Chart.yaml`, 'invalid-chart', `the chart in ${root}: ${assembled.message}`, { holds: root });
    return;
  }
  const rendered = renderChartDocuments(assembled.chart, release);
  if (!rendered.ok) {
    reportChartFailure(rendered.failure, { holds: root, problemFile: root, chartLabel: root }, ctx);
    return;
  }
  judgeRenderedDocuments(rendered.documents, { holds: root, problemFile: (t) => `${root}/${chartRelativePath(t)}` }, ctx);
}

interface RenderedSource {
  /** DesiredJob.file of the jobs (the file or chart directory). */
  holds: string;
  problemFile: (template: string) => string;
  /** The job a nameless failure is keyed by (chart references: the release). */
  fallbackJob?: string;
  nameRule?: NameRule;
}

function judgeRenderedDocuments(documents: RenderedDocument[], src: RenderedSource, ctx: RenderContext): void {
  for (const { template, doc } of documents) {
    const problemFile = src.problemFile(template);
    const verdict = judgeJobDocument(doc, src.nameRule);
    if (verdict.ok) {
      ctx.accept({ spec: verdict.spec, file: src.holds, problemFile });
      continue;
    }
    const declared = (doc as { name?: unknown } | null)?.name;
    const job = typeof declared === 'string' && isValidJobName(declared) ? declared : src.fallbackJob;
    const problem = problemFromFindings(verdict.findings, {
      file: problemFile,
      ...(job ? { job } : {}),
      extra: { rendered: true, template: chartRelativePath(template) },
    });
    ctx.report({ file: src.holds, ...(job ? { job } : {}), fallbackKey: src.holds, problem });
  }
}

function reportChartFailure(
  failure: ChartFailure,
  where: { holds: string; job?: string; problemFile: string; chartLabel: string },
  ctx: RenderContext,
): void {
  const extra: Record<string, unknown> = {};
  if (failure.template !== undefined) extra.template = chartRelativePath(failure.template);
  if (failure.line !== undefined) extra.line = failure.line;
  if (failure.column !== undefined) extra.column = failure.column;
  // A chart directory's failure points at the template; a reference's at the user's file.
  const inChartDir = where.job === undefined && failure.template !== undefined && failure.template !== 'values';
  const file = inChartDir ? `${where.holds}/${chartRelativePath(failure.template!)}` : where.problemFile;
  const detail = `${where.chartLabel}: ${failure.messages[0]}${failure.messages.length > 1 ? ` (and ${failure.messages.length - 1} more)` : ''}`;
  const problem = simpleProblem(failure.type, detail, { file, ...(where.job ? { job: where.job } : {}), extra }, failure.messages.map((message) => ({ pointer: '', message })));
  ctx.report({ file: where.holds, ...(where.job ? { job: where.job } : {}), fallbackKey: where.holds, problem });
}
