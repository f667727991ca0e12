// Renders one repository commit after commit (the poller's brain), redoing
// only what changed. A commit usually changes a job file or two in a
// repository of thousands: re-rendering all of them — even replayed from the
// render cache — and settling every name again cost ~12 ms at 5,000 jobs
// for the one file that changed. Here a change to k plain job files costs
// O(k) judging plus O(k) name settling (render-ledger.ts), and a few O(n)
// pointer walks to find the changed files and patch the sorted results.
//
// Anything else is a full renderRepo(): the first render, a change to
// ozy.yaml, to a chart directory or a Chart.yaml, a file refused on
// admission (unsafe path, symlink, size, UTF-8) before or after, the
// repository limits in play, or other renderer options. The result is
// always the one renderRepo() gives for the same files (tested over random
// edit sequences).
import { isUtf8 } from 'node:buffer';
import * as path from 'node:path';
import { decode } from './admitted-files';
import type { RenderCache } from './render-cache';
import { RenderLedger } from './render-ledger';
import type { RenderTrace } from './render-context';
import { isRenderedFile, judgeJobFile, renderRepo, type RenderOptions, type RenderResult, type RepoFile } from './render-repo';
import { MAX_FILE_BYTES, MAX_REPO_BYTES, MAX_REPO_FILES } from './limits';
import { CHART_FILE, chartRootOf, isJobFilePath, SETTINGS_FILE, unsafePathReason } from './repo-paths';
import { defaultSettings } from './settings';

/** What the renders did, for tests and benchmarks. */
export interface IncrementalRenderStats {
  full: number;
  incremental: number;
  /** Job files whose verdicts an incremental render looked up (changed, added or removed). */
  filesRedone: number;
}

/** A file as last rendered: what tells whether it changed. */
interface Seen {
  content: Uint8Array | string;
  kind: RepoFile['kind'];
  /** RepoFile.size as given (content not read), and the size admission counts. */
  sizeField: number | undefined;
  size: number;
}

interface State {
  ledger: RenderLedger;
  seen: Map<string, Seen>;
  /** Paths refused on admission (they have an admission problem). */
  refusedPaths: Set<string>;
  chartRoots: string[];
  count: number;
  bytes: number;
  builtinCharts: RenderOptions['builtinCharts'];
}

export class IncrementalRender {
  readonly stats: IncrementalRenderStats = { full: 0, incremental: 0, filesRedone: 0 };
  private state?: State;

  constructor(private readonly cache: RenderCache) {}

  /** renderRepo(files, opts) with this render's cache, from what the last render left. */
  render(files: readonly RepoFile[], opts: Omit<RenderOptions, 'cache' | 'partial' | 'trace'> = {}): RenderResult {
    const s = this.state;
    const plan = s && s.builtinCharts === opts.builtinCharts ? changesSince(s, files) : undefined;
    if (!s || !plan) return this.full(files, opts);
    this.stats.incremental++;
    const touched = new Set<string>();
    for (const p of plan.changed) {
      this.stats.filesRedone++;
      const f = plan.present.get(p);
      if (!f) {
        this.cache.forget(p);
        s.seen.delete(p);
        s.ledger.replaceFile(p, undefined, touched);
        continue;
      }
      const { ops } = this.cache.opsOf(p, { content: f.content, text: () => decode(f.content) }, opts, (c, t) => judgeJobFile(p, t, c));
      s.seen.set(p, seenOf(f));
      s.ledger.replaceFile(p, ops, touched);
    }
    s.count = plan.count;
    s.bytes = plan.bytes;
    const jobs = s.ledger.settle(touched);
    return { jobs, problems: s.ledger.problems(opts.commit), settings: s.ledger.settings };
  }

  private full(files: readonly RepoFile[], opts: RenderOptions): RenderResult {
    this.stats.full++;
    const trace: RenderTrace = {
      admission: [],
      admitted: { count: 0, bytes: 0, overLimit: false },
      jobFiles: new Map(),
      chartRoots: [],
      charts: [],
      settings: { value: defaultSettings(), ops: [] },
    };
    const result = renderRepo(files, { ...opts, cache: this.cache, trace });
    const seen = new Map<string, Seen>();
    for (const f of files) if (isRenderedFile(f)) seen.set(f.path, seenOf(f));
    const refusedPaths = new Set<string>();
    for (const op of trace.admission) if ('report' in op) refusedPaths.add(op.report.file);
    this.state = trace.admitted.overLimit
      ? undefined // the limits decide which files are read: every render is a full one while they bite
      : {
          ledger: new RenderLedger(trace, result.jobs),
          seen,
          refusedPaths,
          chartRoots: trace.chartRoots,
          count: trace.admitted.count,
          bytes: trace.admitted.bytes,
          builtinCharts: opts.builtinCharts,
        };
    return result;
  }
}

/**
 * The job files changed since the last render (added, modified, removed),
 * with the repository totals after the change; undefined when the change
 * needs a full render.
 */
function changesSince(s: State, files: readonly RepoFile[]): { changed: string[]; present: Map<string, RepoFile>; count: number; bytes: number } | undefined {
  const changed: string[] = [];
  const present = new Map<string, RepoFile>();
  let matched = 0;
  let prevPath: string | undefined;
  for (const f of files) {
    // Sorted and unique, as the git source hands them (else renderRepo sorts them out).
    if (prevPath !== undefined && !(prevPath < f.path)) return undefined;
    prevPath = f.path;
    const before = s.seen.get(f.path);
    if (before) {
      matched++;
      if (before.content === f.content && before.kind === f.kind && before.sizeField === f.size) continue;
    } else if (!isRenderedFile(f)) continue;
    changed.push(f.path);
    present.set(f.path, f);
  }
  if (matched < s.seen.size) {
    const now = new Set(files.map((f) => f.path));
    for (const p of s.seen.keys()) if (!now.has(p)) changed.push(p);
  }
  let count = s.count;
  let bytes = s.bytes;
  for (const p of changed) {
    if (p === SETTINGS_FILE || !isJobFilePath(p) || unsafePathReason(p) !== undefined || path.posix.basename(p) === CHART_FILE) return undefined;
    if (chartRootOf(p, s.chartRoots) !== undefined || s.refusedPaths.has(p)) return undefined;
    const before = s.seen.get(p);
    const f = present.get(p);
    if (f && (f.kind === 'symlink' || sizeOf(f) > MAX_FILE_BYTES || (typeof f.content !== 'string' && !isUtf8(f.content)))) return undefined;
    count += (f ? 1 : 0) - (before ? 1 : 0);
    bytes += (f ? sizeOf(f) : 0) - (before?.size ?? 0);
  }
  if (count > MAX_REPO_FILES || bytes > MAX_REPO_BYTES) return undefined;
  return { changed, present, count, bytes };
}

function sizeOf(f: RepoFile): number {
  return Math.max(f.size ?? 0, typeof f.content === 'string' ? Buffer.byteLength(f.content, 'utf8') : f.content.byteLength);
}

function seenOf(f: RepoFile): Seen {
  return { content: f.content, kind: f.kind, sizeField: f.size, size: sizeOf(f) };
}
