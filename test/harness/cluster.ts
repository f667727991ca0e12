// A whole cluster on loopback for end-to-end tests: a real etcd, a real git
// smart-HTTP server with a user who pushes job files, a real podman service,
// and `ozy agent` processes started as separate OS processes.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AgentReport } from '../../src/agent/cluster-status';
import { readClusterStatus } from '../../src/cli/commands/status';
import { ozyEntry } from '../../src/paths';
import { AGENT_NODE_FLAGS, agentEnv } from '../../src/runtime/agent-launch';
import { buildBusyboxImage, createEngine } from '../../src/runtime';
import { ClusterStore } from '../../src/store';
import { startEtcd, type EtcdServer } from './etcd';
import { startGitServer, type GitServer } from './git-server';
import { cloneAsUser, type GitUser } from './git-user';
import { startPodman, type PodmanService } from './podman';
import { tempDir } from './tmp';
import { waitFor } from './wait';

export interface AgentProcess {
  node: string;
  proc: ChildProcess;
  dataDir: string;
  /** Everything the agent logged (pino JSON lines on stderr). */
  logs(): string;
  exited(): boolean;
  /** Sends a signal without waiting (SIGKILL, SIGSTOP, SIGCONT...). */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM and wait for the exit (containers keep running). */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
}

export interface AgentSpec {
  /** Suffix; the node name is `${podman.prefix}-${name}` so cleanup finds its containers. */
  name: string;
  memory?: string;
  disk?: string;
  cpus?: string;
  zone?: string;
  poll?: string;
  leaseTtl?: string;
  extraArgs?: string[];
  env?: Record<string, string>;
  /** Reuse a data dir (agent restart); default: a new one. */
  dataDir?: string;
  /** etcd endpoints to use instead of the cluster's (e.g. a proxy). */
  etcd?: string;
}

export interface TestCluster {
  etcd: EtcdServer;
  git: GitServer;
  podman: PodmanService;
  store: ClusterStore;
  repoUrl: string;
  user: GitUser;
  agents: AgentProcess[];
  startAgent(spec: AgentSpec): Promise<AgentProcess>;
  /** Waits until `n` nodes are registered. */
  waitForNodes(n: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(opts: { files?: Record<string, string> } = {}): Promise<TestCluster> {
  const tmp = tempDir('ozy-cluster-');
  const [etcd, git, podman] = await Promise.all([startEtcd(), startGitServer(), startPodman()]);
  await git.createBareRepo('jobs');
  const repoUrl = git.url('jobs');
  const user = await cloneAsUser(repoUrl);
  user.writeFiles({ 'README.md': 'test job repository\n', ...(opts.files ?? {}) });
  await user.commitAndPush('initial');
  const store = ClusterStore.connect({ endpoints: [etcd.endpoint] });
  const agents: AgentProcess[] = [];

  const cluster: TestCluster = {
    etcd,
    git,
    podman,
    store,
    repoUrl,
    user,
    agents,
    async startAgent(spec) {
      const node = podman.node(spec.name);
      const dataDir = spec.dataDir ?? path.join(tmp.dir, node);
      const args = [
        ...AGENT_NODE_FLAGS, // as bin/ozy and `ozy up` start it
        ozyEntry(), 'agent',
        '--node', node,
        '--repo', repoUrl,
        '--etcd', spec.etcd ?? etcd.endpoint,
        '--docker-socket', podman.socketPath,
        '--memory', spec.memory ?? '1G',
        '--disk', spec.disk ?? '10G',
        '--cpus', spec.cpus ?? '2',
        '--address', '127.0.0.1',
        '--publish-ip', '127.0.0.1',
        '--poll', spec.poll ?? '300ms',
        '--lease-ttl', spec.leaseTtl ?? '3s',
        '--data-dir', dataDir,
        '--shared-dir', path.join(tmp.dir, 'shared'),
        ...(spec.zone ? ['--zone', spec.zone] : []),
        ...(spec.extraArgs ?? []),
      ];
      const proc = spawn(process.execPath, args, {
        env: agentEnv({ ...process.env, OZY_LOG_LEVEL: 'debug', ...spec.env }),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
        log += d;
        if (log.length > 4_000_000) log = log.slice(-2_000_000);
      });
      let exited = false;
      const exit = new Promise<void>((resolve) => proc.once('exit', () => { exited = true; resolve(); }));
      const agent: AgentProcess = {
        node,
        proc,
        dataDir,
        logs: () => log,
        exited: () => exited,
        signal: (sig) => { if (!exited) proc.kill(sig); },
        async stop() { if (!exited) { proc.kill('SIGCONT'); proc.kill('SIGTERM'); } await exit; },
        async kill() { if (!exited) proc.kill('SIGKILL'); await exit; },
      };
      agents.push(agent);
      // This process must be the one running (the name alone may be another agent's).
      const running = waitFor(`agent ${node} running`, () => log.includes('"msg":"agent running"'), { timeoutMs: 20_000 });
      const died = exit.then(() => {
        throw new Error(`agent ${node} exited:\n${log.slice(-3000)}`);
      });
      await Promise.race([running, died]);
      died.catch(() => undefined);
      return agent;
    },
    async waitForNodes(n) {
      await waitFor(`${n} nodes registered`, async () => (await store.snapshot()).nodes.length === n, { timeoutMs: 20_000 });
    },
    async stop() {
      await Promise.all(agents.map((a) => a.kill()));
      await store.close().catch(() => undefined);
      user.cleanup();
      await podman.stop();
      await Promise.all([git.stop(), etcd.stop()]);
      tmp.cleanup();
    },
  };
  return cluster;
}

/**
 * A cluster with the busybox image built and one agent per name (all the
 * same size), registered: what the end-to-end tests of jobs start from.
 */
export async function startClusterWithAgents(names: readonly string[], opts: { memory?: string; files?: Record<string, string> } = {}): Promise<TestCluster> {
  const c = await startCluster(opts.files ? { files: opts.files } : {});
  await buildBusyboxImage(createEngine({ socketPath: c.podman.socketPath, registryAuth: [] }));
  await Promise.all(names.map((name) => c.startAgent({ name, memory: opts.memory ?? '256M' })));
  await c.waitForNodes(names.length);
  return c;
}

/**
 * A one-container busybox job running `script` under `/bin/sh -c`: `top`
 * lines are job fields (numInstances, update, placement…), `container` lines
 * go inside the container, `after` lines at the end (ingress…).
 */
export function shellJob(o: { name: string; script: string; memory: string; cpu: string; image?: string; top?: string[]; container?: string[]; after?: string[] }): string {
  return [
    `name: ${o.name}`,
    ...(o.top ?? []),
    'containers:',
    '  app:',
    `    image: ${o.image ?? 'localhost/ozy-busybox:1'}`,
    `    command: ["/bin/sh", "-c", ${JSON.stringify(o.script)}]`,
    `    memory: ${o.memory}`,
    `    cpu: ${o.cpu}`,
    ...(o.container ?? []).map((l) => `    ${l}`),
    ...(o.after ?? []),
    '',
  ].join('\n');
}

/** A minimal valid job file in the seed's format. */
export function jobYaml(name: string, opts: { instances?: number; memory?: string; cpu?: string; image?: string; command?: string[]; port?: string } = {}): string {
  const lines = [
    `name: ${name}`,
    `numInstances: ${opts.instances ?? 1}`,
    'containers:',
    '  main:',
    `    image: ${opts.image ?? 'localhost/ozy-busybox:1'}`,
    `    command: ${JSON.stringify(opts.command ?? ['/bin/sleep', '3600'])}`,
    `    memory: ${opts.memory ?? '64M'}`,
    `    cpu: ${opts.cpu ?? '100m'}`,
  ];
  if (opts.port) lines.push('    ports:', `      - "${opts.port}"`);
  return `${lines.join('\n')}\n`;
}

/** Reads a JSON file from a dir if present. */
export function readJsonIfExists(file: string): unknown {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}

/**
 * What merging a pull request does: the change lands on top of the current
 * tip (agents may have pushed report commits meanwhile). Returns the commit.
 */
export async function merge(user: GitUser, files: Record<string, string | null>, message: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    await user.pull();
    user.writeFiles(files);
    await user.commit(message);
    try {
      return await user.push();
    } catch (err) {
      if (attempt >= 10) throw err;
    }
  }
}

/** Every agent's record as `ozy status` shows it (a follower's git view is its poller's). */
export async function agentReports(store: ClusterStore): Promise<Array<AgentReport & { node: string }>> {
  const status = await readClusterStatus(store);
  return status.nodes.filter((n) => n.alive && n.agent).map((n) => ({ ...n.agent!, node: n.name }));
}
