// The shape every `ozy <command>` module exports.
import type { Readable, Writable } from 'node:stream';

export interface CommandIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** What the user pipes in (`ozy secret encrypt` reads the value there). */
  stdin?: Readable;
}

export interface Command {
  /** One line for `ozy --help`. */
  summary: string;
  /** Full text for `ozy <command> --help`. */
  usage: string;
  /** Returns the process exit code. */
  run(argv: string[], io: CommandIo): Promise<number>;
}
