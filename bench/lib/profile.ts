// CPU profiling of a piece of in-process work: the same V8 sampling
// profiler `node --cpu-prof` uses, started and stopped around just that
// work through the inspector, so a missed goal comes with what bounds it.
import * as fs from 'node:fs';
import { Session } from 'node:inspector';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface Hotspot {
  /** "functionName (file:line)". */
  where: string;
  /** Share of all samples spent in the function itself. */
  selfShare: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Sampled time not idle (CPU work in this thread, GC included). */
  busyMs: number;
  /** Top functions by self time. */
  functions: Hotspot[];
  /** Self time grouped by file (node_modules packages by package name): what bounds the work. */
  files: Hotspot[];
  /** Where the .cpuprofile was written (open it in Chrome DevTools). */
  file?: string;
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T)));
  });
}

/**
 * Profiles each of `works` in turn (sampling every 200 µs): only `run` is
 * sampled, not its `prepare` (e.g. the harness pushing the next change); the summary covers all of them. The first profile is written to
 * `outFile` when given.
 */
export async function profileEach(
  works: ReadonlyArray<{ prepare?: () => Promise<unknown>; run: () => Promise<unknown> }>,
  outFile?: string,
): Promise<ProfileSummary> {
  const session = new Session();
  session.connect();
  try {
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.setSamplingInterval', { interval: 200 });
    const profiles: Profile[] = [];
    for (const work of works) {
      await work.prepare?.();
      await post(session, 'Profiler.start');
      let failure: { err: unknown } | undefined;
      try {
        await work.run();
      } catch (err) {
        failure = { err };
      }
      const { profile: p } = await post<{ profile: Profile }>(session, 'Profiler.stop');
      if (failure) throw failure.err;
      profiles.push(p);
    }
    if (outFile && profiles[0]) fs.writeFileSync(outFile, JSON.stringify(profiles[0]));
    return { ...summarize(profiles), ...(outFile ? { file: outFile } : {}) };
  } finally {
    session.disconnect();
  }
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const dist = url.search(/\/(src|bench|test)\//);
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '') || '(native)';
}

/** Self time per function and per file over one or more profiles (pure). */
export function summarize(profiles: readonly Profile[], top = 8): Omit<ProfileSummary, 'file'> {
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let busy = 0;
  let totalUs = 0;
  let busyUs = 0;
  for (const p of profiles) {
    const hits = new Map<number, number>();
    for (const id of p.samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
    // Idle samples (waiting on git, etcd) are not CPU: shares are of busy samples.
    const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
    const samples = p.samples ?? [];
    const busyHere = samples.filter((id) => !idle.has(id)).length;
    busy += busyHere;
    totalUs += p.endTime - p.startTime;
    if (samples.length > 0) busyUs += ((p.endTime - p.startTime) * busyHere) / samples.length;
    for (const n of p.nodes) {
      const h = hits.get(n.id) ?? 0;
      if (h === 0 || idle.has(n.id)) continue;
      const { functionName, url, lineNumber } = n.callFrame;
      // V8's pseudo-frames ("(garbage collector)", "(program)") have no URL: they name themselves.
      const file = url ? shortUrl(url) : functionName || '(native)';
      const fn = url ? `${functionName || '(anonymous)'} (${file}:${lineNumber + 1})` : file;
      byFn.set(fn, (byFn.get(fn) ?? 0) + h);
      byFile.set(file, (byFile.get(file) ?? 0) + h);
    }
  }
  const total = busy || 1;
  const ranked = (m: Map<string, number>): Hotspot[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([where, h]) => ({ where, selfShare: Math.round((h / total) * 1000) / 1000 }));
  return { totalMs: Math.round(totalUs / 1000), busyMs: Math.round(busyUs / 1000), functions: ranked(byFn), files: ranked(byFile) };
}

/** "47% js-yaml, 20% src/render/schema.js, ..." */
export function hotspotText(h: readonly Hotspot[], n = 5): string {
  return h
    .slice(0, n)
    .map((x) => `${Math.round(x.selfShare * 100)}% ${x.where}`)
    .join(', ');
}
