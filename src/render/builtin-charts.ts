// The charts shipped in helm-style-templates/<name>/ (used from job files as
// `chart: ozy/<name>`). Read once from the project directory; they are our
// own files, but the same limits and symlink rule apply.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../paths';
import { assembleChart, type Chart } from './charts';
import { isDnsLabel } from './job-name';
import { MAX_FILE_BYTES } from './limits';

export const BUILTIN_CHARTS_DIR = 'helm-style-templates';

/** Shipped charts by name; a chart that cannot be assembled is left out (its tests catch it). */
export function loadBuiltinCharts(root: string = path.join(projectRoot(), BUILTIN_CHARTS_DIR)): Map<string, Chart> {
  const charts = new Map<string, Chart>();
  if (!fs.existsSync(root)) return charts;
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !isDnsLabel(entry.name)) continue;
    const files = readChartFiles(path.join(root, entry.name));
    const assembled = assembleChart(entry.name, files);
    if (assembled.ok) charts.set(entry.name, assembled.chart);
  }
  return charts;
}

/** Chart.yaml, values.yaml and templates/** of one chart directory, relative paths → text. */
function readChartFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const readIfFile = (rel: string) => {
    const abs = path.join(dir, rel);
    const st = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (st?.isFile() && st.size <= MAX_FILE_BYTES) out.set(rel, fs.readFileSync(abs, 'utf8'));
  };
  readIfFile('Chart.yaml');
  readIfFile('values.yaml');
  const walk = (rel: string, depth: number) => {
    if (depth > 8) return;
    const abs = path.join(dir, rel);
    const st = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (!st?.isDirectory()) return;
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const child = path.posix.join(rel, e.name);
      if (e.isDirectory()) walk(child, depth + 1);
      else if (e.isFile()) readIfFile(child);
    }
  };
  walk('templates', 0);
  return out;
}
