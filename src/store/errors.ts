// The store's error taxonomy: one class per failure mode, each with a stable
// `code` and a `retryable` flag that callers' retry loops read. etcd3 and
// gRPC errors are translated into these once, in etcd-driver.ts; nothing
// outside src/store ever sees an etcd3 error.

import { OzyError } from '../errors';

export type StoreErrorCode =
  | 'ETCD_UNAVAILABLE'
  | 'ETCD_REQUEST_FAILED'
  | 'ETCD_REQUEST_REJECTED'
  | 'ETCD_ACCESS_DENIED'
  | 'NODE_TAKEN'
  | 'GUARD_FAILED'
  | 'LEASE_LOST'
  | 'VALUE_TOO_LARGE'
  | 'INVALID_ARGUMENT'
  | 'STORE_CLOSED'
  | 'CORRUPT_VALUE';

export abstract class StoreError extends OzyError<StoreErrorCode> {}

/** etcd could not be reached, timed out, or had no leader. Try again. */
export class EtcdUnavailableError extends StoreError {
  readonly code = 'ETCD_UNAVAILABLE';
  readonly retryable = true;
}

/** etcd answered with an error we do not expect to go away by retrying. */
export class EtcdRequestError extends StoreError {
  readonly code = 'ETCD_REQUEST_FAILED';
  readonly retryable = false;
}

/** etcd refused the request as malformed: too large, too many ops, duplicate key. A bug, not a fault. */
export class EtcdRequestRejectedError extends StoreError {
  readonly code = 'ETCD_REQUEST_REJECTED';
  readonly retryable = false;
}

/**
 * etcd cannot be used as configured: the TLS handshake failed (wrong CA,
 * missing or refused client certificate), the user or password is wrong,
 * or the user may not touch a key. The message says which and names the
 * flag or variable to fix; it never contains the password. Retrying does
 * not help until someone changes the configuration (the agent still
 * retries, as it does while etcd is unreachable).
 */
export class EtcdAccessError extends StoreError {
  readonly code = 'ETCD_ACCESS_DENIED';
  readonly retryable = false;
}

/** Another live agent holds this node name (its key is on another, live lease). */
export class NodeAlreadyRegisteredError extends StoreError {
  readonly code = 'NODE_TAKEN';
  readonly retryable = false;
  constructor(
    readonly node: string,
    readonly holder: { leaseId: string; agentId?: string },
  ) {
    super(
      `node "${node}" is already registered by a live agent` +
        `${holder.agentId ? ` (agent ${holder.agentId}, ` : ' ('}lease ${holder.leaseId})`,
    );
  }
}

/**
 * Someone committed a schedule after the revision a decision read.
 * commitSchedule reports this as `{ ok: false }`; the class exists for
 * callers that prefer to throw it up to their retry loop.
 */
export class ScheduleGuardError extends StoreError {
  readonly code = 'GUARD_FAILED';
  readonly retryable = true;
}

/** etcd says the lease is gone (expired or revoked): the node must fence itself. */
export class LeaseLostError extends StoreError {
  readonly code = 'LEASE_LOST';
  readonly retryable = false;
  constructor(
    readonly leaseId: string,
    message = `lease ${leaseId} is expired or revoked`,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A value would not fit in one etcd request (1.5 MiB); it is refused before sending. */
export class ValueTooLargeError extends StoreError {
  readonly code = 'VALUE_TOO_LARGE';
  readonly retryable = false;
  constructor(
    readonly key: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`value for ${key} is ${bytes} bytes; the limit is ${limit}`);
  }
}

/** The caller passed something the store must not write (bad name, bad TTL, duplicate key...). */
export class InvalidStoreArgumentError extends StoreError {
  readonly code = 'INVALID_ARGUMENT';
  readonly retryable = false;
}

export class StoreClosedError extends StoreError {
  readonly code = 'STORE_CLOSED';
  readonly retryable = false;
  constructor() {
    super('the cluster store is closed');
  }
}

/** A stored value is not JSON of the expected shape; it was skipped. */
export class CorruptValueError extends StoreError {
  readonly code = 'CORRUPT_VALUE';
  readonly retryable = false;
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`corrupt value at ${key}: ${reason}`);
  }
}

export function isStoreError(err: unknown): err is StoreError {
  return err instanceof StoreError;
}

/** Retryable errors (the shared check): callers back off and try again. */
export { isRetryable } from '../errors';
