// The pull progress stream: newline-delimited JSON objects. A failed pull
// still answers HTTP 200 (podman always, dockerd once the stream started);
// the failure is only an object with `error` / `errorDetail` inside the
// stream. So every line is read and checked.

export interface ProgressEvent {
  status?: string;
  id?: string;
  progress?: string;
  /** Set only on failure. */
  error?: string;
}

/** Accumulates chunks and yields complete lines; tolerant of any chunking. */
export class LineSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const parts = text.split('\n');
    this.rest = parts.pop() ?? '';
    return parts.map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  }

  /** What is left after the stream ended (a last line without newline). */
  end(): string[] {
    const last = this.rest.trim();
    this.rest = '';
    return last === '' ? [] : [last];
  }
}

/** One line → event. A line that is not a JSON object yields undefined (skipped, not fatal). */
export function parseProgressLine(line: string): ProgressEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  const ev: ProgressEvent = {};
  if (typeof o.status === 'string') ev.status = o.status;
  if (typeof o.id === 'string') ev.id = o.id;
  if (typeof o.progress === 'string') ev.progress = o.progress;
  const error = errorOf(o);
  if (error !== undefined) ev.error = error;
  return ev;
}

function errorOf(o: Record<string, unknown>): string | undefined {
  const detail = o.errorDetail;
  if (detail !== null && typeof detail === 'object') {
    const m = (detail as Record<string, unknown>).message;
    if (typeof m === 'string' && m !== '') return m;
  }
  if (typeof o.error === 'string' && o.error !== '') return o.error;
  if (o.error !== undefined && o.error !== null && o.error !== '') return JSON.stringify(o.error);
  return undefined;
}
