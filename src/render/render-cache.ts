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
import type { Candidate } from './render-context';
import { RenderContext } from './render-context';

type ReportEntry = Parameters<RenderContext['report']>[0];
type Op = { accept: Candidate } | { report: ReportEntry };

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
    const hit = this.entries.get(path);
    if (hit && hit.content === source.content) return this.replay(hit, ctx);
    const hash = createHash('sha1').update(source.content).digest('base64');
    this.stats.hashed++;
    if (hit && hit.hash === hash) {
      hit.content = source.content;
      return this.replay(hit, ctx);
    }
    const recorder = new RecordingContext(ctx);
    judge(recorder, source.text());
    this.stats.judged++;
    this.entries.set(path, { content: source.content, hash, ops: recorder.ops });
  }

  private replay(hit: Entry, ctx: RenderContext): void {
    this.stats.replayed++;
    for (const op of hit.ops) {
      if ('accept' in op) ctx.accept(op.accept);
      else ctx.report(op.report);
    }
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

/** Forwards to the real context and records what it was told. */
class RecordingContext extends RenderContext {
  readonly ops: Op[] = [];

  constructor(private readonly target: RenderContext) {
    super(target.opts);
  }

  override accept(c: Candidate): void {
    this.ops.push({ accept: c });
    this.target.accept(c);
  }

  override report(entry: ReportEntry): void {
    this.ops.push({ report: entry });
    this.target.report(entry);
  }
}
