// An in-memory ContainerEngine for unit tests of pod logic. It records
// every call and mimics the podman behaviours the pod code must handle:
// names are unique, an owner with joined containers cannot be removed.
import type { ContainerEngine, ExecResult, InspectedContainer } from '../../../src/runtime/engine';
import {
  ContainerHasDependentsError,
  ContainerNameConflictError,
  ContainerNotFoundError,
  PullError,
} from '../../../src/runtime/errors';
import type { EngineCreateOptions } from '../../../src/runtime/translate';
import type { LogFrame } from '../../../src/runtime/log-frames';

interface FakeContainer {
  id: string;
  opts: EngineCreateOptions;
  state: 'created' | 'running' | 'exited';
  createdAt: string;
}

export class FakeEngine implements ContainerEngine {
  readonly calls: string[] = [];
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Set<string>();
  /** Images whose pull fails. */
  readonly failingPulls = new Set<string>();
  /** Container names whose start fails. */
  readonly failingStarts = new Set<string>();
  /** Each stop's container and timeout (seconds), in call order. */
  readonly stops: Array<{ container: string; t: number }> = [];
  /** Awaited inside each stop (e.g. a container that ignores SIGTERM: advance a clock by t). */
  onStop: ((container: string, t: number) => Promise<void> | void) | undefined;
  /** Runs once after the next listManaged answered (to simulate a race). */
  afterNextList: (() => void) | undefined;
  private seq = 0;

  async ping(): Promise<void> {}

  async listManaged(node: string, filter: { instance?: string; job?: string } = {}): Promise<InspectedContainer[]> {
    const hook = this.afterNextList;
    this.afterNextList = undefined;
    const out = [...this.containers.values()]
      .filter((c) => c.opts.Labels['ozy.node'] === node)
      .filter((c) => filter.instance === undefined || c.opts.Labels['ozy.instance'] === filter.instance)
      .map((c) => this.facts(c));
    hook?.();
    return out;
  }

  async imageExists(image: string): Promise<boolean> {
    return this.images.has(image);
  }

  async ensureImage(image: string, opts: { onPullStart?: () => void } = {}): Promise<'present' | 'pulled'> {
    if (this.images.has(image)) return 'present';
    opts.onPullStart?.();
    this.calls.push(`pull ${image}`);
    if (this.failingPulls.has(image)) throw new PullError(image, 'manifest unknown');
    this.images.add(image);
    return 'pulled';
  }

  async importImage(_tar: Buffer, ref: string): Promise<void> {
    this.images.add(ref);
  }

  async create(opts: EngineCreateOptions): Promise<string> {
    for (const c of this.containers.values()) {
      if (c.opts.name === opts.name) throw new ContainerNameConflictError(`name ${opts.name} in use`);
    }
    const id = `id${++this.seq}`;
    // Distinct, increasing creation times with nanosecond-style fractions.
    const createdAt = `2026-01-01T00:00:${String(this.seq).padStart(2, '0')}.5Z`;
    this.containers.set(id, { id, opts, state: 'created', createdAt });
    this.calls.push(`create ${opts.Labels['ozy.container']}`);
    return id;
  }

  async start(id: string): Promise<void> {
    const c = this.get(id);
    this.calls.push(`start ${c.opts.Labels['ozy.container']}`);
    if (this.failingStarts.has(c.opts.Labels['ozy.container']!)) throw new Error('start failed');
    c.state = 'running';
  }

  async stop(id: string, t: number): Promise<void> {
    const c = this.get(id);
    const container = c.opts.Labels['ozy.container']!;
    this.calls.push(`stop ${container}`);
    this.stops.push({ container, t });
    await this.onStop?.(container, t);
    c.state = 'exited';
  }

  async remove(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    const joined = [...this.containers.values()].some((x) => x.opts.HostConfig.NetworkMode === `container:${id}`);
    if (joined) throw new ContainerHasDependentsError(`container ${id} has dependent containers`);
    this.calls.push(`remove ${c.opts.Labels['ozy.container']}`);
    this.containers.delete(id);
  }

  async inspect(idOrName: string): Promise<InspectedContainer> {
    const c = this.containers.get(idOrName) ?? [...this.containers.values()].find((x) => x.opts.name === idOrName);
    if (!c) throw new ContainerNotFoundError(`no container ${idOrName}`);
    return this.facts(c);
  }

  async exec(): Promise<ExecResult> {
    return { exitCode: 0, output: '' };
  }

  async *streamLogs(): AsyncIterable<LogFrame> {
    // Fake containers write nothing.
  }

  async logs(): Promise<{ stdout: string; stderr: string }> {
    return { stdout: '', stderr: '' };
  }

  async outputTail(): Promise<Buffer> {
    return Buffer.alloc(0);
  }

  async events(): Promise<{ close(): void }> {
    return { close: () => undefined };
  }

  async stats(): Promise<{ readAt: string; memoryUsage: number; memoryLimit: number; cpuTotalNs: number }> {
    return { readAt: new Date().toISOString(), memoryUsage: 0, memoryLimit: 0, cpuTotalNs: 0 };
  }

  /** Like dockerd: no batch endpoint. */
  async statsMany(): Promise<undefined> {
    return undefined;
  }

  /** Adds a container as if another agent or an earlier attempt had created it. */
  seed(opts: EngineCreateOptions, state: FakeContainer['state'] = 'running'): string {
    const id = `seed${++this.seq}`;
    this.containers.set(id, { id, opts, state, createdAt: `2026-01-01T00:00:${String(this.seq).padStart(2, '0')}Z` });
    return id;
  }

  private get(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new ContainerNotFoundError(`no container ${id}`);
    return c;
  }

  private facts(c: FakeContainer): InspectedContainer {
    return {
      id: c.id,
      name: c.opts.name,
      labels: { ...c.opts.Labels },
      state: c.state,
      exitCode: 0,
      oomKilledReported: false,
      memoryLimit: c.opts.HostConfig.Memory ?? 0,
      createdAt: c.createdAt,
      stoppedByUs: false,
      oomKilled: false,
    };
  }
}
