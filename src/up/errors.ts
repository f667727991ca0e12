// `ozy up`'s failures: one class, a stable code per failure mode, and the
// retryable marker the rest of the project uses. Every message says what to
// do about it, because `ozy up` is the first thing a newcomer runs.

export type UpErrorCode =
  | 'UP_USAGE'
  | 'UP_ALREADY_RUNNING'
  | 'UP_MISSING_PROGRAM'
  | 'UP_PORT_TAKEN'
  | 'UP_START_FAILED'
  | 'UP_REPO_INVALID';

export class UpError extends Error {
  constructor(
    readonly code: UpErrorCode,
    message: string,
    /** True when running `ozy up` again later may succeed (e.g. a port became free). */
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpError';
  }
}
