// Pure judgements of the node runtime: what state an instance is in, given
// what its containers are doing, and which instances the engine runs here.
// The supervisor (instance-supervisor.ts) feeds these from the engine.
import type { InstanceState, InstanceStatus } from '../model/cluster';
import type { Health, StopCause } from './health-state';
import { LABEL } from '../runtime/translate';
import type { RunningInstance } from './node-plan';

/** Never equal to a real spec hash: an instance whose containers disagree is replaced. */
export const MIXED_SPEC = '(mixed)';

/** One container of an instance as the supervisor last saw it. */
export interface ContainerView {
  name: string;
  id?: string;
  /** The engine's state ('running', 'exited'...), 'pending' before it exists, 'missing' when it vanished. */
  state: string;
  /** Set once it has exited. */
  exitCode?: number;
  oomKilled: boolean;
  /** Hard memory limit from the spec, bytes (0 = none). */
  memoryLimit: number;
  hasHealthcheck: boolean;
  health: Health;
  /** The back-off of a scheduled restart, ms (kept fixed so the message does not change every poll). */
  restartInMs?: number;
  /** Down, and its restart policy says to leave it so. */
  gaveUp: boolean;
  /** What its latest health check saw, when that check failed. */
  checkFailure?: string;
}

/** Where the instance's pod is in its life, before container states matter. */
export type PodPhase =
  | { kind: 'pending' }
  | { kind: 'pulling' }
  | { kind: 'starting' }
  | { kind: 'failed'; message: string; retryAt: number; retryInMs: number }
  | { kind: 'running' };

const DOWN = new Set(['exited', 'dead', 'created', 'missing']);

export function isDown(state: string): boolean {
  return DOWN.has(state);
}

/** Why a container stopped serving, for the restart policy; undefined while it serves (or is starting). */
export function stopCauseOf(c: Pick<ContainerView, 'state' | 'exitCode' | 'health'>): StopCause | undefined {
  // A container that vanished or never started did not end cleanly: -1 counts as a failure.
  if (c.state === 'missing' || c.state === 'created') return { kind: 'exited', exitCode: -1 };
  if (isDown(c.state)) return { kind: 'exited', exitCode: c.exitCode ?? 0 };
  if (c.state === 'running' && c.health === 'unhealthy') return { kind: 'unhealthy' };
  return undefined;
}

/**
 * The instance's state and message. Precedence: the pod phase (pending,
 * pulling, starting, failed), then a container that is down (exited), one
 * that fails its health check (unhealthy), one not yet running or not yet
 * proven healthy (starting); healthy only when every container runs and
 * passes its check.
 */
export function deriveInstanceState(phase: PodPhase, containers: readonly ContainerView[]): { state: InstanceState; message?: string } {
  if (phase.kind === 'failed') return { state: 'failed', message: `${phase.message}${retryNote(phase.retryInMs, 'retrying')}` };
  if (phase.kind !== 'running') return { state: phase.kind };
  const down = containers.find((c) => isDown(c.state));
  if (down) return { state: 'exited', message: `${describeExit(down)}${restartNote(down)}` };
  const failing = containers.find((c) => c.state === 'running' && c.health === 'unhealthy');
  if (failing) return { state: 'unhealthy', message: `container ${failing.name} fails its health check${sawNote(failing)}${restartNote(failing)}` };
  const waiting = containers.find((c) => c.state !== 'running' || (c.hasHealthcheck && c.health !== 'healthy'));
  if (waiting) {
    const why = waiting.state !== 'running' ? `container ${waiting.name} is ${waiting.state}` : `waiting for the health check of ${waiting.name}${sawNote(waiting)}`;
    return { state: 'starting', message: why };
  }
  return { state: 'healthy' };
}

export function describeExit(c: Pick<ContainerView, 'name' | 'state' | 'exitCode' | 'oomKilled' | 'memoryLimit'>): string {
  if (c.state === 'missing') return `container ${c.name} is missing`;
  if (c.state === 'created') return `container ${c.name} was created but not started`;
  if (c.oomKilled) return `container ${c.name}: OOM killed (memory limit ${formatBytes(c.memoryLimit)})`;
  return `container ${c.name} exited with code ${c.exitCode ?? 0}`;
}

function sawNote(c: Pick<ContainerView, 'checkFailure'>): string {
  return c.checkFailure !== undefined ? `: ${c.checkFailure}` : '';
}

function restartNote(c: Pick<ContainerView, 'restartInMs' | 'gaveUp'>): string {
  if (c.restartInMs !== undefined) return retryNote(c.restartInMs, 'restarting');
  return c.gaveUp ? '; not restarted (restart policy)' : '';
}

function retryNote(inMs: number, verb: string): string {
  const s = Math.max(0, inMs) / 1000;
  return `; ${verb} in ${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
}

/** 16777216 → "16Mi", 1610612736 → "1.5Gi", 1000 → "1000B". */
export function formatBytes(bytes: number): string {
  if (bytes <= 0) return 'none';
  const units: Array<[string, number]> = [
    ['Ti', 1024 ** 4],
    ['Gi', 1024 ** 3],
    ['Mi', 1024 ** 2],
    ['Ki', 1024],
  ];
  for (const [unit, size] of units) {
    if (bytes >= size) {
      const v = bytes / size;
      return `${Number.isInteger(v) ? v : v.toFixed(1).replace(/\.0$/, '')}${unit}`;
    }
  }
  return `${bytes}B`;
}

/** The per-container part of InstanceStatus. */
export function containerStatuses(containers: readonly ContainerView[]): InstanceStatus['containers'] {
  const out: InstanceStatus['containers'] = {};
  for (const c of containers) {
    const entry: InstanceStatus['containers'][string] = { state: c.state };
    if (c.id !== undefined) entry.id = c.id;
    if (isDown(c.state) && c.state !== 'missing' && c.state !== 'created') {
      entry.exitCode = c.exitCode ?? 0;
      entry.oomKilled = c.oomKilled;
    }
    out[c.name] = entry;
  }
  return out;
}

/**
 * The service and daemon instances the engine runs on this node, from
 * container labels (cron run pods, labelled ozy.run, are left out). An
 * instance whose containers carry different spec hashes (a replacement cut
 * short) gets MIXED_SPEC, so the node plan replaces it.
 */
export function runningInstances(containers: ReadonlyArray<{ labels: Record<string, string> }>): RunningInstance[] {
  const by = new Map<string, RunningInstance>();
  for (const c of containers) {
    const instance = c.labels[LABEL.instance];
    if (instance === undefined || instance === '') continue;
    // A cron run's pod is the RunExecutor's (run-executor.ts), never a service instance to stop or replace.
    if (c.labels[LABEL.run] !== undefined) continue;
    const job = c.labels[LABEL.job] ?? '';
    const hash = c.labels[LABEL.spec] ?? '';
    const seen = by.get(instance);
    if (seen === undefined) by.set(instance, { instance, job, specHash: hash });
    else if (seen.specHash !== hash || seen.job !== job) seen.specHash = MIXED_SPEC;
  }
  return [...by.values()].sort((a, b) => a.instance.localeCompare(b.instance));
}
