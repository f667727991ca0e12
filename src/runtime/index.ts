// The container runtime: the only module that talks to the Docker Engine
// API (podman's compatible service or dockerd).
//
//   translate.ts   job model → Engine API create options (pure)
//   volumes.ts     where local / shared volumes live (pure)
//   facts.ts       container states, the OOM verdict, log frames (pure)
//   engine.ts      ContainerEngine: the dockerode wrapper, errors translated
//   pod.ts         PodRuntime: start / stop / restart a pod in order
//   local-image.ts the busybox test image, imported through the API
export * from './errors';
export * from './translate';
export { isOomKill, normalizeState, compareEngineTimes, cpuMillicores, type ContainerFacts, type ContainerState, type ContainerStats } from './facts';
export { createEngine, translateEngineError, type ContainerEngine, type DockerEngineOptions, type EnsureImageOptions, type InspectedContainer } from './engine';
export { PodRuntime, groupByInstance, podOf, stopOrder, type PodHooks, type PodRuntimeOptions, type PodSpec, type StartedContainer, type StartedPod } from './pod';
export { BUSYBOX_IMAGE, buildBusyboxImage } from './local-image';
export { parseImageRef, type ImageRef } from './image-ref';
export { parseRegistryAuth, type RegistryAuth } from './registry-auth';
export type { ProgressEvent } from './progress';
