// Rendering a Helm-style chart: Chart.yaml and values.yaml are loaded with
// safe YAML bounds, the caller's values are deep-merged over the defaults,
// every file under templates/ is parsed (helpers contribute `define`s), and
// each non-helper file renders to one document. One budget covers the whole
// chart, so a chart cannot escape the limits by splitting work over files.
import type { TemplateError } from './errors';
import { compileTemplates, executeFile } from './engine';
import { Budget, DEFAULT_LIMITS, type Limits } from './limits';
import { getOwn, isMap, isNil, newMap, setOwn, type MapValue } from './values';
import { loadYamlDocument } from './yaml';

export interface Chart {
  /** The chart's directory name; used when Chart.yaml has no name. */
  name: string;
  chartYaml: string;
  valuesYaml: string;
  /** File name under templates/ (incl. _helpers.tpl) → text. */
  templates: Record<string, string>;
}

export interface RenderChartOptions {
  /** The release name, which is also the job name (`.Release.Name`). */
  releaseName: string;
  /** Deep-merged over values.yaml (maps merge, anything else replaces, null deletes). */
  values?: unknown;
  /** `.Release.Namespace`; default "default". */
  namespace?: string;
  limits?: Partial<Limits>;
}

export interface RenderedDocument {
  /** File name under templates/ that produced it. */
  template: string;
  text: string;
}

export type RenderChartResult = { ok: true; documents: RenderedDocument[] } | { ok: false; errors: TemplateError[] };

export function renderChart(chart: Chart, opts: RenderChartOptions): RenderChartResult {
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };

  // 1. Chart metadata and default values.
  const meta = loadYamlDocument(chart.chartYaml, 'Chart.yaml');
  if (!meta.ok) return fail(meta.error);
  if (!isMap(meta.value)) return fail({ template: 'Chart.yaml', line: 1, message: 'Chart.yaml must be a mapping (name, version, ...)' });
  const declaredName = getOwn(meta.value, 'name');
  const chartName = typeof declaredName === 'string' && declaredName !== '' ? declaredName : chart.name;

  const defaults = loadYamlDocument(chart.valuesYaml, 'values.yaml');
  if (!defaults.ok) return fail(defaults.error);
  if (!isNil(defaults.value) && !isMap(defaults.value)) return fail({ template: 'values.yaml', line: 1, message: 'values.yaml must be a mapping' });
  if (!isNil(opts.values) && !isMap(opts.values)) return fail({ template: 'values', line: 1, message: 'the values given to the chart must be a mapping' });

  // 2. Values: the caller's over the defaults, copied so templates can't mutate the caller's data.
  let values: MapValue;
  try {
    values = mergeValues(defaults.value ?? {}, opts.values ?? {}, limits.maxNesting);
  } catch (e) {
    return fail({ template: 'values', line: 1, message: e instanceof Error ? e.message : String(e) });
  }

  // 3. Parse everything, then render each non-helper file in name order.
  const compiled = compileTemplates(chart.templates, limits, `${chartName}/templates/`);
  if (!compiled.ok) return compiled;
  const budget = new Budget(limits);
  const chartData = chartMetadata(meta.value, chartName);
  const release = mapOf({
    Name: opts.releaseName,
    Namespace: opts.namespace ?? 'default',
    Service: 'Ozymandias',
    IsInstall: true,
    IsUpgrade: false,
    Revision: 1,
  });
  const documents: RenderedDocument[] = [];
  const errors: TemplateError[] = [];
  for (const name of [...compiled.compiled.files.keys()]) {
    // Partials only contribute templates. Every other file renders, whatever
    // its extension, as in Helm; NOTES.txt renders (its errors count) but is
    // not a job document.
    if (isPartialFile(name)) continue;
    const data = mapOf({
      Values: values,
      Chart: chartData,
      Release: release,
      Template: mapOf({ Name: `${chartName}/templates/${name}`, BasePath: `${chartName}/templates` }),
    });
    const result = executeFile(compiled.compiled, name, data, budget);
    if (!result.ok) {
      errors.push(result.error);
      if (budget.exhausted) break; // every later file would fail the same way
      continue;
    }
    if (result.text.trim() !== '' && !isNotesFile(name)) documents.push({ template: name, text: result.text });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, documents };
}

/** `_helpers.tpl` and friends hold `define`s only; NOTES.txt is for humans. Neither becomes a document. */
export function isHelperFile(name: string): boolean {
  return isPartialFile(name) || isNotesFile(name);
}

/** Helm's partials: files whose name starts with "_" are never rendered on their own. */
function isPartialFile(name: string): boolean {
  return name.slice(name.lastIndexOf('/') + 1).startsWith('_');
}

function isNotesFile(name: string): boolean {
  return name === 'NOTES.txt' || name.endsWith('/NOTES.txt');
}

function fail(error: TemplateError): RenderChartResult {
  return { ok: false, errors: [error] };
}

function mapOf(entries: Record<string, unknown>): MapValue {
  const m = newMap();
  for (const [k, v] of Object.entries(entries)) setOwn(m, k, v);
  return m;
}

/** Helm exposes Chart.yaml with capitalized keys: name → .Chart.Name, apiVersion → .Chart.APIVersion. */
function chartMetadata(meta: MapValue, name: string): MapValue {
  const out = newMap();
  setOwn(out, 'Name', name);
  for (const key of Object.keys(meta)) {
    const field = key === 'apiVersion' ? 'APIVersion' : key.charAt(0).toUpperCase() + key.slice(1);
    setOwn(out, field, meta[key]);
  }
  return out;
}

/**
 * Helm's value coalescing: maps merge key by key, any other override
 * replaces, and an override of null deletes the default. The result is a
 * fresh copy throughout (bounded in depth and size).
 */
export function mergeValues(base: unknown, override: unknown, maxDepth: number): MapValue {
  let nodes = 0;
  const maxNodes = 1_000_000;
  const copy = (v: unknown, depth: number): unknown => {
    if (++nodes > maxNodes) throw new Error(`values have more than ${maxNodes} entries`);
    if (depth > maxDepth) throw new Error(`values are nested more than ${maxDepth} levels deep`);
    if (Array.isArray(v)) return v.map((x) => copy(x, depth + 1));
    if (isMap(v)) {
      const out = newMap();
      for (const k of Object.keys(v)) setOwn(out, k, copy(v[k], depth + 1));
      return out;
    }
    return v === undefined ? null : v;
  };
  const merge = (b: MapValue, o: MapValue, depth: number): MapValue => {
    const out = copy(b, depth) as MapValue;
    for (const k of Object.keys(o)) {
      const ov = o[k];
      const bv = getOwn(out, k);
      if (ov === null || ov === undefined) delete out[k];
      else if (isMap(bv) && isMap(ov)) setOwn(out, k, merge(bv, ov, depth + 1));
      else setOwn(out, k, copy(ov, depth + 1));
    }
    return out;
  };
  return merge(isMap(base) ? base : {}, isMap(override) ? override : {}, 0);
}
