// Server-sent events for the dashboard: framing (pure) and one client's
// stream with bounded buffering.
//
// An event only says what changed (revision + sections): it is a state, not
// a delta, so a later event replaces an earlier one that has not been sent.
// A slow client (its socket buffer full) therefore holds at most one pending
// event, whatever the rate of changes: memory per client is bounded.
import type { ServerResponse } from 'node:http';

/** One SSE frame. Data lines are split on newlines (a raw newline would end the field). */
export function sseFrame(event: string | null, data: string, id?: string): string {
  let out = '';
  if (id !== undefined) out += `id: ${id.replace(/[\r\n]/g, '')}\n`;
  if (event !== null) out += `event: ${event.replace(/[\r\n]/g, '')}\n`;
  for (const line of data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A comment line: keeps proxies and the browser from timing the stream out. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]/g, ' ')}\n\n`;
}

/** Merges two "what changed" events: the newer revision, the union of sections. */
export function mergeChanges(a: ChangeEvent, b: ChangeEvent): ChangeEvent {
  return { revision: Math.max(a.revision, b.revision), changed: [...new Set([...a.changed, ...b.changed])].sort() };
}

export interface ChangeEvent {
  revision: number;
  changed: string[];
}

/** One connected EventSource. */
export class SseClient {
  private pending: ChangeEvent | undefined;
  private waitingForDrain = false;
  private closed = false;
  /** Events that were merged into a pending one instead of being written (a slow reader). */
  coalesced = 0;

  constructor(private readonly res: ServerResponse) {
    res.on('drain', () => {
      this.waitingForDrain = false;
      if (this.pending) {
        const p = this.pending;
        this.pending = undefined;
        this.write(sseFrame('change', JSON.stringify(p)));
      }
    });
    res.on('close', () => {
      this.closed = true;
    });
  }

  get isClosed(): boolean {
    return this.closed || this.res.destroyed;
  }

  /** Sends now, or (socket full) keeps it as the one pending event, merged with any before. */
  send(ev: ChangeEvent): void {
    if (this.isClosed) return;
    if (this.waitingForDrain) {
      this.pending = this.pending ? mergeChanges(this.pending, ev) : ev;
      this.coalesced++;
      return;
    }
    this.write(sseFrame('change', JSON.stringify(ev)));
  }

  /** A raw frame (hello, heartbeat): dropped when the socket is full, since the next change event covers it. */
  sendRaw(frame: string): void {
    if (this.isClosed || this.waitingForDrain) return;
    this.write(frame);
  }

  close(): void {
    if (!this.isClosed) this.res.end();
    this.closed = true;
  }

  private write(frame: string): void {
    if (!this.res.write(frame)) this.waitingForDrain = true;
  }
}
