// The renderer: repository files → desired jobs, problems and settings.
// Pure (no I/O, no clock). Steps:
//   1. admit files: safe paths, no symlinks, size limits, UTF-8
//   2. job files: YAML → job (or chart reference → rendered jobs) → verdict
//   3. chart directories under jobs/: render → jobs → verdicts
//   4. names unique across the repository
//   5. ozy.yaml settings
// One bad file never hides the others' results: every source is judged on
// its own, and every problem says which file (and job, when known) it is for.
import * as path from 'node:path';
import type { DesiredJob } from '../model/job';
import type { Problem } from '../model/problem';
import type { ProblemType } from '../problems';
import { admitFiles, type RepoFile } from './admitted-files';
import type { Chart } from './charts';
import { describeValue, finding } from './findings';
import { fileBaseName, jobNameOfFile, MAX_JOB_NAME_LENGTH } from './job-name';
import { judgeJobDocument, type NameRule } from './judge-job';
import { problemFromFindings, simpleProblem } from './problem-details';
import { judgeChartDirectory, judgeChartReference } from './render-charts';
import type { RenderCache } from './render-cache';
import { RenderContext, type Op, type RenderTrace } from './render-context';
import { chartRootOf, findChartRoots, isJobFilePath, isRelevantPath, SETTINGS_FILE, unsafePathReason } from './repo-paths';
import { defaultSettings, judgeSettings, type RepoSettings } from './settings';
import { parseYaml, type YamlError } from './yaml';

export type { RepoFile } from './admitted-files';

/**
 * One problem of a rendered repository.
 * - `key`: the report key: the job name when known, else the file path (or
 *   chart directory) — the report is `<reports-dir>/<key>.json`.
 * - `file`: the source the problem holds back: a job file, or a chart
 *   directory for jobs rendered from it. Equal to `DesiredJob.file` of the
 *   jobs that source would produce: an accepted job whose `file` (or name)
 *   appears here must be KEPT at its accepted version, not deleted.
 * - `job`: set whenever the job's name is known.
 */
export interface RenderProblem {
  key: string;
  file: string;
  job?: string;
  problem: Problem;
}

export interface RenderResult {
  /** Valid jobs, sorted by name; names are unique. */
  jobs: DesiredJob[];
  /** Sorted by key, then file. */
  problems: RenderProblem[];
  settings: RepoSettings;
}

export interface RenderOptions {
  /** The commit judged; copied into every problem. */
  commit?: string;
  /**
   * Charts job files may use as `chart: ozy/<name>`. Pass
   * `loadBuiltinCharts()`; without it such job files are invalid-chart
   * (rendering stays pure: it never reads the disk itself).
   */
  builtinCharts?: ReadonlyMap<string, Chart>;
  /**
   * Verdicts of job files from earlier renders (an agent keeps one across
   * commits): unchanged files are not parsed and validated again.
   */
  cache?: RenderCache;
  /**
   * `files` is a slice of the repository, rendered only to fill `cache`
   * ahead of the whole (so a cold render can yield between slices): the
   * cache keeps entries of files outside the slice. The result is not a
   * verdict on the repository.
   */
  partial?: boolean;
  /** Filled with what each source said (incremental-render.ts). */
  trace?: RenderTrace;
}

export function renderRepo(files: readonly RepoFile[], opts: RenderOptions = {}): RenderResult {
  const ctx = new RenderContext(opts);
  // 1. Admit files.
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const relevant = sorted.filter(isRenderedFile);
  const chartRoots = findChartRoots(relevant.filter((f) => !unsafePathReason(f.path)).map((f) => f.path));
  const { trace } = opts;
  ctx.recordInto(trace?.admission);
  const texts = admitFiles(relevant, ctx);
  if (trace) {
    trace.admitted = { count: texts.count, bytes: texts.bytes, overLimit: texts.overLimit };
    trace.chartRoots = chartRoots;
  }

  // 2. Job files (outside chart directories), from the cache when unchanged.
  for (const p of texts.paths()) {
    if (p === SETTINGS_FILE || !isJobFilePath(p) || chartRootOf(p, chartRoots)) continue;
    ctx.recordInto(traced(trace?.jobFiles, p));
    if (opts.cache) opts.cache.judge(p, texts.source(p), ctx, (c, text) => judgeJobFile(p, text, c));
    else judgeJobFile(p, texts.get(p)!, ctx);
  }
  if (!opts.partial) opts.cache?.endRender();

  // 3. Chart directories.
  for (const root of chartRoots) {
    const members = relevant.filter((f) => f.path.startsWith(`${root}/`)).map((f) => f.path);
    if (trace) trace.charts.push({ root, ops: [] });
    ctx.recordInto(trace?.charts[trace.charts.length - 1].ops);
    judgeChartDirectory(root, members, texts, ctx);
  }

  // 4. Unique names.
  ctx.recordInto(undefined);
  ctx.settleDuplicates();
  ctx.settleIngressConflicts();

  // 5. Settings.
  let settings = defaultSettings();
  ctx.recordInto(trace?.settings.ops);
  const settingsText = texts.get(SETTINGS_FILE);
  if (settingsText !== undefined) settings = judgeSettingsFile(settingsText, ctx) ?? settings;
  ctx.recordInto(undefined);
  if (trace) trace.settings.value = settings;

  return { jobs: ctx.jobs(), problems: ctx.problems(), settings };
}

/** The files a render reads (or refuses with a problem); the rest of the repository is ignored. */
export function isRenderedFile(f: RepoFile): boolean {
  return (
    isRelevantPath(f.path) ||
    (f.kind === 'symlink' && (f.path === 'jobs' || f.path.startsWith('jobs/'))) ||
    (unsafePathReason(f.path) !== undefined && looksRelevant(f.path))
  );
}

/** A new list of `p`'s ops in `byPath`, when tracing. */
function traced(byPath: Map<string, Op[]> | undefined, p: string): Op[] | undefined {
  if (!byPath) return undefined;
  const ops: Op[] = [];
  byPath.set(p, ops);
  return ops;
}

/** Paths that would be relevant were they spelled safely (so they are refused, not skipped). */
function looksRelevant(p: string): boolean {
  return /(^|[\\/])jobs[\\/]/.test(p) || p.includes(SETTINGS_FILE);
}

function yamlProblemType(e: YamlError): ProblemType {
  return e.kind === 'too-complex' ? 'yaml-too-complex' : 'unparsable-yaml';
}

function describeYamlError(file: string, e: YamlError): string {
  const where = e.line !== undefined ? ` at line ${e.line}${e.column !== undefined ? `, column ${e.column}` : ''}` : '';
  return `${file}${where}: ${e.message}`;
}

// --- 2. job files --------------------------------------------------------------

export function judgeJobFile(p: string, text: string, ctx: RenderContext): void {
  const parsed = parseYaml(text);
  if (!parsed.ok) {
    const extra = parsed.error.line !== undefined ? { line: parsed.error.line } : undefined;
    ctx.report({
      file: p,
      problem: simpleProblem(yamlProblemType(parsed.error), describeYamlError(p, parsed.error), { file: p, ...(extra ? { extra } : {}) }),
    });
    return;
  }
  const docs = parsed.documents.filter((d) => d !== null && d !== undefined);
  const base = fileBaseName(p);
  const job = jobNameOfFile(p);
  if (docs.length !== 1) {
    const why = docs.length === 0 ? 'is empty' : `holds ${docs.length} YAML documents`;
    const f = finding('invalid-job', [], `the file ${why}; a job file holds exactly one job (a chart can produce several)`);
    ctx.report({ file: p, ...(job ? { job } : {}), problem: problemFromFindings([f], { file: p, ...(job ? { job } : {}) }) });
    return;
  }
  const doc = docs[0];
  const fileNameFindings = job
    ? []
    : [
        finding(
          'invalid-job-name',
          [],
          `the file name ${JSON.stringify(path.posix.basename(p))} does not make a job name: expected <name>.yaml where <name> is a DNS-1123 label of at most ${MAX_JOB_NAME_LENGTH} characters (lowercase letters, digits, '-')`,
        ),
      ];
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    const f = finding('invalid-job', [], `expected a map with name and containers, got ${describeValue(doc)}`);
    ctx.report({ file: p, ...(job ? { job } : {}), problem: problemFromFindings([...fileNameFindings, f], { file: p, ...(job ? { job } : {}) }) });
    return;
  }
  if ('chart' in doc) {
    judgeChartReference(p, doc, job, fileNameFindings, ctx);
    return;
  }
  const rule: NameRule | undefined = job ? { expected: base, source: `the file is ${p}: a job file's base name is its job's name` } : undefined;
  const verdict = judgeJobDocument(doc, rule);
  if (verdict.ok && fileNameFindings.length === 0) {
    ctx.accept({ spec: verdict.spec, file: p, problemFile: p });
    return;
  }
  const findings = [...fileNameFindings, ...(verdict.ok ? [] : verdict.findings)];
  ctx.report({ file: p, ...(job ? { job } : {}), problem: problemFromFindings(findings, { file: p, ...(job ? { job } : {}) }) });
}

// --- 5. settings ----------------------------------------------------------------

function judgeSettingsFile(text: string, ctx: RenderContext): RepoSettings | undefined {
  const parsed = parseYaml(text);
  if (!parsed.ok) {
    ctx.reportFile(SETTINGS_FILE, 'invalid-settings', describeYamlError(SETTINGS_FILE, parsed.error));
    return undefined;
  }
  const docs = parsed.documents.filter((d) => d !== null && d !== undefined);
  if (docs.length > 1) {
    ctx.reportFile(SETTINGS_FILE, 'invalid-settings', `${SETTINGS_FILE} holds ${docs.length} YAML documents; expected one`);
    return undefined;
  }
  const verdict = judgeSettings(docs[0] ?? null);
  if (verdict.ok) return verdict.settings;
  ctx.report({ file: SETTINGS_FILE, problem: problemFromFindings(verdict.findings, { file: SETTINGS_FILE }) });
  return undefined;
}
