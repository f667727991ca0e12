import type { Logger } from 'pino';

/** Retries `fn` with a doubling pause (200 ms → 5 s) until it succeeds or `retryable` says stop. */
export async function retryForever<T>(log: Logger, what: string, fn: () => Promise<T>, retryable: (err: unknown) => boolean = () => true): Promise<T> {
  let delay = 200;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!retryable(err)) throw err;
      log.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: delay }, `${what} failed; retrying`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}
