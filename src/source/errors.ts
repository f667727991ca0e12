// The git source's error taxonomy. isomorphic-git, Node network and file
// system errors are translated here, once, into classes with a stable `code`
// and a `retryable` flag. Messages are redacted: no credential ever leaves
// this module inside an error, and the original error is not attached as
// `cause` (loggers serialise causes, and third-party messages may carry
// URLs with userinfo or response bodies).
import { OzyError } from '../errors';
import { redact } from './credentials';

export type GitErrorCode =
  | 'GIT_UNREACHABLE'
  | 'GIT_AUTH'
  | 'GIT_REPO_NOT_FOUND'
  | 'GIT_BRANCH_MISSING'
  | 'GIT_PUSH_CONFLICT'
  | 'GIT_PUSH_REFUSED'
  | 'GIT_OBJECT_MISSING'
  | 'GIT_PROTOCOL'
  | 'GIT_INVALID_PATH'
  | 'GIT_INVALID_URL'
  | 'GIT_LOCAL'
  | 'GIT_REPO_TOO_LARGE'
  | 'GIT_ERROR';

export class GitSourceError extends OzyError<GitErrorCode> {
  /** The third-party error's code (isomorphic-git's `code`, or a Node errno like ECONNREFUSED), for diagnosis. */
  readonly causeCode: string | undefined;
  constructor(
    readonly code: GitErrorCode,
    message: string,
    /** True when the same call may succeed later without anyone changing configuration. */
    readonly retryable: boolean,
    causeCode?: string,
  ) {
    super(message);
    this.causeCode = causeCode;
  }
}

/** Network failure, timeout or a 5xx/429 answer: try again later; the local clone is untouched. */
export class GitUnreachableError extends GitSourceError {
  constructor(message: string, causeCode?: string) {
    super('GIT_UNREACHABLE', message, true, causeCode);
  }
}
/** 401/403: the credentials (OZY_GIT_TOKEN) are missing or wrong. */
export class GitAuthError extends GitSourceError {
  constructor(message: string, causeCode?: string) {
    super('GIT_AUTH', message, false, causeCode);
  }
}
/** 404 on the repository itself (some hosts also answer 404 to unauthorised requests). */
export class GitRepoNotFoundError extends GitSourceError {
  constructor(message: string, causeCode?: string) {
    super('GIT_REPO_NOT_FOUND', message, false, causeCode);
  }
}
/** The tracked branch does not exist on the server (or the repository is empty). */
export class GitBranchMissingError extends GitSourceError {
  constructor(readonly branch: string) {
    super('GIT_BRANCH_MISSING', `branch "${branch}" does not exist on the git server`, false);
  }
}
/** Report push kept losing the race against other pushers after every attempt. */
export class GitPushConflictError extends GitSourceError {
  constructor(readonly branch: string, readonly attempts: number) {
    super('GIT_PUSH_CONFLICT', `push to branch "${branch}" lost the race to other pushers ${attempts} times in a row`, true);
  }
}
/** The server refused the push for another reason (hook, protected branch, permissions). */
export class GitPushRefusedError extends GitSourceError {
  constructor(message: string, causeCode?: string) {
    super('GIT_PUSH_REFUSED', message, false, causeCode);
  }
}
/** A commit or tree asked for is not in the local clone (sync first). */
export class GitObjectMissingError extends GitSourceError {
  constructor(message: string, causeCode?: string) {
    super('GIT_OBJECT_MISSING', message, false, causeCode);
  }
}
export class GitProtocolError extends GitSourceError {
  constructor(message: string, causeCode?: string) {
    super('GIT_PROTOCOL', message, false, causeCode);
  }
}
/** A report path or reports dir that would escape its directory or touch `.git`. */
export class GitInvalidPathError extends GitSourceError {
  constructor(message: string) {
    super('GIT_INVALID_PATH', message, false);
  }
}
export class GitInvalidUrlError extends GitSourceError {
  constructor(message: string, causeCode?: string) {
    super('GIT_INVALID_URL', message, false, causeCode);
  }
}
/** The local clone could not be read or written (disk full, permissions). */
export class GitLocalError extends GitSourceError {
  constructor(message: string, causeCode?: string) {
    super('GIT_LOCAL', message, false, causeCode);
  }
}

/**
 * A fetch refused while its pack streamed in: the repository grew past the
 * fetch limits (pack-guard.ts). Nothing was written; the last fetched
 * commit stays in use. Fetching the same commits again is refused at once.
 */
export class GitRepoTooLargeError extends GitSourceError {
  constructor(
    /** What crossed which limit, e.g. "an object of 209715200 bytes is larger than 16777216 bytes". */
    readonly reason: string,
    message?: string,
  ) {
    super('GIT_REPO_TOO_LARGE', message ?? `fetch refused: the repository is too large: ${reason}`, false);
  }
}

export interface TranslateContext {
  /** What we were doing, e.g. "fetch branch main". */
  operation: string;
  /** The repository URL without credentials. */
  url: string;
  /** Secret strings to scrub from any text taken from the third-party error. */
  secrets: readonly string[];
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ECONNABORTED', 'EHOSTDOWN', 'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE', 'ABORT_ERR',
]);
const NETWORK_MESSAGES = /socket hang up|request timed out|aborted|premature close|timeout/i;
const LOCAL_CODES = new Set(['ENOSPC', 'EACCES', 'EPERM', 'EROFS', 'EMFILE', 'ENFILE', 'EIO', 'EDQUOT', 'ENOTDIR', 'EISDIR']);

function field(err: unknown, name: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[name] : undefined;
}

function httpStatus(err: unknown): number | undefined {
  const data = field(err, 'data');
  const status = field(data, 'statusCode');
  return typeof status === 'number' ? status : undefined;
}

/** Translates any error thrown by isomorphic-git, the HTTP client or the file system. */
export function translateGitError(err: unknown, ctx: TranslateContext): GitSourceError {
  if (err instanceof GitSourceError) return err;
  const code = typeof field(err, 'code') === 'string' ? (field(err, 'code') as string) : undefined;
  const rawMessage = err instanceof Error ? err.message : String(err);
  const message = redact(rawMessage, ctx.secrets);
  const where = `${ctx.operation} (${redact(ctx.url, ctx.secrets)})`;

  if (code === 'HttpError') {
    const status = httpStatus(err) ?? 0;
    if (status === 401 || status === 403) {
      return new GitAuthError(`${where}: authentication failed (HTTP ${status}); check OZY_GIT_TOKEN`, code);
    }
    if (status === 404) return new GitRepoNotFoundError(`${where}: repository not found (HTTP 404)`, code);
    if (status >= 500 || status === 408 || status === 429) {
      return new GitUnreachableError(`${where}: git server answered HTTP ${status}`, code);
    }
    return new GitProtocolError(`${where}: unexpected HTTP ${status}`, code);
  }
  if (code === 'SmartHttpError' || code === 'ParseError' || code === 'RemoteCapabilityError' || code === 'EmptyServerResponseError') {
    return new GitProtocolError(`${where}: the server did not speak git smart HTTP`, code);
  }
  if (code === 'UrlParseError' || code === 'UnknownTransportError' || code === 'ERR_INVALID_URL') {
    return new GitInvalidUrlError(`${where}: unsupported or malformed repository URL (http(s) only)`, code);
  }
  if (code === 'NotFoundError') return new GitObjectMissingError(`${where}: ${message}`, code);
  if ((code && NETWORK_CODES.has(code)) || (!code && NETWORK_MESSAGES.test(rawMessage)) || field(err, 'name') === 'AbortError') {
    return new GitUnreachableError(`${where}: git server unreachable (${code ?? message})`, code);
  }
  if (code && LOCAL_CODES.has(code)) return new GitLocalError(`${where}: local clone: ${message}`, code);
  return new GitSourceError('GIT_ERROR', `${where}: ${message}`, false, code);
}

const LOST_RACE = /fetch first|non-fast-forward|failed to lock|cannot lock|stale info|failed to update ref|reference already exists|incorrect old value/i;

/**
 * True when a push failed because the branch moved under us (someone else
 * pushed first): the caller re-fetches and retries. isomorphic-git says so
 * client-side (PushRejectedError, or our pre-push check cancelling:
 * UserCanceledError); the server says so per ref (GitPushError) when the
 * compare-and-swap of the ref update loses.
 */
export function isPushConflict(err: unknown): boolean {
  const code = field(err, 'code');
  if (code === 'PushRejectedError' || code === 'UserCanceledError') return true;
  if (code !== 'GitPushError') return false;
  const details = field(field(err, 'data'), 'prettyDetails');
  return typeof details === 'string' && LOST_RACE.test(details);
}
