// What to do when an attempt to reach an instance failed (pure): send the
// request again, and where, or answer the client. The rule is that a request
// is replayed only when replaying it cannot do anything the first attempt
// did not already do twice:
//
//   - the connection could not be made (refused, unreachable, connect
//     timeout): nothing reached the instance; the next instance in line,
//     each instance tried at most once per request;
//   - a pooled keep-alive connection that the instance had closed (reset or
//     EOF before any byte of the response, on a reused connection): the
//     request never got there; again on a new connection to the same
//     instance, once per attempt;
//   - a new connection reset or closed before any byte of the response (an
//     instance stopping during a rolling update): the request may have
//     reached it, so only a request that is safe to repeat (GET, HEAD,
//     OPTIONS) or whose body was not sent yet goes to another instance,
//     once per request.
//
// Anything else (a timeout, a response cut halfway, a malformed response)
// is answered: 504, or 502, or a cut connection once the response started.
import { UPSTREAM_CLOSED, type UpstreamFailure } from './upstream-conn';

export type RetryDecision =
  /** A new connection to the same instance. */
  | 'same-instance'
  /** The next instance in the request's order. */
  | 'next-instance'
  | 'answer';

/** Errors of connecting: nothing reached the instance. */
export const CONNECT_ERRORS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT']);
/** A connection the instance dropped before answering. */
const DROPPED: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', UPSTREAM_CLOSED]);
/** Methods whose repetition has no further effect (RFC 9110 §9.2.1, the ones a proxy may assume). */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AttemptState {
  method: string;
  /** The request has a body (Content-Length above 0 or chunked). */
  hasBody: boolean;
  /** A byte of the body was read from the client and sent: it cannot be sent again. */
  bodyStarted: boolean;
  /** Instances left after this one in the request's order. */
  instancesLeft: number;
  /** Stale pooled connections already retried on this instance. */
  staleRetries: number;
  /** Retries on another instance after a dropped connection, this request. */
  dropRetries: number;
}

export function decideRetry(f: UpstreamFailure, a: AttemptState): RetryDecision {
  if (f.responseStarted) return 'answer';
  if (!f.connected) return CONNECT_ERRORS.has(f.code) && a.instancesLeft > 0 ? 'next-instance' : 'answer';
  if (!DROPPED.has(f.code) || a.bodyStarted) return 'answer';
  if (f.reused) return a.staleRetries < 1 ? 'same-instance' : 'answer';
  const replayable = SAFE_METHODS.has(a.method) || a.hasBody;
  return replayable && a.dropRetries < 1 && a.instancesLeft > 0 ? 'next-instance' : 'answer';
}
