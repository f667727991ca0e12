// Per-file memo of the renderer's verdicts. An agent re-renders the whole
// repository on every new commit, but a commit usually changes one file:
// judging a job file is a pure function of its path and text (and of the
// shipped charts, fixed for the process), so an unchanged file replays its
// recorded verdict instead of being parsed and validated again.
import { createHash } from 'node:crypto';
import type { Candidate } from './render-context';
import { RenderContext } from './render-context';

type ReportEntry = Parameters<RenderContext['report']>[0];
type Op = { accept: Candidate } | { report: ReportEntry };

interface Entry {
  hash: string;
  ops: Op[];
}

export class RenderCache {
  private entries = new Map<string, Entry>();
  private used = new Set<string>();

  /** Judge `path` with `judge`, or replay what it produced for the same text before. */
  judge(path: string, text: string, ctx: RenderContext, judge: (ctx: RenderContext) => void): void {
    const hash = createHash('sha1').update(text).digest('base64');
    this.used.add(path);
    const hit = this.entries.get(path);
    if (hit && hit.hash === hash) {
      for (const op of hit.ops) {
        if ('accept' in op) ctx.accept(op.accept);
        else ctx.report(op.report);
      }
      return;
    }
    const recorder = new RecordingContext(ctx);
    judge(recorder);
    this.entries.set(path, { hash, ops: recorder.ops });
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
