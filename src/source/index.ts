// The git source: the only isomorphic-git user. Everything other modules need.
export {
  GitSource,
  type GitSourceDeps,
  type GitSourceOptions,
  type GitSourceStats,
  type ReadFilesResult,
  type RepoFile,
  type SyncReportsOptions,
} from './git-source';
export {
  GitAuthError,
  GitBranchMissingError,
  type GitErrorCode,
  GitInvalidPathError,
  GitInvalidUrlError,
  GitLocalError,
  GitObjectMissingError,
  GitProtocolError,
  GitPushConflictError,
  GitPushRefusedError,
  GitRepoNotFoundError,
  GitRepoTooLargeError,
  GitSourceError,
  GitUnreachableError,
} from './errors';
export { DEFAULT_TOKEN_USERNAME, redact, splitUrlCredentials } from './credentials';
export { isValidBranchName } from './branch-name';
export { createHttpClient, type HttpClient } from './http-client';
export { DEFAULT_FETCH_LIMITS, type FetchLimits } from './pack-guard';
