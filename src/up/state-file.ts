// `<state-dir>/up.json`: the lock that makes a second `ozy up` on the same
// state dir notice the first, and the record of what the first started
// (endpoints for the user, process ids for cleaning up after a crash).
// Created exclusively (link(2)) so two `ozy up`s cannot both take it; updated
// by write-then-rename so a reader never sees half a file.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface StartedProcess {
  pid: number;
  /** A string the process's command line contains (a path under the state dir), to tell it from a reused pid. */
  marker: string;
}

export interface UpState {
  pid: number;
  startedAt: string;
  phase: 'starting' | 'running' | 'stopping';
  stateDir: string;
  etcd?: { endpoint: string; startedByUp: boolean; clientPort?: number; peerPort?: number };
  git?: { url: string; port: number; repoDir: string };
  podman?: { socketPath: string; startedByUp: boolean };
  /** `ozy ingress`'s HTTP address (host:port). */
  ingress?: { address: string };
  /** `ozy dns`'s address (host:port, UDP and TCP). */
  dns?: { address: string; zone: string };
  /** `ozy dashboard`'s HTTP address (host:port). */
  dashboard?: { address: string };
  nodes: string[];
  /** Everything we spawned that outlives us if we are killed. */
  processes: Record<string, StartedProcess>;
}

export const STATE_FILE = 'up.json';

export type LockResult =
  | { ok: true }
  | { ok: false; running: UpState }
  /** A previous `ozy up` died without cleaning up; its record is returned and the lock is ours now. */
  | { ok: true; stale: UpState };

export interface ProcessProbe {
  /** True when a process with this pid exists and has not exited (a zombie is not alive). */
  alive(pid: number): boolean;
  /** Its command line (arguments joined by spaces), or undefined when unknown. */
  cmdline(pid: number): string | undefined;
}

export const procProbe: ProcessProbe = {
  alive(pid) {
    try {
      process.kill(pid, 0);
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
    // The children of a killed `ozy up` belong to init once they exit, and
    // stay zombies until it reaps them (a second or two on some machines):
    // they have stopped, and waiting for the reaping would only add time.
    return !isZombie(pid);
  },
  cmdline(pid) {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      return undefined;
    }
  },
};

/** True when /proc says the process has exited but was not reaped yet (state Z); false when unknown. */
export function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ...": comm may itself hold spaces and parentheses, the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 1).trim().startsWith('Z');
  } catch {
    return false;
  }
}

/** The running `ozy up` is alive when its pid exists and still runs ozy (pids get reused). */
export function upIsAlive(state: UpState, probe: ProcessProbe): boolean {
  if (!probe.alive(state.pid)) return false;
  const cmd = probe.cmdline(state.pid);
  return cmd === undefined || /\bozy\b|ozy\.js/.test(cmd);
}

/** A recorded child is still ours when alive and its command line contains its marker. */
export function isOurProcess(p: StartedProcess, probe: ProcessProbe): boolean {
  if (!probe.alive(p.pid)) return false;
  const cmd = probe.cmdline(p.pid);
  return cmd !== undefined && cmd.includes(p.marker);
}

export class StateFile {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = path.join(stateDir, STATE_FILE);
  }

  /** Takes the lock for `initial`, or reports the `ozy up` that holds it. */
  acquire(initial: UpState, probe: ProcessProbe = procProbe): LockResult {
    fs.mkdirSync(path.dirname(this.path), { recursive: true });
    let stale: UpState | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.createExclusive(initial)) return stale ? { ok: true, stale } : { ok: true };
      const held = this.read();
      if (held && upIsAlive(held, probe)) return { ok: false, running: held };
      // Dead holder (or an unreadable file): move it aside atomically, so of two
      // starting `ozy up`s only one takes over the stale record.
      const aside = `${this.path}.stale-${process.pid}`;
      try {
        fs.renameSync(this.path, aside);
        fs.rmSync(aside, { force: true });
        if (held) stale = held;
      } catch {
        // someone else moved it; try again
      }
    }
    const held = this.read();
    if (held) return { ok: false, running: held };
    throw new Error(`cannot take the lock ${this.path}`);
  }

  /** link(2) of a complete temp file: atomic, and fails if the lock exists, so nobody reads half a lock. */
  private createExclusive(state: UpState): boolean {
    const tmp = `${this.path}.new-${process.pid}`;
    fs.writeFileSync(tmp, json(state));
    try {
      fs.linkSync(tmp, this.path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return false;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  read(): UpState | undefined {
    try {
      const v = JSON.parse(fs.readFileSync(this.path, 'utf8')) as unknown;
      return isUpState(v) ? v : undefined;
    } catch {
      return undefined;
    }
  }

  write(state: UpState): void {
    const tmp = `${this.path}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, json(state));
    fs.renameSync(tmp, this.path);
  }

  /** Removes the lock if it is still ours. */
  release(pid = process.pid): void {
    const held = this.read();
    if (held === undefined || held.pid === pid) fs.rmSync(this.path, { force: true });
  }
}

function json(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

function isUpState(v: unknown): v is UpState {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.pid === 'number' && typeof o.stateDir === 'string' && Array.isArray(o.nodes) && typeof o.processes === 'object' && o.processes !== null;
}
