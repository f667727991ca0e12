// The shape every `ozy <command>` module exports.
import type { Writable } from 'node:stream';

export interface CommandIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface Command {
  /** One line for `ozy --help`. */
  summary: string;
  /** Full text for `ozy <command> --help`. */
  usage: string;
  /** Returns the process exit code. */
  run(argv: string[], io: CommandIo): Promise<number>;
}
