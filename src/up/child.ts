// A child process whose output goes to a log file, that can be stopped
// politely (SIGTERM, then SIGKILL after a grace period) and whose exit can
// be awaited. `ozy up` starts its children detached (their own process
// group), so the Ctrl-C a terminal sends to the foreground group reaches
// `ozy up` alone, which then stops them in order.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

export interface SpawnLoggedOptions {
  /** stdout and stderr are appended here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Own process group: signals sent to the parent's group do not reach it. Default false. */
  detached?: boolean;
  /** Working directory. Default the parent's. */
  cwd?: string;
}

export interface LoggedChild {
  readonly pid: number | undefined;
  readonly proc: ChildProcess;
  /** Resolves once the process has exited (or failed to spawn). */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
  isRunning(): boolean;
  /** Sends a signal if still running. */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once exited. */
  terminate(graceMs: number): Promise<void>;
}

export function spawnLogged(command: string, args: readonly string[], opts: SpawnLoggedOptions): LoggedChild {
  const fd = fs.openSync(opts.logFile, 'a');
  let proc: ChildProcess;
  try {
    proc = spawn(command, args, { stdio: ['ignore', fd, fd], env: opts.env ?? process.env, detached: opts.detached ?? false, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  } finally {
    fs.closeSync(fd);
  }
  let running = true;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    proc.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
    proc.once('error', (error) => {
      running = false;
      resolve({ code: null, signal: null, error });
    });
  });
  const signal = (sig: NodeJS.Signals): void => {
    if (!running) return;
    try {
      proc.kill(sig);
    } catch {
      // already gone
    }
  };
  return {
    get pid() {
      return proc.pid;
    },
    proc,
    exit,
    isRunning: () => running,
    signal,
    async terminate(graceMs) {
      if (!running) return;
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** The last `lines` lines of a log file, for error messages. */
export function logTail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
