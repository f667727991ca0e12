// The only dockerode user: a narrow ContainerEngine interface over the
// Docker Engine API (podman's compatible service or dockerd). Every
// dockerode error is translated here, once, into src/runtime/errors.ts.
//
// podman facts this module relies on (checked on podman 4.3.1, see
// ENVIRONMENT.md): a failed pull answers HTTP 200 with the error inside the
// progress stream; State.OOMKilled is never set and no `oom` event is sent
// (oom.ts reads the cgroup instead); stopping an already
// stopped container answers 304; removing a namespace owner that others
// join fails with "has dependent containers"; a detached exec's session is
// gone once it ends, so execs are run attached.
import { Readable } from 'node:stream';
// Before dockerode: keeps its unused ssh2 dependency from being loaded.
import './without-ssh';
import Docker from 'dockerode';
import type DockerModem from 'docker-modem';
import type { EngineCreateOptions } from './translate';
import { LABEL } from './translate';
import {
  ContainerHasDependentsError,
  ContainerNameConflictError,
  ContainerNotFoundError,
  EngineRequestError,
  EngineUnavailableError,
  ExecTimeoutError,
  ImageBuildError,
  ImageNotFoundError,
  PullError,
  RuntimeError,
} from './errors';
import { EventLineBuffer, parseEngineEvent, type EngineEventHandlers, type EngineEventStream, type EngineEventsOptions } from './events';
import { engineTime, hostPortsOf, normalizeState, type ContainerFacts, type ContainerStats } from './facts';
import { hostCgroupOomProbe, judgeOom, type CgroupOomProbe, type OomSource, type OomVerdict } from './oom';
import { hostProcessTable, killExecProcess, type ExecKillResult, type ProcessTable } from './exec-kill';
import { formatImageRef, parseImageRef } from './image-ref';
import { ExecOutput } from './exec-output';
import { LIBPOD_STATS_BATCH, LIBPOD_STATS_PATH, parseLibpodStats } from './libpod-stats';
import { framesOf, lastBytes, lastLines, LogFrameSplitter, splitStreams, type LogFrame } from './log-frames';
import { LineSplitter, parseProgressLine, type ProgressEvent } from './progress';
import { authFor, parseRegistryAuth, type RegistryAuth } from './registry-auth';
import { mapLimited } from '../map-limited';

/** A container as inspected, with the OOM verdict computed. */
/** How an exec ended: its exit code and the first bytes it printed (stdout and stderr, as written). */
export interface ExecResult {
  exitCode: number;
  output: string;
}

export interface InspectedContainer extends ContainerFacts {
  /** This engine object stopped it (so a 137 is our SIGKILL, not the kernel's). */
  stoppedByUs: boolean;
  /** See judgeOom in oom.ts. */
  oomKilled: boolean;
  /** Who said so (or said no): engine, cgroup, or the exit-code guess. Absent when it did not die of a kill. */
  oomSource?: OomSource;
}

export interface EnsureImageOptions {
  /** Called once when the image is missing and a pull begins. */
  onPullStart?: () => void;
  onProgress?: (event: ProgressEvent) => void;
}

export interface ContainerEngine {
  /** Resolves when the engine answers; EngineUnavailableError otherwise. */
  ping(): Promise<void>;
  /**
   * Containers labelled `ozy.node=<node>` (optionally narrowed by instance
   * or job), inspected. Never returns another node's containers.
   */
  listManaged(node: string, filter?: ManagedFilter): Promise<InspectedContainer[]>;
  imageExists(image: string): Promise<boolean>;
  /** Pulls `image` if it is not present. Throws PullError with the registry's message. */
  ensureImage(image: string, opts?: EnsureImageOptions): Promise<'present' | 'pulled'>;
  /** Imports a root filesystem tar as image `ref` (`repo:tag`), with Dockerfile-style `changes` (ENV, CMD...). */
  importImage(rootfsTar: Buffer, ref: string, opts?: { changes?: string[] }): Promise<void>;
  /** Creates a container; returns its id. */
  create(opts: EngineCreateOptions): Promise<string>;
  /** Starts it; starting a running container is a no-op. */
  start(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after `timeoutSec`. Stopping a stopped container is a no-op. */
  stop(id: string, timeoutSec: number): Promise<void>;
  /** Removes it; a container that is already gone is not an error. */
  remove(id: string, opts?: { force?: boolean }): Promise<void>;
  inspect(id: string): Promise<InspectedContainer>;
  /** Runs `cmd` inside the container; resolves with its exit code and the start of its output. ExecTimeoutError after `timeoutMs`. */
  exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult>;
  /** The last `tail` lines of output (default 50). */
  logs(id: string, opts?: { tail?: number }): Promise<{ stdout: string; stderr: string }>;
  /**
   * The container's output as frames (stdout / stderr, in the order
   * written): the last `tail` lines (all without it), then, with `follow`,
   * what it writes next until it ends or `signal` aborts (the engine
   * request is closed then). `ozy logs` reads it through the agent.
   */
  streamLogs(id: string, opts: { tail?: number; follow?: boolean; signal?: AbortSignal }): AsyncIterable<LogFrame>;
  /**
   * The end of the container's output, stdout and stderr interleaved in the
   * order they were written, at least the last `minBytes` bytes when there
   * are that many (whole lines, so usually more: cut it yourself).
   */
  outputTail(id: string, minBytes: number): Promise<Buffer>;
  /** One resource sample; CPU needs two (see cpuMillicores). */
  stats(id: string): Promise<ContainerStats>;
  /**
   * Samples of many containers in as few requests as the engine allows
   * (podman's libpod batch endpoint, libpod-stats.ts). Running containers
   * only: others are missing from the map. Undefined when the engine has no
   * batch endpoint (dockerd): call stats() per container. Throws when the
   * engine refused a batch (e.g. one of the ids is gone).
   */
  statsMany(ids: readonly string[]): Promise<Map<string, ContainerStats> | undefined>;
  /**
   * Subscribes to the container events of one node (label filter applied by
   * the engine). Resolves once the engine accepted the subscription;
   * EngineUnavailableError when it cannot be reached. The stream does not
   * reconnect by itself: onEnd says it broke.
   */
  events(opts: EngineEventsOptions, handlers: EngineEventHandlers): Promise<EngineEventStream>;
}

/** Narrows listManaged (every field must match). */
export interface ManagedFilter {
  instance?: string;
  job?: string;
  /** Only containers that carry this label key, whatever its value (e.g. ozy.run: a cron run's). */
  hasLabel?: string;
}

export interface DockerEngineOptions {
  /** The Engine API's unix socket, e.g. /run/podman/podman.sock or /var/run/docker.sock. */
  socketPath: string;
  /** Registry credentials. Default: parsed from OZY_REGISTRY_AUTH. */
  registryAuth?: RegistryAuth[];
  /** How long ping() waits. Default 5000 ms. */
  pingTimeoutMs?: number;
  /** How many containers listManaged inspects at once. Default 8. */
  inspectConcurrency?: number;
  /** The cgroup side of the OOM verdict. Default: this host's cgroups and kernel log (oom.ts). */
  cgroupOomProbe?: CgroupOomProbe;
  /** Where a timed-out exec's process is killed (exec-kill.ts). Default: this host's /proc. */
  processTable?: ProcessTable;
}

interface PullInFlight {
  promise: Promise<'present' | 'pulled'>;
  /** The image was missing and the pull has begun. */
  pulling: boolean;
  /** Callers that joined before it was known whether a pull is needed. */
  joiners: EnsureImageOptions[];
}

/** What a timed-out exec's error says about its process. */
const KILL_OUTCOME: Record<ExecKillResult | 'failed', string> = {
  killed: 'its process was killed',
  gone: 'its process had exited or is not visible from this host',
  'not-in-container': 'its pid now belongs to another process: nothing was killed',
  failed: 'its process could not be killed',
};

/** How long an image ensureImage found stays "present" without asking the engine again. */
export const IMAGE_PRESENT_TTL_MS = 10_000;

export function createEngine(opts: DockerEngineOptions): ContainerEngine {
  return new DockerEngine(opts);
}

class DockerEngine implements ContainerEngine {
  private readonly docker: Docker;
  private readonly auths: RegistryAuth[];
  private readonly pingTimeoutMs: number;
  private readonly concurrency: number;
  /** Containers this process stopped since their last start (for the OOM verdict). */
  private readonly stoppedByUs = new Set<string>();
  /** Containers someone killed through the engine since their last start (a `kill` event): a 137 that is not an OOM. */
  private readonly killedThroughEngine = new Set<string>();
  /** Containers the engine sent an `oom` event for since their last start (dockerd). */
  private readonly oomEvents = new Set<string>();
  /** OOM verdicts of exited containers, by id and finish time: the cgroup side is read once per exit. */
  private readonly verdicts = new Map<string, OomVerdict>();
  private readonly cgroupOom: CgroupOomProbe;
  private readonly processes: ProcessTable;
  /** One pull per image at a time: instances of one job share it. */
  private readonly pulls = new Map<string, PullInFlight>();
  /** image → when ensureImage last found or pulled it (Date.now()). */
  private readonly presentAt = new Map<string, number>();
  /** False once the engine answered 404 to the libpod batch stats endpoint (dockerd). */
  private libpodStats = true;

  constructor(opts: DockerEngineOptions) {
    this.docker = new Docker({ socketPath: opts.socketPath });
    this.auths = opts.registryAuth ?? parseRegistryAuth(process.env.OZY_REGISTRY_AUTH);
    this.pingTimeoutMs = opts.pingTimeoutMs ?? 5000;
    this.concurrency = opts.inspectConcurrency ?? 8;
    this.cgroupOom = opts.cgroupOomProbe ?? hostCgroupOomProbe;
    this.processes = opts.processTable ?? hostProcessTable;
  }

  async ping(): Promise<void> {
    try {
      // @types/dockerode omits ping's options; dockerode 5 accepts {abortSignal}.
      const ping = this.docker.ping.bind(this.docker) as unknown as (o: { abortSignal: AbortSignal }) => Promise<unknown>;
      await ping({ abortSignal: AbortSignal.timeout(this.pingTimeoutMs) });
    } catch (err) {
      throw translateEngineError(err, { what: 'ping' });
    }
  }

  async listManaged(node: string, filter: ManagedFilter = {}): Promise<InspectedContainer[]> {
    const labels = [`${LABEL.node}=${node}`];
    if (filter.instance !== undefined) labels.push(`${LABEL.instance}=${filter.instance}`);
    if (filter.job !== undefined) labels.push(`${LABEL.job}=${filter.job}`);
    // A bare key: the engine matches the label whatever its value.
    if (filter.hasLabel !== undefined) labels.push(filter.hasLabel);
    let listed: Docker.ContainerInfo[];
    try {
      listed = await this.docker.listContainers({ all: true, filters: { label: labels } });
    } catch (err) {
      throw translateEngineError(err, { what: 'list containers' });
    }
    const inspected = await mapLimited(listed, this.concurrency, async (c) => {
      try {
        return await this.inspect(c.Id);
      } catch (err) {
        // Removed between list and inspect: it is simply not there any more.
        if (err instanceof ContainerNotFoundError) return undefined;
        throw err;
      }
    });
    // The label filter is the engine's; checking again costs nothing and
    // guarantees we never hand out another node's container.
    return inspected.filter(
      (c): c is InspectedContainer =>
        c !== undefined &&
        c.labels[LABEL.node] === node &&
        (filter.instance === undefined || c.labels[LABEL.instance] === filter.instance) &&
        (filter.job === undefined || c.labels[LABEL.job] === filter.job) &&
        (filter.hasLabel === undefined || c.labels[filter.hasLabel] !== undefined),
    );
  }

  async imageExists(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (err) {
      const e = translateEngineError(err, { what: `inspect image ${image}`, kind: 'image' });
      if (e instanceof ImageNotFoundError) return false;
      throw e;
    }
  }

  ensureImage(image: string, opts: EnsureImageOptions = {}): Promise<'present' | 'pulled'> {
    // Seen present a moment ago: a burst of pod starts (a thousand cron runs due together) asks once, not per pod.
    // An image removed meanwhile fails the create instead, as a pull failure would have.
    const seen = this.presentAt.get(image);
    if (seen !== undefined && Date.now() - seen < IMAGE_PRESENT_TTL_MS) return Promise.resolve('present');
    const running = this.pulls.get(image);
    if (running) {
      // Join the pull under way; the caller still learns that it is pulling.
      if (running.pulling) opts.onPullStart?.();
      else running.joiners.push(opts);
      return running.promise;
    }
    const entry: PullInFlight = { pulling: false, joiners: [], promise: Promise.resolve('present') };
    entry.promise = this.ensureImageOnce(image, opts, () => {
      entry.pulling = true;
      for (const j of entry.joiners) j.onPullStart?.();
    })
      .then((r) => {
        this.presentAt.set(image, Date.now());
        return r;
      })
      .finally(() => this.pulls.delete(image));
    this.pulls.set(image, entry);
    return entry.promise;
  }

  private async ensureImageOnce(image: string, opts: EnsureImageOptions, pullStarts: () => void): Promise<'present' | 'pulled'> {
    if (await this.imageExists(image)) return 'present';
    opts.onPullStart?.();
    pullStarts();
    const ref = parseImageRef(image);
    const auth = authFor(ref.registry, this.auths);
    let stream: NodeJS.ReadableStream;
    try {
      // Always an explicit tag: an empty tag would make the engine pull every tag.
      const pullOpts = { fromImage: ref.repository, tag: ref.tagOrDigest };
      stream = auth
        ? await this.docker.createImage({ username: auth.username, password: auth.password, serveraddress: auth.serveraddress }, pullOpts)
        : await this.docker.createImage(pullOpts);
    } catch (err) {
      // dockerd refuses some pulls (unknown repository, denied) before any stream starts.
      const e = translateEngineError(err, { what: `pull ${image}`, kind: 'image' });
      if (e instanceof EngineUnavailableError) throw e;
      throw new PullError(image, describeEngineError(err), { cause: e });
    }
    const error = await readProgress(stream, opts.onProgress).catch((err: unknown) => {
      throw translateEngineError(err, { what: `pull ${image}` });
    });
    if (error !== undefined) throw new PullError(image, error);
    // Belt and braces against a silent failure: the image must be there now.
    if (!(await this.imageExists(image)) && !(await this.imageExists(formatImageRef(ref)))) {
      throw new PullError(image, 'the engine reported no error, but the image is not present after the pull');
    }
    return 'pulled';
  }

  async importImage(rootfsTar: Buffer, ref: string, opts: { changes?: string[] } = {}): Promise<void> {
    let stream: NodeJS.ReadableStream;
    try {
      // `repo` carries the tag: podman ignores a separate `tag` on import, dockerd accepts both forms.
      stream = await this.docker.importImage(Readable.from([rootfsTar]), { repo: ref, changes: opts.changes ?? [] });
    } catch (err) {
      throw translateEngineError(err, { what: `import image ${ref}` });
    }
    const error = await readProgress(stream).catch((err: unknown) => {
      throw translateEngineError(err, { what: `import image ${ref}` });
    });
    if (error !== undefined) throw new ImageBuildError(`import of ${ref} failed: ${error}`);
    if (!(await this.imageExists(ref))) throw new ImageBuildError(`import of ${ref} reported success, but the image is not present`);
  }

  async create(opts: EngineCreateOptions): Promise<string> {
    try {
      // EngineCreateOptions is a subset of dockerode's type with the same field names.
      const c = await this.docker.createContainer(opts as Docker.ContainerCreateOptions);
      return c.id;
    } catch (err) {
      throw translateEngineError(err, { what: `create container ${opts.name}`, kind: 'create' });
    }
  }

  async start(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      if (statusOf(err) !== 304) throw translateEngineError(err, { what: `start container ${id}`, kind: 'container' });
    }
    this.forgetRun(id);
  }

  async stop(id: string, timeoutSec: number): Promise<void> {
    this.stoppedByUs.add(id);
    try {
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.round(timeoutSec)) });
    } catch (err) {
      if (statusOf(err) !== 304) throw translateEngineError(err, { what: `stop container ${id}`, kind: 'container' });
    }
  }

  async remove(id: string, opts: { force?: boolean } = {}): Promise<void> {
    try {
      // A forced removal kills the container: its 137 is ours, not an OOM.
      if (opts.force) this.stoppedByUs.add(id);
      await this.docker.getContainer(id).remove({ force: opts.force ?? false });
    } catch (err) {
      const e = translateEngineError(err, { what: `remove container ${id}`, kind: 'container' });
      if (!(e instanceof ContainerNotFoundError)) throw e;
    }
    this.forgetRun(id);
  }

  async inspect(id: string): Promise<InspectedContainer> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(id).inspect();
    } catch (err) {
      throw translateEngineError(err, { what: `inspect container ${id}`, kind: 'container' });
    }
    const facts = factsOf(info);
    const stoppedByUs = this.stoppedByUs.has(facts.id) || this.stoppedByUs.has(id);
    const verdict = this.oomVerdict(facts, stoppedByUs);
    return { ...facts, stoppedByUs, oomKilled: verdict.oomKilled, ...(verdict.source ? { oomSource: verdict.source } : {}) };
  }

  async events(opts: EngineEventsOptions, handlers: EngineEventHandlers): Promise<EngineEventStream> {
    const filters = { type: ['container' as const], label: [`${LABEL.node}=${opts.node}`, ...(opts.labels ?? [])] };
    let stream: NodeJS.ReadableStream & { destroy?: () => void };
    try {
      // The engine filters by label, so another node's events never reach us.
      stream = await this.docker.getEvents({ filters, ...(opts.sinceSec !== undefined ? { since: opts.sinceSec } : {}) });
      // The response is open: the subscription is in place (podman sends no event until one happens).
    } catch (err) {
      throw translateEngineError(err, { what: 'subscribe to events' });
    }
    let open = true;
    const end = (err?: unknown): void => {
      if (!open) return;
      open = false;
      handlers.onEnd(err === undefined ? undefined : translateEngineError(err, { what: 'event stream' }));
    };
    const lines = new EventLineBuffer();
    stream.on('data', (chunk: Buffer | string) => {
      for (const line of lines.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'))) {
        const ev = parseEngineEvent(line);
        // Belt and braces against an engine that ignores the label filter.
        if (ev === undefined || !open || ev.labels[LABEL.node] !== opts.node) continue;
        this.noteEvent(ev.action, ev.id);
        handlers.onEvent(ev);
      }
    });
    stream.on('end', () => end());
    stream.on('close', () => end());
    stream.on('error', (err: unknown) => end(err));
    return {
      close: () => {
        open = false;
        stream.destroy?.();
      },
    };
  }

  /** What the event stream tells the OOM verdict: who killed a container, whether the engine saw an OOM. */
  private noteEvent(action: string, id: string): void {
    if (action === 'start') this.forgetRun(id);
    else if (action === 'kill') this.killedThroughEngine.add(id);
    else if (action === 'oom') this.oomEvents.add(id);
    else if (action === 'destroy') this.forgetRun(id);
  }

  /** A new run (or the container is gone): what we knew about the last one no longer applies. */
  private forgetRun(id: string): void {
    this.stoppedByUs.delete(id);
    this.killedThroughEngine.delete(id);
    this.oomEvents.delete(id);
    for (const key of this.verdicts.keys()) if (key.startsWith(`${id} `)) this.verdicts.delete(key);
  }

  private oomVerdict(facts: ContainerFacts, stoppedByUs: boolean): OomVerdict {
    const exited = facts.state === 'exited' || facts.state === 'dead';
    const key = `${facts.id} ${facts.finishedAt ?? ''}`;
    const known = exited ? this.verdicts.get(key) : undefined;
    if (known) return known;
    const verdict = judgeOom(
      {
        ...facts,
        oomKilledReported: facts.oomKilledReported || this.oomEvents.has(facts.id),
        stoppedByUs,
        killedThroughEngine: this.killedThroughEngine.has(facts.id),
      },
      () => this.cgroupOom(facts.id),
    );
    if (exited) this.verdicts.set(key, verdict);
    return verdict;
  }

  async exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
    const deadline = Date.now() + timeoutMs;
    const what = `exec in ${id} did not finish within ${timeoutMs} ms`;
    type Hijacked = NodeJS.ReadableStream & { destroy?: () => void };
    const setup = (async () => {
      const exec = await this.docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
      // Attached on purpose: podman forgets a detached exec's session (and its exit code) once it ends.
      const stream = (await exec.start({ hijack: true, stdin: false })) as Hijacked;
      return { exec, stream };
    })();
    let exec: Docker.Exec;
    let stream: Hijacked;
    try {
      const ready = await beforeDeadline(setup, deadline);
      if (ready === undefined) {
        // Too late: close the stream whenever it arrives, so no socket is left open, and kill what it started.
        setup.then(
          (s) => {
            s.stream.destroy?.();
            void this.killExec(s.exec, id);
          },
          () => undefined,
        );
        throw new ExecTimeoutError(`${what}; its process is killed if it started`);
      }
      ({ exec, stream } = ready);
    } catch (err) {
      if (err instanceof RuntimeError) throw err;
      throw translateEngineError(err, { what: `exec in container ${id}`, kind: 'container' });
    }
    const timedOut = async (): Promise<ExecTimeoutError> => new ExecTimeoutError(`${what}; ${KILL_OUTCOME[await this.killExec(exec, id)]}`);
    const output = new ExecOutput();
    stream.on('data', (chunk: Buffer) => output.push(chunk));
    try {
      const ended = await untilEnded(stream, deadline);
      if (!ended) throw await timedOut();
      // The stream can end a moment before the engine records the exit code.
      for (;;) {
        const info = await exec.inspect();
        if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return { exitCode: info.ExitCode, output: output.text() };
        if (Date.now() > deadline) throw await timedOut();
        await new Promise((r) => setTimeout(r, 20));
      }
    } catch (err) {
      if (err instanceof RuntimeError) throw err;
      throw translateEngineError(err, { what: `exec in container ${id}`, kind: 'container' });
    } finally {
      // An ended hijacked socket can stay half-open and keep the process alive.
      stream.destroy?.();
    }
  }

  /**
   * A timed-out exec keeps running after its stream is closed (the API has
   * no way to stop it): kill its process from the host (exec-kill.ts).
   */
  private async killExec(exec: Docker.Exec, containerId: string): Promise<ExecKillResult | 'failed'> {
    try {
      const info = await exec.inspect();
      if (!info.Running) return 'gone';
      return await killExecProcess(info.Pid, info.ContainerID || containerId, this.processes);
    } catch {
      // Not root, or the engine forgot the session: nothing more to do here; the caller reports it.
      return 'failed';
    }
  }

  async logs(id: string, opts: { tail?: number } = {}): Promise<{ stdout: string; stderr: string }> {
    return splitStreams(lastLines(await this.wholeLog(id), opts.tail ?? 50));
  }

  /**
   * Every frame of a container's log. Tails are cut here, not by the engine's
   * `tail` (see lastLines); the log itself is capped at LOG_MAX_BYTES.
   */
  private async wholeLog(id: string): Promise<LogFrame[]> {
    try {
      const buf = (await this.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
      return framesOf(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
    } catch (err) {
      throw translateEngineError(err, { what: `logs of container ${id}`, kind: 'container' });
    }
  }

  async *streamLogs(id: string, opts: { tail?: number; follow?: boolean; signal?: AbortSignal }): AsyncIterable<LogFrame> {
    if (!opts.follow) {
      const all = await this.wholeLog(id);
      yield* opts.tail !== undefined ? lastLines(all, opts.tail) : all;
      return;
    }
    const frames = new LogFrameSplitter();
    // Following, the engine's tail is used: the past cannot be told from what follows
    // in one stream. On podman 4.3 its pieces of split lines may be missing (see lastLines).
    const base = { stdout: true, stderr: true, ...(opts.tail !== undefined ? { tail: opts.tail } : {}) };
    let raw: unknown;
    try {
      raw = await this.docker.getContainer(id).logs({ ...base, follow: true });
    } catch (err) {
      throw translateEngineError(err, { what: `logs of container ${id}`, kind: 'container' });
    }
    if (!(raw instanceof Readable)) {
      yield* frames.push(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
      return;
    }
    const stream = raw;
    const onAbort = (): void => void stream.destroy();
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of stream) yield* frames.push(chunk as Buffer);
    } catch (err) {
      // Our own abort ends the stream with a premature-close error: that is the normal end.
      if (!opts.signal?.aborted) throw translateEngineError(err, { what: `logs of container ${id}`, kind: 'container' });
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      stream.destroy();
    }
  }

  async outputTail(id: string, minBytes: number): Promise<Buffer> {
    return Buffer.concat(lastBytes(await this.wholeLog(id), minBytes).map((f) => f.data));
  }

  async stats(id: string): Promise<ContainerStats> {
    let raw: unknown;
    try {
      raw = await this.docker.getContainer(id).stats({ stream: false });
    } catch (err) {
      throw translateEngineError(err, { what: `stats of container ${id}`, kind: 'container' });
    }
    const read = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>).read : undefined;
    return {
      readAt: typeof read === 'string' && engineTime(read) ? read : new Date().toISOString(),
      memoryUsage: numberAt(raw, 'memory_stats', 'usage'),
      memoryLimit: numberAt(raw, 'memory_stats', 'limit'),
      cpuTotalNs: numberAt(raw, 'cpu_stats', 'cpu_usage', 'total_usage'),
    };
  }

  async statsMany(ids: readonly string[]): Promise<Map<string, ContainerStats> | undefined> {
    const out = new Map<string, ContainerStats>();
    for (let i = 0; i < ids.length && this.libpodStats; i += LIBPOD_STATS_BATCH) {
      const containers = ids.slice(i, i + LIBPOD_STATS_BATCH);
      let body: unknown;
      try {
        body = await this.dial(LIBPOD_STATS_PATH, { stream: false, containers });
      } catch (err) {
        if (statusOf(err) !== 404) throw translateEngineError(err, { what: 'batch container stats' });
        this.libpodStats = false;
      }
      if (!this.libpodStats) break;
      const parsed = parseLibpodStats(body);
      if (typeof parsed === 'string') throw new EngineRequestError(`batch container stats: ${parsed}`, undefined);
      for (const [id, s] of parsed) out.set(id, s);
    }
    return this.libpodStats ? out : undefined;
  }

  /** A GET through dockerode's modem, for endpoints dockerode has no method for; resolves with the parsed JSON. */
  private dial(path: string, options: Record<string, unknown>): Promise<unknown> {
    const modem = this.docker.modem as { dial(o: DockerModem.DialOptions, cb: DockerModem.RequestCallback): void };
    return new Promise((resolve, reject) =>
      modem.dial({ path, method: 'GET', options, statusCodes: { 200: true, 404: 'no such endpoint', 500: 'server error' } }, (err, result) =>
        err ? reject(err) : resolve(result),
      ),
    );
  }
}

function numberAt(o: unknown, ...keys: string[]): number {
  let v: unknown = o;
  for (const k of keys) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function factsOf(info: Docker.ContainerInspectInfo): ContainerFacts {
  const networks = Object.values(info.NetworkSettings?.Networks ?? {});
  // Top-level IPAddress is deprecated in newer Engine APIs (absent from the types) but podman still sets it.
  const legacyIp = (info.NetworkSettings as { IPAddress?: unknown } | undefined)?.IPAddress;
  const ip = (typeof legacyIp === 'string' && legacyIp) || networks.map((n) => n.IPAddress).find((a) => !!a) || undefined;
  const facts: ContainerFacts = {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    labels: { ...(info.Config?.Labels ?? {}) },
    state: normalizeState(info.State?.Status),
    exitCode: info.State?.ExitCode ?? 0,
    oomKilledReported: info.State?.OOMKilled === true,
    memoryLimit: info.HostConfig?.Memory ?? 0,
  };
  const createdAt = engineTime(info.Created);
  const startedAt = engineTime(info.State?.StartedAt);
  const finishedAt = engineTime(info.State?.FinishedAt);
  if (createdAt) facts.createdAt = createdAt;
  if (startedAt) facts.startedAt = startedAt;
  if (finishedAt) facts.finishedAt = finishedAt;
  if (ip) facts.ip = ip;
  const hostPorts = hostPortsOf(info.NetworkSettings?.Ports);
  if (hostPorts) facts.hostPorts = hostPorts;
  return facts;
}

/** Reads a progress stream to its end; returns the first error message in it, if any. */
async function readProgress(stream: NodeJS.ReadableStream, onProgress?: (e: ProgressEvent) => void): Promise<string | undefined> {
  const lines = new LineSplitter();
  let error: string | undefined;
  const handle = (line: string): void => {
    const ev = parseProgressLine(line);
    if (ev === undefined) return;
    if (ev.error !== undefined) error ??= ev.error;
    onProgress?.(ev);
  };
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    for (const line of lines.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'))) handle(line);
  }
  for (const line of lines.end()) handle(line);
  return error;
}

/** The promise's value, or undefined when `deadline` (epoch ms) comes first. */
function beforeDeadline<T>(p: Promise<T>, deadline: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** Drains `stream`; true when it ended before `deadline`, false on timeout. */
function untilEnded(stream: NodeJS.ReadableStream, deadline: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(false), Math.max(0, deadline - Date.now()));
    const finish = (v: boolean): void => {
      clearTimeout(timer);
      stream.removeListener('end', onEnd);
      stream.removeListener('close', onEnd);
      stream.removeListener('error', onError);
      resolve(v);
    };
    const onEnd = (): void => finish(true);
    const onError = (err: unknown): void => {
      clearTimeout(timer);
      reject(err);
    };
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
    stream.resume();
  });
}

function statusOf(err: unknown): number | undefined {
  if (err !== null && typeof err === 'object' && 'statusCode' in err) {
    const s = (err as { statusCode: unknown }).statusCode;
    return typeof s === 'number' ? s : undefined;
  }
  return undefined;
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EACCES', 'EHOSTUNREACH', 'ENOTSOCK']);

/**
 * dockerode error → RuntimeError. `kind` says what a 404 means: a missing
 * container, or a missing image (create answers 404 for a missing image).
 */
export function translateEngineError(
  err: unknown,
  ctx: { what: string; kind?: 'container' | 'image' | 'create' },
): RuntimeError {
  if (err instanceof RuntimeError) return err;
  const o = err !== null && typeof err === 'object' ? (err as Record<string, unknown>) : {};
  const code = typeof o.code === 'string' ? o.code : undefined;
  const name = typeof o.name === 'string' ? o.name : undefined;
  const status = statusOf(err);
  const message = describeEngineError(err);
  const text = `${ctx.what}: ${message}`;
  if (status === undefined && ((code !== undefined && UNAVAILABLE_CODES.has(code)) || name === 'AbortError' || name === 'TimeoutError')) {
    return new EngineUnavailableError(`container engine unavailable (${ctx.what}): ${message}`, { cause: err });
  }
  if (/has dependent containers/i.test(message)) return new ContainerHasDependentsError(text, { cause: err });
  if (status === 404) {
    if (ctx.kind === 'image' || (ctx.kind === 'create' && /image/i.test(message))) return new ImageNotFoundError(text, { cause: err });
    if (ctx.kind === 'container' || ctx.kind === 'create') return new ContainerNotFoundError(text, { cause: err });
  }
  // podman answers 500 "container <id> does not exist in database: no such container" for a
  // container removed between its name's lookup and its read (seen when a name conflict's
  // holder was being removed): gone, like a 404.
  if (ctx.kind === 'container' && /does not exist in database|no such container/i.test(message)) return new ContainerNotFoundError(text, { cause: err });
  if (status === 409 && ctx.kind === 'create') return new ContainerNameConflictError(text, { cause: err });
  if (ctx.kind === 'create' && /already in use|already exists/i.test(message) && /name/i.test(message)) {
    return new ContainerNameConflictError(text, { cause: err });
  }
  return new EngineRequestError(text, status, { cause: err });
}

/** The engine's own message from `{"message": ...}`, else the error's message. */
function describeEngineError(err: unknown): string {
  const o = err !== null && typeof err === 'object' ? (err as Record<string, unknown>) : {};
  return engineMessage(o) ?? (err instanceof Error ? err.message : String(err));
}

function engineMessage(o: Record<string, unknown>): string | undefined {
  const json = o.json;
  if (json !== null && typeof json === 'object') {
    const m = (json as Record<string, unknown>).message;
    if (typeof m === 'string' && m !== '') return m;
  }
  if (typeof json === 'string' && json.trim() !== '') return json.trim();
  return undefined;
}
