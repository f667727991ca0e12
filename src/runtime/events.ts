// The engine's container events (Docker `/events`), in our own terms, and
// the pure parsing of the stream's JSON lines.
//
// What podman 4.3.1's compatible service sends here (checked against a real
// service, filters type=container and label=ozy.node=<node>): create, init,
// start, kill (only when someone kills or stops it through the API), die
// (attribute exitCode), cleanup, remove. The label filter is applied by the
// engine; `since` replays past events. It sends no `oom` event and never sets
// State.OOMKilled (see oom.ts); dockerd sends `oom` before `die`.

/** The actions a supervisor reacts to; everything else is `other`. */
export type EngineEventAction = 'create' | 'start' | 'kill' | 'die' | 'oom' | 'stop' | 'destroy' | 'other';

export interface EngineEvent {
  action: EngineEventAction;
  /** The engine's raw action name (`cleanup`, `init`, `remove`, `health_status: healthy`...). */
  rawAction: string;
  /** Container id. */
  id: string;
  /** The container's labels (ozy.instance...), from the event's actor attributes. */
  labels: Record<string, string>;
  /** On `die`: the exit code, when the engine says. */
  exitCode?: number;
  /** On `kill`: the signal, when the engine says. */
  signal?: string;
  /** Engine time, nanoseconds since the epoch (0 when absent). */
  timeNano: bigint;
}

/** Subscription to the event stream; the engine filters by label. */
export interface EngineEventsOptions {
  /** Only containers labelled `ozy.node=<node>`. */
  node: string;
  /**
   * More label filters for the engine (`key` or `key=value`), e.g. `ozy.run`.
   * A hint only: podman 4.3 ignores a key-only label filter on events
   * (listings honour it), so check the labels of what arrives.
   */
  labels?: string[];
  /** Replay events since this engine time (seconds since the epoch, may be fractional). */
  sinceSec?: number;
}

export interface EngineEventHandlers {
  onEvent(ev: EngineEvent): void;
  /** The stream ended or broke (engine restarted...); no more events come from it. Called once. */
  onEnd(err?: Error): void;
}

export interface EngineEventStream {
  /** Ends the subscription; onEnd is not called after close(). */
  close(): void;
}

const ACTIONS: Record<string, EngineEventAction> = {
  create: 'create',
  start: 'start',
  restart: 'start',
  unpause: 'start',
  kill: 'kill',
  die: 'die',
  oom: 'oom',
  stop: 'stop',
  pause: 'stop',
  destroy: 'destroy',
  // podman's name for destroy.
  remove: 'destroy',
};

/**
 * One line of the stream → an event, or undefined for anything that is not
 * a container event we can attribute (images, volumes, junk). Accepts both
 * the current shape (Type/Action/Actor) and the legacy one (status/id).
 */
export function parseEngineEvent(line: string): EngineEvent | undefined {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (o === null || typeof o !== 'object') return undefined;
  const r = o as Record<string, unknown>;
  const type = str(r.Type) ?? str(r.type);
  if (type !== undefined && type !== 'container') return undefined;
  const raw = str(r.Action) ?? str(r.status);
  const actor = r.Actor !== null && typeof r.Actor === 'object' ? (r.Actor as Record<string, unknown>) : {};
  const id = str(actor.ID) ?? str(r.id);
  if (raw === undefined || id === undefined) return undefined;
  const attrs = actor.Attributes !== null && typeof actor.Attributes === 'object' ? (actor.Attributes as Record<string, unknown>) : {};
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (typeof v === 'string') labels[k] = v;
  // dockerd: "exec_start: /bin/sh ..." and "health_status: healthy" carry a suffix.
  const action = ACTIONS[raw.split(':')[0]!.trim()] ?? 'other';
  const ev: EngineEvent = { action, rawAction: raw, id, labels, timeNano: timeNanoOf(r) };
  const exit = Number(labels.exitCode);
  if (action === 'die' && labels.exitCode !== undefined && Number.isInteger(exit)) ev.exitCode = exit;
  if (action === 'kill' && labels.signal !== undefined) ev.signal = labels.signal;
  return ev;
}

/** Splits a stream's chunks into complete lines (a JSON object may span chunks). */
export class EventLineBuffer {
  private rest = '';
  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    return parts.filter((l) => l.trim() !== '');
  }
}

function timeNanoOf(r: Record<string, unknown>): bigint {
  const n = r.timeNano;
  if (typeof n === 'number' && Number.isFinite(n)) return BigInt(Math.trunc(n));
  if (typeof n === 'string' && /^\d+$/.test(n)) return BigInt(n);
  const s = r.time;
  return typeof s === 'number' && Number.isFinite(s) ? BigInt(Math.trunc(s)) * 1_000_000_000n : 0n;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
