// Per-file memo of the renderer's verdicts. An agent re-renders the whole
// repository on every new commit, but a commit usually changes one file:
// judging a job file is a pure function of its path and text (and of the
// shipped charts, fixed for the process), so an unchanged file replays its
// recorded verdict instead of being parsed and validated again.
// An unchanged file usually arrives as the very content object of the last
// render (the git source reuses the file objects of unchanged blobs): that
// is recognised by identity, without decoding or hashing the content again
// (hashing 5,000 files was ~13 ms of each one-file change).
import { createHash } from 'node:crypto';
import type { Candidate, Op, ReportEntry } from './render-context';
import { RenderContext } from './render-context';
import type { RenderOptions } from './render-repo';

/** A file's content as the renderer admitted it; `text()` decodes it (only a cache miss needs to). */
export interface CachedSource {
  content: Uint8Array | string;
  text(): string;
}

interface Entry {
  /** The content object last judged or replayed for this path. */
  content: Uint8Array | string;
  hash: string;
  ops: Op[];
}

/** What the cache did, for tests and benchmarks: unchanged files must cost neither a judgement nor a hash. */
export interface RenderCacheStats {
  /** Files parsed and validated. */
  judged: number;
  /** Files whose content was hashed (a content object not seen for that path before). */
  hashed: number;
  /** Files replayed from the cache. */
  replayed: number;
}

export class RenderCache {
  readonly stats: RenderCacheStats = { judged: 0, hashed: 0, replayed: 0 };
  private entries = new Map<string, Entry>();
  private used = new Set<string>();

  /** Judge `path` with `judge`, or replay what it produced for the same content before. */
  judge(path: string, source: CachedSource, ctx: RenderContext, judge: (ctx: RenderContext, text: string) => void): void {
    this.used.add(path);
    const { ops, hit } = this.opsOf(path, source, ctx.opts, judge);
    if (hit) this.stats.replayed++;
    for (const op of ops) {
      if ('accept' in op) ctx.accept(op.accept);
      else ctx.report(op.report);
    }
  }

  /**
   * What `path` at `source` produces: recorded, or judged now and recorded.
   * The ops are the cache's own (never change them); the same candidate
   * objects come back for as long as the content does.
   */
  opsOf(path: string, source: CachedSource, opts: RenderOptions, judge: (ctx: RenderContext, text: string) => void): { ops: readonly Op[]; hit: boolean } {
    const hit = this.entries.get(path);
    if (hit && hit.content === source.content) return { ops: hit.ops, hit: true };
    const hash = createHash('sha1').update(source.content).digest('base64');
    this.stats.hashed++;
    if (hit && hit.hash === hash) {
      hit.content = source.content;
      return { ops: hit.ops, hit: true };
    }
    const recorder = new RecordingContext(opts);
    judge(recorder, source.text());
    this.stats.judged++;
    this.entries.set(path, { content: source.content, hash, ops: recorder.ops });
    return { ops: recorder.ops, hit: false };
  }

  /** Forget one file (deleted or renamed), for renders that do not call endRender(). */
  forget(path: string): void {
    this.entries.delete(path);
  }

  /** Forget files the last render did not see (deleted or renamed). */
  endRender(): void {
    for (const p of this.entries.keys()) if (!this.used.has(p)) this.entries.delete(p);
    this.used = new Set();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Records what a judge reports (the context it is handed is otherwise thrown away). */
class RecordingContext extends RenderContext {
  readonly ops: Op[] = [];

  override accept(c: Candidate): void {
    this.ops.push({ accept: c });
  }

  override report(entry: ReportEntry): void {
    this.ops.push({ report: entry });
  }
}
