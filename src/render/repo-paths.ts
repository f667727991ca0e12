// Which repository paths the renderer reads, and which it refuses.
import * as path from 'node:path';

export const SETTINGS_FILE = 'ozy.yaml';
export const JOBS_DIR = 'jobs';
export const CHART_FILE = 'Chart.yaml';

const RELEVANT = /^jobs\/.+\.(?:ya?ml|tpl)$/;
/** Helm renders every file under a chart's templates/, whatever its extension. */
const CHART_TEMPLATE = /^jobs\/(?:.+\/)?templates\/[^/]/;

/**
 * True for the files the renderer needs: jobs/**\/*.yaml|yml, chart files
 * under jobs/ (including any file under templates/), and ozy.yaml. A git source reads
 * only these. Unsafe spellings (with '..', NUL, backslash) still match so
 * that they are refused with a problem rather than silently skipped.
 */
export function isRelevantPath(p: string): boolean {
  return p === SETTINGS_FILE || RELEVANT.test(p) || CHART_TEMPLATE.test(p);
}

/**
 * Anything that makes a path unsafe below: a control character, NUL or
 * backslash, a leading or trailing '/', '//', or a '.' or '..' segment.
 * One test lets the common (safe) path through without splitting it: the
 * renderer asks this of every file, every render.
 */
const MAYBE_UNSAFE = /[\u0000-\u001f\u007f\\]|^\/|\/$|\/\/|(?:^|\/)\.\.?(?:\/|$)/;

/** Why a repository path cannot be trusted, or undefined. Paths are posix and repo-relative. */
export function unsafePathReason(p: string): string | undefined {
  if (p.length > 0 && p.length <= 4096 && !MAYBE_UNSAFE.test(p)) return undefined;
  if (p.length === 0) return 'the path is empty';
  if (p.includes('\u0000')) return 'the path contains a NUL character';
  if (p.includes('\\')) return 'the path contains a backslash';
  if (p.startsWith('/')) return 'the path is absolute';
  if (/[\u0001-\u001f\u007f]/.test(p)) return 'the path contains a control character';
  const segments = p.split('/');
  if (segments.includes('..')) return "the path contains '..'";
  if (segments.includes('.') || segments.includes('')) return "the path contains '.' or an empty segment";
  if (p.length > 4096) return 'the path is longer than 4096 characters';
  return undefined;
}

export function isJobFilePath(p: string): boolean {
  return p.startsWith(`${JOBS_DIR}/`) && /\.ya?ml$/.test(p);
}

/**
 * Chart directories: directories under jobs/ holding a Chart.yaml. A chart
 * inside another chart belongs to the outer one (it is not rendered on its own).
 */
export function findChartRoots(paths: readonly string[]): string[] {
  const candidates = paths
    .filter((p) => p.startsWith(`${JOBS_DIR}/`) && path.posix.basename(p) === CHART_FILE)
    .map((p) => path.posix.dirname(p))
    .filter((dir) => dir !== JOBS_DIR)
    .sort((a, b) => a.length - b.length || a.localeCompare(b));
  const roots: string[] = [];
  for (const dir of candidates) {
    if (!roots.some((r) => dir.startsWith(`${r}/`))) roots.push(dir);
  }
  return roots.sort();
}

/** The chart root `p` belongs to, if any. */
export function chartRootOf(p: string, roots: readonly string[]): string | undefined {
  return roots.find((r) => p.startsWith(`${r}/`));
}
