// A bad flag, variable or file in a command's configuration (exit 2 with
// the message). Its own module so that config.ts and the loaders it uses
// can share it without an import cycle.
import { OzyError } from './errors';

export class ConfigError extends OzyError<'CONFIG_INVALID'> {
  readonly code = 'CONFIG_INVALID';
  readonly retryable = false;
}
