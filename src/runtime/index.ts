// The container runtime: the only module that talks to the Docker Engine
// API (podman's compatible service or dockerd).
//
//   translate.ts   job model → Engine API create options (pure)
//   volumes.ts     where local / shared / persistent volumes live (pure)
//   facts.ts       container states, log frames (pure)
//   oom.ts         the OOM verdict and its source: engine, cgroup, exit code
//   events.ts      the engine's container events, parsed (pure)
//   engine.ts      ContainerEngine: the dockerode wrapper, errors translated
//   pod.ts         PodRuntime: start / stop / restart a pod in order
//   pod-stop.ts    stop waves (reverse depends_on) and the pod's one deadline (pure)
//   log-frames.ts  the multiplexed log stream, split as it arrives (pure)
//   local-image.ts the busybox test image, imported through the API
export * from './errors';
export * from './translate';
export { normalizeState, compareEngineTimes, cpuMillicores, type ContainerFacts, type ContainerState, type ContainerStats } from './facts';
export { judgeOom, hostCgroupOomProbe, kernelLogNamesOom, type CgroupOomProbe, type CgroupOomReading, type OomSource, type OomVerdict } from './oom';
export { parseEngineEvent, EventLineBuffer, type EngineEvent, type EngineEventAction, type EngineEventHandlers, type EngineEventStream, type EngineEventsOptions } from './events';
export { createEngine, translateEngineError, type ContainerEngine, type DockerEngineOptions, type EnsureImageOptions, type ExecResult, type InspectedContainer, type ManagedFilter } from './engine';
export { PodRuntime, groupByInstance, podOf, stopOrder, type PodHooks, type PodRuntimeOptions, type PodSpec, type StartedContainer, type StartedPod } from './pod';
export { stopOptionsOf, stopTimeoutSec, stopWaves, type PodStopOptions } from './pod-stop';
export { LogFrameSplitter, type LogFrame } from './log-frames';
export { BUSYBOX_IMAGE, buildBusyboxImage } from './local-image';
export { parseImageRef, type ImageRef } from './image-ref';
export { parseRegistryAuth, type RegistryAuth } from './registry-auth';
export type { ProgressEvent } from './progress';
