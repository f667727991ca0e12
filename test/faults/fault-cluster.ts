// A whole cluster on loopback for fault injection: a real etcd (one member
// or three), a git smart-HTTP server with a user who merges job files, a
// podman API service that can be killed and started again, and `ozy agent`
// processes that can be SIGKILLed, SIGSTOPped, restarted on the same data dir
// and cut off from etcd through a TCP proxy of their own.
//
// Unlike test/harness/cluster.ts it can take a three-member etcd, put a
// proxy in front of each agent's etcd connection and restart the container
// engine; the pieces (etcd, git, proxy, podman config) are the harness's.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ozyEntry } from '../../src/paths';
import { buildBusyboxImage, createEngine, type ContainerEngine } from '../../src/runtime';
import { ClusterStore } from '../../src/store';
import { merge } from '../harness/cluster';
import { startEtcd, startEtcdCluster, type EtcdCluster, type EtcdServer } from '../harness/etcd';
import { startGitServer, type GitServer } from '../harness/git-server';
import { cloneAsUser, type GitUser } from '../harness/git-user';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy';
import { tempDir } from '../harness/tmp';
import { waitFor } from '../harness/wait';
import { startRestartablePodman, type RestartablePodman } from './podman-service';

/** Lease TTL and poll of every agent unless a scenario says otherwise: short, so faults play out fast. */
export const LEASE_TTL_S = 2;
export const POLL_MS = 300;

export interface FaultAgentSpec {
  /** Suffix of the node name (`<prefix>-<name>`). */
  name: string;
  memory?: string;
  cpus?: string;
  leaseTtlS?: number;
  pollMs?: number;
  /** --fence-on-expiry (strict fencing). */
  strict?: boolean;
  /** Reach etcd through a TCP proxy of the agent's own (single-member etcd only), to cut it off. */
  proxy?: boolean;
  extraArgs?: string[];
}

export interface FaultAgent {
  /** Read at each (re)start: changing it changes the next process's flags. */
  spec: FaultAgentSpec;
  node: string;
  dataDir: string;
  proxy?: TcpProxy;
  /** Pid of the current process. */
  pid(): number | undefined;
  /** Log of the current process (pino JSON lines). */
  logs(): string;
  /** Logs of every process of this agent, oldest first. */
  allLogs(): string;
  exited(): boolean;
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL, wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (SIGCONT first), wait for the exit: containers stay. */
  stop(): Promise<void>;
  /** A new process on the same data dir (and proxy); resolves once it runs. */
  restart(): Promise<void>;
  /** A new process on the same data dir, without waiting for it to run (to kill it mid-start). */
  spawn(): void;
}

export interface FaultCluster {
  etcdEndpoints: string[];
  /** Set with a one-member etcd. */
  etcd?: EtcdServer;
  /** Set with a three-member etcd. */
  etcdCluster?: EtcdCluster;
  git: GitServer;
  user: GitUser;
  repoUrl: string;
  podman: RestartablePodman;
  /** The test's own engine client (observations). */
  engine: ContainerEngine;
  /** The test's own etcd client, on every endpoint. */
  store: ClusterStore;
  agents: FaultAgent[];
  startAgent(spec: FaultAgentSpec): Promise<FaultAgent>;
  /** Pushes a change to the job repository the way a merged pull request lands. */
  merge(files: Record<string, string | null>, message: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startFaultCluster(opts: { etcdMembers?: 1 | 3 } = {}): Promise<FaultCluster> {
  const tmp = tempDir('ozy-faults-');
  const three = opts.etcdMembers === 3;
  const [etcd, etcdCluster, git, podman] = await Promise.all([
    three ? undefined : startEtcd(),
    three ? startEtcdCluster(3) : undefined,
    startGitServer(),
    startRestartablePodman(),
  ]);
  const etcdEndpoints = etcd ? [etcd.endpoint] : etcdCluster!.endpoints;
  const engine = createEngine({ socketPath: podman.socketPath, registryAuth: [] });
  await buildBusyboxImage(engine);
  await git.createBareRepo('jobs');
  const repoUrl = git.url('jobs');
  const user = await cloneAsUser(repoUrl);
  user.writeFiles({ 'README.md': 'fault suite job repository\n' });
  await user.commitAndPush('initial');
  const store = ClusterStore.connect({ endpoints: etcdEndpoints });
  const agents: FaultAgent[] = [];

  const startAgent = async (spec: FaultAgentSpec): Promise<FaultAgent> => {
    const node = podman.node(spec.name);
    const dataDir = path.join(tmp.dir, node);
    let proxy: TcpProxy | undefined;
    if (spec.proxy) {
      if (!etcd) throw new Error('a proxied agent needs a one-member etcd');
      proxy = await startTcpProxy('127.0.0.1', etcd.clientPort);
    }
    // Built at each spawn: a scenario may change the spec (e.g. the lease TTL) between processes.
    const argsOf = (): string[] => [
      ozyEntry(), 'agent',
      '--node', node,
      '--repo', repoUrl,
      '--etcd', proxy ? proxy.endpoint : etcdEndpoints.join(','),
      '--docker-socket', podman.socketPath,
      '--memory', spec.memory ?? '1G',
      '--disk', '10G',
      '--cpus', spec.cpus ?? '4',
      '--address', '127.0.0.1',
      '--publish-ip', '127.0.0.1',
      '--poll', `${spec.pollMs ?? POLL_MS}ms`,
      '--lease-ttl', `${spec.leaseTtlS ?? LEASE_TTL_S}s`,
      '--data-dir', dataDir,
      '--shared-dir', path.join(tmp.dir, 'shared'),
      ...(spec.strict ? ['--fence-on-expiry'] : []),
      ...(spec.extraArgs ?? []),
    ];
    let proc: ChildProcess | undefined;
    let log = '';
    const history: string[] = [];
    let exit: Promise<void> = Promise.resolve();
    let exited = true;

    const spawnProcess = (): void => {
      if (proc) history.push(log);
      log = '';
      exited = false;
      const p = spawn(process.execPath, argsOf(), { env: { ...process.env, OZY_LOG_LEVEL: 'debug' }, stdio: ['ignore', 'ignore', 'pipe'] });
      proc = p;
      p.stderr!.setEncoding('utf8').on('data', (d: string) => {
        log += d;
        if (log.length > 4_000_000) log = log.slice(-2_000_000);
      });
      exit = new Promise<void>((resolve) => p.once('exit', () => {
        exited = true;
        resolve();
      }));
    };
    const launch = async (): Promise<void> => {
      spawnProcess();
      await waitFor(`agent ${node} running`, () => {
        if (exited) throw new Error(`agent ${node} exited:\n${log.slice(-3000)}`);
        return log.includes('"msg":"agent running"');
      }, { timeoutMs: 30_000 }).catch((err: Error) => {
        // What it is waiting for is in its log (e.g. "stop containers of the expired lease failed; retrying").
        throw new Error(`${err.message}; its log ends:\n${log.slice(-2000)}`);
      });
    };

    const agent: FaultAgent = {
      spec,
      node,
      dataDir,
      ...(proxy ? { proxy } : {}),
      pid: () => (exited ? undefined : proc?.pid),
      logs: () => log,
      allLogs: () => [...history, log].join(''),
      exited: () => exited,
      signal: (sig) => {
        if (!exited) proc?.kill(sig);
      },
      async kill() {
        if (!exited) proc?.kill('SIGKILL');
        await exit;
      },
      async stop() {
        if (!exited) {
          proc?.kill('SIGCONT');
          proc?.kill('SIGTERM');
        }
        await exit;
      },
      async restart() {
        if (!exited) throw new Error(`agent ${node} is still running`);
        await launch();
      },
      spawn() {
        if (!exited) throw new Error(`agent ${node} is still running`);
        spawnProcess();
      },
    };
    agents.push(agent);
    await launch();
    return agent;
  };

  return {
    etcdEndpoints,
    ...(etcd ? { etcd } : {}),
    ...(etcdCluster ? { etcdCluster } : {}),
    git,
    user,
    repoUrl,
    podman,
    engine,
    store,
    agents,
    startAgent,
    merge: (files, message) => merge(user, files, message),
    async stop() {
      await Promise.all(agents.map((a) => a.kill()));
      saveLogs(agents);
      await Promise.all(agents.map((a) => a.proxy?.stop()));
      await store.close().catch(() => undefined);
      user.cleanup();
      try {
        await podman.stop();
      } finally {
        await git.stop();
        await (etcd ? etcd.stop() : etcdCluster!.stop());
        tmp.cleanup();
      }
    },
  };
}

/** OZY_FAULT_LOGS=<dir>: keep every agent's log there (one file per node) for post-mortems. */
function saveLogs(agents: FaultAgent[]): void {
  const dir = process.env.OZY_FAULT_LOGS;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  for (const a of agents) fs.writeFileSync(path.join(dir, `${a.node}.log`), a.allLogs());
}
