// The runtime's error taxonomy: one class per failure mode, each with a
// stable `code` and a `retryable` flag that callers' retry loops read.
// dockerode / Docker Engine API errors are translated into these once, in
// engine.ts (translateEngineError); nothing outside src/runtime ever sees a
// dockerode error.

import { OzyError } from '../errors';

export type RuntimeErrorCode =
  | 'ENGINE_UNAVAILABLE'
  | 'ENGINE_REQUEST_FAILED'
  | 'IMAGE_PULL_FAILED'
  | 'IMAGE_NOT_FOUND'
  | 'IMAGE_BUILD_FAILED'
  | 'CONTAINER_NOT_FOUND'
  | 'CONTAINER_NAME_CONFLICT'
  | 'CONTAINER_HAS_DEPENDENTS'
  | 'EXEC_TIMEOUT'
  | 'POD_START_FAILED'
  | 'INVALID_REGISTRY_AUTH';

export abstract class RuntimeError extends OzyError<RuntimeErrorCode> {}

/** The engine's socket is missing, refuses connections or hung up. Try again. */
export class EngineUnavailableError extends RuntimeError {
  readonly code = 'ENGINE_UNAVAILABLE';
  readonly retryable = true;
}

/** The engine answered with an error we have no better class for. */
export class EngineRequestError extends RuntimeError {
  readonly code = 'ENGINE_REQUEST_FAILED';
  /** Server-side (5xx) failures may be transient; 4xx are our mistake. */
  readonly retryable: boolean;
  constructor(
    message: string,
    readonly statusCode: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retryable = statusCode === undefined || statusCode >= 500;
  }
}

/**
 * A pull failed: the registry's own message is in `message` (never any
 * credentials). Retryable because registries and networks recover; a tag
 * that does not exist fails again, which the caller's back-off absorbs.
 */
export class PullError extends RuntimeError {
  readonly code = 'IMAGE_PULL_FAILED';
  readonly retryable = true;
  constructor(
    readonly image: string,
    readonly registryMessage: string,
    options?: { cause?: unknown },
  ) {
    super(`pull of ${image} failed: ${registryMessage}`, options);
  }
}

/** An image is not in local storage (create without a prior pull). */
export class ImageNotFoundError extends RuntimeError {
  readonly code = 'IMAGE_NOT_FOUND';
  readonly retryable = false;
}

/** Building or importing a local image failed. */
export class ImageBuildError extends RuntimeError {
  readonly code = 'IMAGE_BUILD_FAILED';
  readonly retryable = false;
}

export class ContainerNotFoundError extends RuntimeError {
  readonly code = 'CONTAINER_NOT_FOUND';
  readonly retryable = false;
}

/** A container with that name already exists (a leftover of an earlier attempt). */
export class ContainerNameConflictError extends RuntimeError {
  readonly code = 'CONTAINER_NAME_CONFLICT';
  readonly retryable = false;
}

/** podman refuses to remove a namespace owner while containers join it. */
export class ContainerHasDependentsError extends RuntimeError {
  readonly code = 'CONTAINER_HAS_DEPENDENTS';
  readonly retryable = false;
}

/** An exec (health check) did not finish in time. */
export class ExecTimeoutError extends RuntimeError {
  readonly code = 'EXEC_TIMEOUT';
  readonly retryable = true;
}

/** Starting a pod failed part-way; what was created has been removed again. */
export class PodStartError extends RuntimeError {
  readonly code = 'POD_START_FAILED';
  readonly retryable: boolean;
  constructor(
    readonly instance: string,
    /** The container whose step failed. */
    readonly container: string,
    readonly step: 'pull' | 'secrets' | 'volumes' | 'create' | 'start' | 'ready',
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`instance ${instance}: container ${container}: ${step} failed: ${why}`, { cause });
    this.retryable = cause instanceof RuntimeError ? cause.retryable : true;
  }
}

/** OZY_REGISTRY_AUTH is not the JSON it should be. The value itself is never repeated. */
export class RegistryAuthConfigError extends RuntimeError {
  readonly code = 'INVALID_REGISTRY_AUTH';
  readonly retryable = false;
}
