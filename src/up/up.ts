// `ozy up`: a whole cluster on one machine, wired together:
//   1. take the state dir's lock (a second `ozy up` reports the first)
//   2. etcd: the installed binary, data in the state dir (or --etcd)
//   3. a podman API service on a socket of ours, configured to work here (or --docker-socket)
//   4. the example image, built locally (no registry is reachable)
//   5. the job repository (a copy of examples/ or --repo-dir), served over smart HTTP on loopback
//   6. N agents as child processes (node-1..N, zones a/b/c); then ozy ingress, ozy dns, ozy dashboard
//   7. follow the cluster until SIGINT/SIGTERM, then stop all of it in reverse:
//      agents, their containers, podman, git server, etcd. Nothing else is touched.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { ozyEntry, projectRoot } from '../paths';
import { BUSYBOX_IMAGE, buildBusyboxImage } from '../runtime';
import { formatBytes, formatCpu } from '../schedule';
import { ETCD_ACCESS_ENV } from '../etcd-access-config';
import { ClusterStore } from '../store';
import { planAgents, type AgentPlan } from './agents';
import { ensureApiToken } from './api-token';
import { logTail, spawnLogged } from './child';
import { removeNodeContainers } from './containers';
import { UpError } from './errors';
import { EtcdMember, etcdBinary, etcdHealthy } from './etcd';
import { ClusterFollower } from './follow';
import { startGitHttpServer, type GitHttpServer } from './git-http';
import { prepareJobRepo } from './job-repo';
import { stateLayout, type StateLayout } from './layout';
import type { UpOptions } from './options';
import { enginePings, startPodmanService, type PodmanServiceProcess } from './podman';
import { choosePorts, isPortFree, portsFromBase, type PortRole, type PortSet } from './ports';
import { findProgram, PACKAGE_OF } from './programs';
import { describeRunning, readyText, selfCommand } from './messages';
import { cleanUpAfterDeadUp } from './stale';
import { StateFile, type UpState } from './state-file';
import { Supervisor } from './supervisor';
import { pollUntil } from './wait';
import { AGENT_NODE_FLAGS, agentEnv } from '../runtime/agent-launch';

/** The agents' default --dns-zone, which `ozy dns` answers for. */
const DNS_ZONE = 'ozy.local';

export interface UpIo {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Exit codes of `ozy up`. */
export const UP_EXIT = { stopped: 0, failed: 1, usage: 2, alreadyRunning: 3 } as const;

const AGENT_REGISTER_TIMEOUT_MS = 60_000;
const AGENT_STOP_GRACE_MS = 15_000;
/** sun_path holds 108 bytes on Linux, the terminating NUL included. */
const MAX_SOCKET_PATH = 107;

class Interrupted extends Error {}

export async function runUp(opts: UpOptions, io: UpIo, stop: AbortSignal): Promise<number> {
  return new UpRun(opts, io, stop).run();
}

/** One `ozy up`: what it started (and so must stop), in the order it started it. */
class UpRun {
  private readonly L: StateLayout;
  private readonly lock: StateFile;
  private readonly state: UpState;
  private readonly sup = new Supervisor();
  private etcd?: EtcdMember;
  private etcdEndpoints: string[] = [];
  private podman?: PodmanServiceProcess;
  private dockerSocket?: string;
  private git?: GitHttpServer;
  private repoUrl = '';
  private agents: AgentPlan[] = [];
  private store?: ClusterStore;
  private follower?: ClusterFollower;

  constructor(
    private readonly opts: UpOptions,
    private readonly io: UpIo,
    private readonly stop: AbortSignal,
  ) {
    this.L = stateLayout(opts.stateDir);
    this.lock = new StateFile(this.L.root);
    const nodes = Array.from({ length: opts.agents }, (_, i) => `${opts.nodePrefix}-${i + 1}`);
    this.state = { pid: process.pid, startedAt: new Date().toISOString(), phase: 'starting', stateDir: this.L.root, nodes, processes: {} };
    // The terminal may be gone (SIGHUP): writing must never stop the clean-up.
    const ignore = (): void => undefined;
    io.stdout.on('error', ignore);
    io.stderr.on('error', ignore);
  }

  async run(): Promise<number> {
    fs.mkdirSync(this.L.logs, { recursive: true });
    const got = this.lock.acquire(this.state);
    if (!got.ok) {
      this.io.stderr.write(describeRunning(got.running, selfCommand(this.io.cwd)));
      return UP_EXIT.alreadyRunning;
    }
    const stale = 'stale' in got ? got.stale : undefined;
    let code: number = UP_EXIT.stopped;
    try {
      this.say(`ozy up: state dir ${this.L.root}`);
      if (stale) await cleanUpAfterDeadUp(stale, (l) => this.say(l));
      preflight(this.opts, this.L, this.io.env, (l) => this.say(l));
      const ports = await this.choosePorts();
      await this.step(() => this.startEtcd(ports));
      await this.step(() => this.startEngine(stale));
      await this.step(() => this.buildImage());
      await this.step(() => this.serveRepo(ports.git!));
      await this.step(() => this.startAgents(ports));
      await this.step(() => this.startFrontDoors(ports));
      this.say('');
      this.say(
        readyText({
          self: selfCommand(this.io.cwd),
          etcd: this.etcdEndpoints.join(','),
          repoUrl: this.repoUrl,
          socket: this.dockerSocket!,
          stateDir: this.L.root,
          ingress: this.state.ingress!.address,
          dns: this.state.dns!.address,
          dashboard: this.state.dashboard!.address,
        }),
      );
      // Recorded after the instructions are out: whoever sees 'running' can read them.
      this.save({ phase: 'running' });
      await this.followUntilStopped();
    } catch (err) {
      if (!(err instanceof Interrupted)) {
        this.io.stderr.write(`ozy up: ${err instanceof Error ? err.message : String(err)}\n`);
        code = err instanceof UpError && err.code === 'UP_USAGE' ? UP_EXIT.usage : UP_EXIT.failed;
      }
    } finally {
      this.sup.beginStopping();
      try {
        this.save({ phase: 'stopping' });
      } catch {
        // the state dir went away; nothing to record
      }
      await this.tearDown();
      this.lock.release();
    }
    return code;
  }

  /** Runs a start step unless a signal came; a signal during it is honoured right after. */
  private async step(fn: () => Promise<void>): Promise<void> {
    if (this.stop.aborted) throw new Interrupted();
    await fn();
    if (this.stop.aborted) throw new Interrupted();
  }

  private say(line = ''): void {
    try {
      this.io.stdout.write(`${line}\n`);
    } catch {
      // see the constructor
    }
  }

  /** Records what runs now (and `patch`) in up.json. */
  private save(patch: Partial<UpState>): void {
    Object.assign(this.state, patch, { processes: this.sup.record() });
    this.lock.write(this.state);
  }

  private async choosePorts(): Promise<Partial<PortSet>> {
    const { opts, L } = this;
    const roles: PortRole[] = opts.etcd ? ['git', 'ingress', 'dns', 'dashboard'] : ['etcdClient', 'etcdPeer', 'git', 'ingress', 'dns', 'dashboard'];
    const ports = await choosePorts(roles, {
      ...(opts.ports.mode === 'fixed' ? { fixed: portsFromBase(opts.ports.base) } : {}),
      ...(opts.ports.mode === 'free' ? { anyFree: true } : {}),
      previous: readPorts(L),
    });
    fs.writeFileSync(L.portsFile, `${JSON.stringify(ports)}\n`);
    return ports;
  }

  private async startEtcd(ports: Partial<PortSet>): Promise<void> {
    const { opts, L } = this;
    if (opts.etcd) {
      const healthy = await etcdHealthy(opts.etcd[0]!);
      this.say(`  etcd        using    ${opts.etcd.join(',')}${healthy ? '' : ' (not answering /health yet; the agents keep trying)'}`);
      this.etcdEndpoints = opts.etcd;
      this.save({ etcd: { endpoint: opts.etcd.join(','), startedByUp: false } });
      return;
    }
    const etcd = new EtcdMember({
      name: 'ozy-up',
      clientPort: ports.etcdClient!,
      peerPort: ports.etcdPeer!,
      dataDir: L.etcdData,
      logFile: L.etcdLog,
      initialCluster: `ozy-up=http://127.0.0.1:${ports.etcdPeer!}`,
      clusterToken: 'ozy-up',
      detached: true,
      onSpawn: (child) => this.sup.add({ name: 'etcd', child, logFile: L.etcdLog, marker: L.etcdData }),
    });
    this.etcd = etcd;
    etcd.launch();
    await etcd.waitHealthy(30_000);
    this.etcdEndpoints = [etcd.endpoint];
    this.save({ etcd: { endpoint: etcd.endpoint, startedByUp: true, clientPort: etcd.clientPort, peerPort: etcd.peerPort } });
    this.say(`  etcd        started  ${etcd.endpoint}  (data ${L.etcdData}, log ${L.etcdLog})`);
  }

  private async startEngine(stale: UpState | undefined): Promise<void> {
    const { opts, L } = this;
    if (opts.dockerSocket) {
      if (!(await enginePings(opts.dockerSocket, 5000))) {
        throw new UpError('UP_START_FAILED', `no Docker Engine API answers on ${opts.dockerSocket} (--docker-socket)`);
      }
      this.dockerSocket = opts.dockerSocket;
      this.save({ podman: { socketPath: opts.dockerSocket, startedByUp: false } });
      this.say(`  engine      using    unix://${opts.dockerSocket}`);
    } else {
      this.podman = await startPodmanService({
        socketPath: L.podmanSocket,
        confDir: L.podmanDir,
        logFile: L.podmanLog,
        detached: true,
        startTimeoutMs: 30_000,
        onSpawn: (child) => this.sup.add({ name: 'podman', child, logFile: L.podmanLog, marker: L.podmanSocket }),
      });
      this.dockerSocket = L.podmanSocket;
      this.save({ podman: { socketPath: L.podmanSocket, startedByUp: true } });
      this.say(`  podman      started  unix://${L.podmanSocket}  (config ${path.join(L.podmanDir, 'containers.conf')}, log ${L.podmanLog})`);
    }
    // A killed `ozy up` left its nodes' containers: they go, the agents start what etcd still assigns.
    if (stale && stale.nodes.length > 0) {
      const removed = await removeNodeContainers(this.dockerSocket, stale.nodes).catch(() => 0);
      if (removed > 0) this.say(`  containers  removed  ${removed} left by the previous ozy up (the agents start them again)`);
    }
  }

  private async buildImage(): Promise<void> {
    try {
      const how = await buildBusyboxImage(this.dockerSocket!, BUSYBOX_IMAGE);
      this.say(`  image       ${how === 'built' ? 'built  ' : 'present'}  ${BUSYBOX_IMAGE}`);
    } catch (err) {
      // Not fatal: a user's own repository may not need it.
      this.say(`  image       NOT BUILT ${BUSYBOX_IMAGE}: ${(err as Error).message} (the example jobs need it)`);
    }
  }

  private async serveRepo(port: number): Promise<void> {
    const { opts, L } = this;
    const source = opts.repoDir ?? path.join(projectRoot(), 'examples');
    const repo = await prepareJobRepo({
      source,
      bareDir: L.jobsRepo,
      branch: opts.branch,
      home: L.gitHome,
      ...(opts.repoDir ? {} : { message: 'Example jobs, copied from examples/ by ozy up' }),
    });
    const what =
      repo.how === 'created' ? `created from ${source}` : repo.how === 'reused' ? 'kept from the previous run (your pushes are in it)' : 'served in place';
    this.git = await startGitHttpServer({ projectRoot: path.dirname(repo.dir), home: L.gitHome, port });
    this.repoUrl = this.git.url(path.basename(repo.dir));
    this.save({ git: { url: this.repoUrl, port: this.git.port, repoDir: repo.dir } });
    this.say(`  git         serving  ${this.repoUrl}  (${repo.dir}: ${what}; ${opts.branch} at ${repo.head?.slice(0, 12) ?? 'no commit yet'})`);
  }

  /**
   * The environment of the agents, ingress and dns. With the etcd `ozy up`
   * started (plain http, no users), the caller's etcd TLS and user settings
   * would only break them.
   */
  private childEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, OZY_LOG_LEVEL: this.io.env.OZY_LOG_LEVEL ?? 'info' };
    if (!this.opts.etcd) for (const k of ETCD_ACCESS_ENV) delete env[k];
    return env;
  }

  /** Spawns the agents and waits until each has registered its node in etcd. */
  private async startAgents(ports: Partial<PortSet>): Promise<void> {
    const { opts, L } = this;
    this.agents = planAgents({
      count: opts.agents,
      nodePrefix: opts.nodePrefix,
      stateDir: L.root,
      repoUrl: this.repoUrl,
      branch: opts.branch,
      etcd: this.etcdEndpoints,
      dockerSocket: this.dockerSocket!,
      poll: opts.poll,
      ...(opts.leaseTtl ? { leaseTtl: opts.leaseTtl } : {}),
      machine: machineShare(L.root),
      perAgent: opts.perAgent,
      secretsIdentity: demoIdentity(L.root),
    });
    // The logs endpoint's token: the caller's OZY_API_TOKEN, else a new one kept 0600 in the state dir for `ozy logs`.
    const env: NodeJS.ProcessEnv = { ...this.childEnv(), OZY_API_TOKEN: ensureApiToken(L.root, this.io.env) };
    // The `type` of every problem the agents write links to the dashboard's copy of docs/errors.md (unless set).
    if (ports.dashboard !== undefined && env.OZY_DOCS_URL === undefined) env.OZY_DOCS_URL = `http://127.0.0.1:${ports.dashboard}/docs/errors.md`;
    for (const a of this.agents) {
      const child = spawnLogged(process.execPath, [...AGENT_NODE_FLAGS, ozyEntry(), ...a.args], { logFile: a.logFile, env: agentEnv(env), detached: true });
      this.sup.add({ name: `agent ${a.node}`, child, logFile: a.logFile, marker: a.dataDir });
    }
    this.save({});
    const store = (this.store = ClusterStore.connect({ endpoints: this.etcdEndpoints, requestTimeoutMs: 2_000 }));
    for (const a of this.agents) {
      const child = this.sup.find(`agent ${a.node}`)!.child;
      await pollUntil(
        `agent ${a.node} to register in etcd`,
        async () => {
          if (!child.isRunning()) throw new UpError('UP_START_FAILED', `agent ${a.node} exited`);
          return (await store.snapshot()).nodes.some((n) => n.name === a.node);
        },
        { timeoutMs: AGENT_REGISTER_TIMEOUT_MS, intervalMs: 100 },
      ).catch((err: Error) => {
        throw new UpError('UP_START_FAILED', `${err.message}\nlast lines of ${a.logFile}:\n${logTail(a.logFile, 15)}`);
      });
      const c = a.capacity;
      this.say(`  agent       started  ${a.node}  zone ${a.zone}, ${formatBytes(c.memory)} memory, ${formatCpu(c.cpu)}, ${formatBytes(c.disk)} disk  (pid ${child.pid}, log ${a.logFile})`);
      if (this.stop.aborted) throw new Interrupted();
    }
  }

  /**
   * `ozy ingress` (HTTP by Host header; TCP routes on loopback), `ozy dns`
   * (the zone's A and SRV records) and `ozy dashboard` (the read-only web
   * page), all reading only etcd, on loopback ports.
   */
  private async startFrontDoors(ports: Partial<PortSet>): Promise<void> {
    const { L } = this;
    const etcd = this.etcdEndpoints.join(',');
    const env = this.childEnv();
    const doors = [
      { name: 'ingress', address: `127.0.0.1:${ports.ingress!}`, args: ['ingress', '--etcd', etcd, '--listen', `127.0.0.1:${ports.ingress!}`, '--tcp-ip', '127.0.0.1'] },
      { name: 'dns', address: `127.0.0.1:${ports.dns!}`, args: ['dns', '--etcd', etcd, '--listen', `127.0.0.1:${ports.dns!}`, '--zone', DNS_ZONE] },
      { name: 'dashboard', address: `127.0.0.1:${ports.dashboard!}`, args: ['dashboard', '--etcd', etcd, '--listen', `127.0.0.1:${ports.dashboard!}`] },
    ];
    // All three start at once (each needs only etcd, and most of a start is loading modules);
    // they are then awaited, saved and reported one by one, in this order.
    const started = doors.map((d) => {
      const logFile = path.join(L.logs, `${d.name}.log`);
      const child = spawnLogged(process.execPath, [ozyEntry(), ...d.args], { logFile, env, detached: true });
      // The listen address is in its command line: how a later `ozy up` recognises it after a crash.
      this.sup.add({ name: d.name, child, logFile, marker: d.address });
      return { ...d, logFile, child };
    });
    this.save({});
    for (const { child, logFile, ...d } of started) {
      await pollUntil(
        `${d.name} to listen on ${d.address}`,
        async () => {
          if (!child.isRunning()) throw new UpError('UP_START_FAILED', `${d.name} exited`);
          return !(await isPortFree(Number(d.address.split(':')[1])));
        },
        { timeoutMs: AGENT_REGISTER_TIMEOUT_MS, intervalMs: 100 },
      ).catch((err: Error) => {
        throw new UpError('UP_START_FAILED', `${err.message}\nlast lines of ${logFile}:\n${logTail(logFile, 15)}`);
      });
      if (d.name === 'ingress') this.save({ ingress: { address: d.address } });
      else if (d.name === 'dns') this.save({ dns: { address: d.address, zone: DNS_ZONE } });
      else this.save({ dashboard: { address: d.address } });
      const what =
        d.name === 'ingress'
          ? `http://${d.address}  (HTTP by Host header; TCP routes on 127.0.0.1`
          : d.name === 'dns'
            ? `${d.address}  (UDP and TCP, zone ${DNS_ZONE}`
            : `http://${d.address}/  (read-only web page of the cluster`;
      this.say(`  ${d.name.padEnd(11)} started  ${what}, log ${logFile})`);
      if (this.stop.aborted) throw new Interrupted();
    }
  }

  private async followUntilStopped(): Promise<void> {
    if (this.stop.aborted) return;
    this.follower = new ClusterFollower({
      endpoints: this.etcdEndpoints,
      out: this.io.stdout,
      tty: this.io.stdout.isTTY === true,
      refreshMs: this.opts.refreshMs,
      problems: () => this.sup.problems(),
    });
    this.follower.start();
    await new Promise<void>((resolve) => (this.stop.aborted ? resolve() : this.stop.addEventListener('abort', () => resolve(), { once: true })));
  }

  /** Stops what this run started, in reverse order of dependence. */
  private async tearDown(): Promise<void> {
    const { L } = this;
    if (!this.etcd && !this.podman && !this.git && this.agents.length === 0) return;
    this.say('');
    this.say('ozy up: stopping what it started');
    await this.follower?.stop().catch(() => undefined);
    await this.store?.close().catch(() => undefined);

    // The front doors read only etcd: they go first, with nothing to lose.
    const doors = ['ingress', 'dns', 'dashboard'].filter((n) => this.sup.find(n) !== undefined);
    if (doors.length > 0) {
      await Promise.all(doors.map((n) => this.sup.find(n)!.child.terminate(AGENT_STOP_GRACE_MS)));
      this.say(`  ${doors.join(', ').padEnd(11)} stopped`);
    }
    // Agents next: they would restart the containers we are about to remove.
    const agents = this.agents.filter((a) => this.sup.find(`agent ${a.node}`) !== undefined);
    if (agents.length > 0) {
      await Promise.all(agents.map((a) => this.sup.find(`agent ${a.node}`)!.child.terminate(AGENT_STOP_GRACE_MS)));
      this.say(`  agents      stopped  ${agents.map((a) => a.node).join(', ')}`);
    }
    // Their containers: up started these nodes, so their containers go too.
    if (this.dockerSocket && this.agents.length > 0) {
      const nodes = this.agents.map((a) => a.node);
      try {
        const removed = await removeNodeContainers(this.dockerSocket, nodes);
        this.say(`  containers  removed  ${removed} (of nodes ${nodes.join(', ')})`);
      } catch (err) {
        this.say(`  containers  NOT removed: ${(err as Error).message}`);
      }
    }
    if (this.podman) {
      await this.podman.stop(5_000);
      fs.rmSync(L.podmanSocket, { force: true });
      this.say('  podman      stopped');
    }
    if (this.git) {
      await this.git.close();
      this.say('  git         stopped');
    }
    if (this.etcd) {
      await this.etcd.terminate(10_000);
      this.say(`  etcd        stopped  (data kept in ${L.etcdData})`);
    }
    this.say('ozy up: stopped');
  }
}

/** Fails early (before anything is started) on what would fail later. */
function preflight(opts: UpOptions, L: StateLayout, env: NodeJS.ProcessEnv, say: (l?: string) => void): void {
  if (!opts.dockerSocket && Buffer.byteLength(L.podmanSocket) > MAX_SOCKET_PATH) {
    throw new UpError('UP_START_FAILED', `the socket path ${L.podmanSocket} is longer than unix sockets allow (${MAX_SOCKET_PATH} bytes); use a shorter --state-dir`);
  }
  const missing: string[] = [];
  if (!findProgram('git', env)) missing.push('git');
  if (!opts.etcd && !findProgram(etcdBinary(env), env)) missing.push('etcd');
  if (!opts.dockerSocket && !findProgram('podman', env)) missing.push('podman');
  if (missing.length > 0) {
    const pkgs = missing.map((m) => PACKAGE_OF[m] ?? m).join(' ');
    const alternatives = [missing.includes('etcd') ? '--etcd URL' : '', missing.includes('podman') ? '--docker-socket PATH' : ''].filter(Boolean);
    throw new UpError(
      'UP_MISSING_PROGRAM',
      `not installed: ${missing.join(', ')}. Install with \`apt-get install ${pkgs}\` (scripts/install-deps.sh does)` +
        (alternatives.length ? `, or use what you have with ${alternatives.join(' / ')}` : ''),
    );
  }
  const sbinPath = { PATH: `${env.PATH ?? ''}:/usr/sbin:/sbin` };
  if (!opts.dockerSocket && !findProgram('runc', sbinPath)) {
    say('  warning     runc not found: containers will fail to start (apt-get install runc)');
  }
}

function readPorts(L: StateLayout): Partial<PortSet> {
  try {
    const v = JSON.parse(fs.readFileSync(L.portsFile, 'utf8')) as Record<string, unknown>;
    const out: Partial<PortSet> = {};
    for (const k of ['etcdClient', 'etcdPeer', 'git'] as const) if (typeof v[k] === 'number') out[k] = v[k] as number;
    return out;
  } catch {
    return {};
  }
}

function machineShare(stateDir: string): { memory: number; cpu: number; disk: number } {
  const s = fs.statfsSync(stateDir);
  return { memory: os.totalmem(), cpu: os.cpus().length * 1000, disk: s.bavail * s.bsize };
}

/**
 * The examples' demo secret is encrypted to a demo identity shipped with the
 * project (src/up/demo-identity.txt: its key is public, for the quickstart
 * only). Agents refuse an identity others can read, so it is copied into the
 * state dir with mode 0600.
 */
function demoIdentity(stateDir: string): string {
  const file = path.join(stateDir, 'secrets-identity.txt');
  fs.writeFileSync(file, fs.readFileSync(path.join(projectRoot(), 'src', 'up', 'demo-identity.txt')), { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return file;
}
