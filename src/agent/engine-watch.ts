// The node's subscription to the engine's container events, kept open.
//
// The stream breaks when the engine restarts (podman's API service can be
// killed while containers run on under conmon). Then it is opened again,
// with back-off, and every (re)connection asks for a resync: events that
// happened while nobody listened are lost for good, so only a fresh listing
// says what the containers did meanwhile. The very first connection asks
// too: events between the first listing and the subscription are lost the
// same way.
import type { Logger } from 'pino';
import type { ContainerEngine, EngineEvent, EngineEventStream } from '../runtime';

export interface EngineWatchOptions {
  node: string;
  /** More label filters for the engine (e.g. `ozy.run`: a cron run's containers only). Default none. */
  labels?: string[];
  engine: Pick<ContainerEngine, 'events'>;
  onEvent(ev: EngineEvent): void;
  /** Connected (again): look at the containers, events may have been missed. */
  onResync(): void;
  log: Logger;
  /** First reconnect delay; doubles per failed attempt. Default 250 ms. */
  retryBaseMs?: number;
  /** Reconnect delay cap. Default 2000 ms (an engine restart is noticed within about that). */
  retryMaxMs?: number;
}

/** A stream open this long counts as a success: the reconnect back-off starts over after it breaks. */
const STABLE_MS = 10_000;

export class EngineWatch {
  private stream: EngineEventStream | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private failures = 0;
  /** The last failure logged (one line per distinct failure, not one per retry). */
  private lastError: string | undefined;
  private everConnected = false;
  /** When the open stream connected: a stream that keeps breaking at once must not reconnect (and resync) in a tight loop. */
  private connectedAt: number | undefined;

  constructor(private readonly opts: EngineWatchOptions) {}

  get connected(): boolean {
    return this.stream !== undefined;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stream?.close();
    this.stream = undefined;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let stream: EngineEventStream;
    try {
      stream = await this.opts.engine.events(
        { node: this.opts.node, ...(this.opts.labels ? { labels: this.opts.labels } : {}) },
        {
          onEvent: (ev) => {
            if (!this.stopped) this.opts.onEvent(ev);
          },
          onEnd: (err) => this.broken(err?.message ?? "the engine's event stream ended"),
        },
      );
    } catch (err) {
      this.broken(err instanceof Error ? err.message : String(err));
      return;
    }
    if (this.stopped) {
      stream.close();
      return;
    }
    this.stream = stream;
    this.connectedAt = Date.now();
    if (this.lastError !== undefined) this.opts.log.info('container engine answers again; resyncing (events may have been missed)');
    else if (this.everConnected) this.opts.log.info('engine event stream reopened; resyncing');
    this.lastError = undefined;
    this.everConnected = true;
    this.opts.onResync();
  }

  private broken(message: string): void {
    this.stream = undefined;
    if (this.stopped) return;
    // Back-off starts over only after a stream that served a while.
    if (this.connectedAt !== undefined && Date.now() - this.connectedAt >= STABLE_MS) this.failures = 0;
    this.connectedAt = undefined;
    // The wording is what operators (and the fault suite) look for in the logs.
    if (message !== this.lastError) this.opts.log.warn({ err: message }, 'cannot observe containers (engine event stream); keeping the last known state, reconnecting');
    this.lastError = message;
    const base = this.opts.retryBaseMs ?? 250;
    const delay = Math.min(this.opts.retryMaxMs ?? 2000, base * 2 ** Math.min(this.failures++, 16));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), delay);
    this.timer.unref();
  }
}
