// One etcd member as a child process: the installed `etcd` binary on
// loopback ports with its data in a directory of our choosing. `ozy up`
// runs one; the test harness runs one or a cluster of three on the same
// code. Health is awaited by polling /health (etcd answers in < 1 s here).
import * as http from 'node:http';
import { spawnLogged, logTail, type LoggedChild } from './child';
import { pollUntil } from './wait';

/** `etcd`, or OZY_ETCD_BIN when set. */
export function etcdBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.OZY_ETCD_BIN ?? 'etcd';
}

export interface EtcdMemberSpec {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  logFile: string;
  /** `name=http://127.0.0.1:PEER,...` for every member of the cluster. */
  initialCluster: string;
  /** The same for every member of one cluster, unique per cluster. */
  clusterToken: string;
  extraArgs?: string[];
  /** Default: etcdBinary(). */
  bin?: string;
  /** Start it in its own process group (see child.ts). Default false. */
  detached?: boolean;
  /** Called with each process spawned (e.g. to kill it if the parent exits). */
  onSpawn?: (child: LoggedChild) => void;
}

export class EtcdMember {
  private child: LoggedChild | undefined;

  constructor(protected readonly spec: EtcdMemberSpec) {}

  get name(): string {
    return this.spec.name;
  }
  get endpoint(): string {
    return `http://127.0.0.1:${this.spec.clientPort}`;
  }
  get clientPort(): number {
    return this.spec.clientPort;
  }
  get peerPort(): number {
    return this.spec.peerPort;
  }
  get dataDir(): string {
    return this.spec.dataDir;
  }
  get logFile(): string {
    return this.spec.logFile;
  }
  /** The current process id (changes on restart); undefined while stopped. */
  get pid(): number | undefined {
    return this.child?.isRunning() ? this.child.pid : undefined;
  }

  isRunning(): boolean {
    return this.child?.isRunning() ?? false;
  }

  /** Resolves when the current process exits (at once when none runs). */
  exited(): Promise<void> {
    return this.child ? this.child.exit.then(() => undefined) : Promise.resolve();
  }

  /** Spawns etcd; does not wait for health. */
  launch(): void {
    if (this.isRunning()) throw new Error(`etcd ${this.spec.name} is already running`);
    const s = this.spec;
    const peer = `http://127.0.0.1:${s.peerPort}`;
    const args = [
      '--name', s.name,
      '--data-dir', s.dataDir,
      '--listen-client-urls', this.endpoint,
      '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', s.initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', s.clusterToken,
      '--logger', 'zap',
      '--log-outputs', 'stderr',
      ...(s.extraArgs ?? []),
    ];
    this.child = spawnLogged(s.bin ?? etcdBinary(), args, { logFile: s.logFile, detached: s.detached ?? false });
    s.onSpawn?.(this.child);
  }

  /** Polls /health until etcd answers healthy; the error quotes etcd's log. */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const child = this.child;
    try {
      await pollUntil(
        `etcd ${this.spec.name} on ${this.endpoint} to be healthy`,
        async () => {
          if (!child?.isRunning()) {
            const how = child ? await child.exit : undefined;
            throw new Error(how?.error ? `etcd could not be started: ${how.error.message}` : 'etcd exited');
          }
          return etcdHealthy(this.endpoint);
        },
        { timeoutMs, intervalMs: 50 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\netcd ${this.spec.name} log:\n${this.logTail()}`);
    }
  }

  /** Sends `signal` (default SIGKILL) and waits for the process to exit; data is kept. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.signal(signal);
    await child.exit;
  }

  /** SIGTERM (etcd syncs and exits), SIGKILL after `graceMs`. */
  async terminate(graceMs = 10_000): Promise<void> {
    await this.child?.terminate(graceMs);
  }

  /** Stops (SIGTERM) if running, starts again on the same ports and data, waits until healthy. */
  async restart(): Promise<void> {
    await this.kill('SIGTERM');
    this.launch();
    await this.waitHealthy();
  }

  /** etcd's own log, for failure messages. */
  logTail(lines = 30): string {
    return logTail(this.spec.logFile, lines);
  }
}

/** True when etcd at `endpoint` answers /health with health "true". */
export async function etcdHealthy(endpoint: string): Promise<boolean> {
  try {
    const res = await httpRequest('GET', `${endpoint}/health`);
    return res.status === 200 && /"health":\s*"true"/.test(res.body);
  } catch {
    return false;
  }
}

/** A small HTTP client for etcd's /health and its v3 JSON gateway. */
export function httpRequest(method: string, url: string, body?: string, timeoutMs = 2_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, timeout: timeoutMs, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}
