// The processes `ozy up` started, in the order it started them, so it can
// stop them in reverse, report the ones that died, and record their pids
// (for cleaning up after an `ozy up` that was killed).
import type { LoggedChild } from './child';
import type { StartedProcess } from './state-file';

export interface Supervised {
  /** "etcd", "podman", "agent node-1"... */
  name: string;
  child: LoggedChild;
  logFile: string;
  /** See StartedProcess.marker. */
  marker: string;
}

export class Supervisor {
  private readonly items: Supervised[] = [];
  private readonly died = new Map<string, string>();
  private stopping = false;

  add(item: Supervised): void {
    this.items.push(item);
    void item.child.exit.then(({ code, signal, error }) => {
      if (this.stopping) return;
      const how = error ? `could not run: ${error.message}` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
      this.died.set(item.name, `${item.name} ${how}; see ${item.logFile}`);
    });
  }

  /** Messages about processes that ended while they should be running. */
  problems(): string[] {
    return [...this.died.values()];
  }

  find(name: string): Supervised | undefined {
    return this.items.find((i) => i.name === name);
  }

  /** pid + marker of each process still running, by name (for the state file). */
  record(): Record<string, StartedProcess> {
    const out: Record<string, StartedProcess> = {};
    for (const i of this.items) if (i.child.isRunning() && i.child.pid !== undefined) out[i.name] = { pid: i.child.pid, marker: i.marker };
    return out;
  }

  /** From now on, exits are expected. */
  beginStopping(): void {
    this.stopping = true;
  }
}
