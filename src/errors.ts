// The shared shape of Ozymandias' errors: every failure has a stable `code`
// (for logs, tests and callers' branches) and a `retryable` flag that retry
// loops read. Each module that talks to an outside system (src/store etcd,
// src/runtime the container engine, src/source git) has its own subclass and
// codes, and translates third-party errors into them once, at its edge.

export abstract class OzyError<Code extends string = string> extends Error {
  abstract readonly code: Code;
  /** True when the same call may succeed if simply tried again later. */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** True for an Ozymandias error marked retryable; false for anything else. */
export function isRetryable(err: unknown): boolean {
  return err instanceof OzyError && err.retryable;
}
