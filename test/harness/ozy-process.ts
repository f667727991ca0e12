// An `ozy` command (ingress, dns, ...) as a child process, with its pino
// log captured and the address it logs when listening.
import { spawn, type ChildProcess } from 'node:child_process';
import { ozyEntry } from '../../src/paths';
import { waitFor } from './wait';

export interface OzyProcess {
  proc: ChildProcess;
  logs(): string;
  /** The "address" logged with `msg` (e.g. "ingress listening"). */
  address(msg: string): Promise<string>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** `nodeArgs` go to node itself (e.g. --cpu-prof). */
export function startOzy(args: string[], nodeArgs: string[] = []): OzyProcess {
  const proc = spawn(process.execPath, [...nodeArgs, ozyEntry(), ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OZY_LOG_LEVEL: 'debug' } });
  let log = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  let code: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve((code = c))));
  return {
    proc,
    logs: () => log,
    address: (msg) =>
      waitFor(`"${msg}" in the log`, () => {
        if (code !== undefined) throw new Error(`ozy ${args[0]} exited with ${code}:\n${log}`);
        for (const line of log.split('\n')) {
          if (!line.includes(`"msg":"${msg}"`)) continue;
          const a = (JSON.parse(line) as { address?: string }).address;
          if (a) return a;
        }
        return undefined;
      }, { timeoutMs: 20_000 }),
    async stop() {
      if (code === undefined) proc.kill('SIGTERM');
      return exit;
    },
  };
}
