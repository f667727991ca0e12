// Charts → job documents, through the template engine (./template). Two
// sources: a chart directory under jobs/ (release name = directory name),
// and a shipped chart used by a job file (`chart: ozy/<name>`).
import * as path from 'node:path';
import { MAX_CHART_DOCUMENTS, MAX_REPO_BYTES } from './limits';
import { renderChart, type Chart, type TemplateError } from './template';
import { parseYaml } from './yaml';

export type { Chart, TemplateError } from './template';

export interface RenderedDocument {
  /** File name under templates/ that produced it. */
  template: string;
  doc: unknown;
}

export interface ChartFailure {
  type: 'template-error' | 'unparsable-yaml' | 'yaml-too-complex' | 'invalid-chart';
  /** Template (under templates/) the first error is in, when known. */
  template?: string;
  line?: number;
  column?: number;
  /** One message per error, each naming its template and line. */
  messages: string[];
}

export type ChartDocuments = { ok: true; documents: RenderedDocument[] } | { ok: false; failure: ChartFailure };

export function renderChartDocuments(chart: Chart, releaseName: string, values?: unknown): ChartDocuments {
  let result: ReturnType<typeof renderChart>;
  try {
    result = renderChart(chart, values === undefined ? { releaseName } : { releaseName, values });
  } catch (err) {
    // The engine reports errors as values; a throw is a bug there, not the user's.
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, failure: { type: 'template-error', messages: [`the template engine failed: ${message}`] } };
  }
  if (!result.ok) return { ok: false, failure: templateFailure(result.errors) };

  const documents: RenderedDocument[] = [];
  let bytes = 0;
  for (const { template, text } of result.documents) {
    bytes += text.length;
    if (bytes > MAX_REPO_BYTES) {
      return { ok: false, failure: { type: 'template-error', template, messages: [`${chartRelativePath(template)}: the chart renders more than ${MAX_REPO_BYTES} bytes`] } };
    }
    const parsed = parseYaml(text);
    if (!parsed.ok) {
      const { kind, message, line, column } = parsed.error;
      const where = `${chartRelativePath(template)}${line !== undefined ? ` (rendered output, line ${line})` : ''}`;
      const failure: ChartFailure = {
        type: kind === 'too-complex' ? 'yaml-too-complex' : 'unparsable-yaml',
        template,
        messages: [`${where}: the rendered YAML is invalid: ${message}`],
      };
      if (line !== undefined) failure.line = line;
      if (column !== undefined) failure.column = column;
      return { ok: false, failure };
    }
    for (const doc of parsed.documents) {
      if (doc === null || doc === undefined) continue;
      documents.push({ template, doc });
      if (documents.length > MAX_CHART_DOCUMENTS) {
        return { ok: false, failure: { type: 'template-error', template, messages: [`the chart renders more than ${MAX_CHART_DOCUMENTS} documents`] } };
      }
    }
  }
  return { ok: true, documents };
}

function templateFailure(errors: TemplateError[]): ChartFailure {
  const first = errors[0];
  const failure: ChartFailure = {
    type: 'template-error',
    messages: errors.length > 0 ? errors.map(describeTemplateError) : ['the chart failed to render'],
  };
  if (first) {
    failure.template = first.template;
    failure.line = first.line;
    if (first.column !== undefined) failure.column = first.column;
  }
  return failure;
}

/** Where a template error is, relative to the chart root: `templates/x.yaml`, `Chart.yaml`, `values.yaml`. */
export function chartRelativePath(template: string): string {
  if (template === 'Chart.yaml' || template === 'values.yaml' || template === 'values') return template;
  return template.startsWith('templates/') ? template : `templates/${template}`;
}

export function describeTemplateError(e: TemplateError): string {
  return `${chartRelativePath(e.template)}:${e.line}${e.column !== undefined ? `:${e.column}` : ''}: ${e.message}`;
}

export type ChartAssembly = { ok: true; chart: Chart } | { ok: false; message: string };

/**
 * A chart from the files of its directory (`files`: path relative to the
 * chart root → text). Only Chart.yaml, values.yaml and templates/** count;
 * the template engine judges their contents.
 */
export function assembleChart(dirName: string, files: ReadonlyMap<string, string>): ChartAssembly {
  const chartYaml = files.get('Chart.yaml');
  if (chartYaml === undefined) return { ok: false, message: 'Chart.yaml is missing' };
  const templates: Record<string, string> = {};
  for (const [p, text] of files) {
    if (p.startsWith('templates/')) templates[p.slice('templates/'.length)] = text;
  }
  if (!Object.keys(templates).some((t) => /\.ya?ml$/.test(t))) {
    return { ok: false, message: 'templates/ has no .yaml template' };
  }
  return { ok: true, chart: { name: dirName, chartYaml, valuesYaml: files.get('values.yaml') ?? '', templates } };
}

/** `jobs/team/web/templates/x.yaml` with root `jobs/team/web` → `templates/x.yaml`. */
export function relativeToRoot(root: string, p: string): string {
  return path.posix.relative(root, p);
}
