// Real etcd servers for integration tests: one member or a cluster, on
// 127.0.0.1 free ports, temporary data dirs, torn down by stop(). Health is
// awaited by polling /health (no sleeps). Raw helpers talk to etcd's v3 JSON
// gateway, so tests can plant corrupt values or compact history without
// going through the code under test.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { freePort } from './net';
import { tempDir } from './tmp';
import { waitFor } from './wait';

const ETCD_BIN = process.env.OZY_ETCD_BIN ?? 'etcd';
const HEALTH_TIMEOUT_MS = 20_000;

export interface EtcdOptions {
  /** Use (and keep) this data dir; default: a temp dir removed by stop(). */
  dataDir?: string;
  clientPort?: number;
  peerPort?: number;
  extraArgs?: string[];
}

export interface EtcdServer {
  endpoint: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  /** The current process id (changes on restart); undefined while stopped. */
  readonly pid: number | undefined;
  isRunning(): boolean;
  /** Sends `signal` (default SIGKILL) and waits for the process to exit; data is kept. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops (SIGTERM) if running, starts again on the same ports and data, waits until healthy. */
  restart(): Promise<void>;
  /** Kills the process and removes temp dirs. */
  stop(): Promise<void>;
  /** etcd's own log, for failure messages. */
  logTail(lines?: number): string;
}

/** Every etcd the harness started, killed if the test process exits without stop(). */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

interface MemberSpec {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  logFile: string;
  initialCluster: string;
  /** The same for every member of one cluster, unique per cluster. */
  clusterToken: string;
  extraArgs: string[];
}

class EtcdProcess implements EtcdServer {
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly spec: MemberSpec,
    private readonly cleanup: () => void,
  ) {}

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
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  isRunning(): boolean {
    return this.proc !== undefined;
  }

  /** Spawns etcd; does not wait for health. */
  launch(): void {
    if (this.proc) throw new Error(`etcd ${this.spec.name} is already running`);
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
      ...s.extraArgs,
    ];
    const log = fs.openSync(s.logFile, 'a');
    const proc = spawn(ETCD_BIN, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.proc = proc;
    running.add(proc);
    this.exited = new Promise((resolve) => {
      proc.once('exit', () => {
        running.delete(proc);
        if (this.proc === proc) this.proc = undefined;
        resolve();
      });
      proc.once('error', () => {
        running.delete(proc);
        if (this.proc === proc) this.proc = undefined;
        resolve();
      });
    });
  }

  async waitHealthy(): Promise<void> {
    await this.pollHealthy().catch((err: Error) => {
      throw new Error(`${err.message}\netcd ${this.spec.name} log:\n${this.logTail()}`);
    });
  }

  private async pollHealthy(): Promise<void> {
    await waitFor(
      `etcd ${this.spec.name} on ${this.endpoint} to be healthy`,
      async () => {
        if (!this.proc) throw new Error('etcd exited');
        const res = await httpRequest('GET', `${this.endpoint}/health`);
        return res.status === 200 && /"health":\s*"true"/.test(res.body);
      },
      { timeoutMs: HEALTH_TIMEOUT_MS, intervalMs: 50 },
    );
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    proc.kill(signal);
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.kill('SIGTERM');
    this.launch();
    await this.waitHealthy();
  }

  async stop(): Promise<void> {
    await this.kill('SIGKILL');
    this.cleanup();
  }

  logTail(lines = 30): string {
    try {
      return fs.readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

export async function startEtcd(opts: EtcdOptions = {}): Promise<EtcdServer> {
  const tmp = tempDir('ozy-etcd-');
  const clientPort = opts.clientPort ?? (await freePort());
  const peerPort = opts.peerPort ?? (await freePort());
  const name = 'ozy0';
  const member = new EtcdProcess(
    {
      name,
      clientPort,
      peerPort,
      dataDir: opts.dataDir ?? path.join(tmp.dir, 'data'),
      logFile: path.join(tmp.dir, 'etcd.log'),
      initialCluster: `${name}=http://127.0.0.1:${peerPort}`,
      clusterToken: `ozy-test-${clientPort}`,
      extraArgs: opts.extraArgs ?? [],
    },
    tmp.cleanup,
  );
  member.launch();
  try {
    await member.waitHealthy();
  } catch (err) {
    await member.stop();
    throw err;
  }
  return member;
}

export interface EtcdCluster {
  members: EtcdServer[];
  /** Client URLs of all members, in member order. */
  endpoints: string[];
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  restart(i: number): Promise<void>;
  /** Index of the current leader among the running members (polls until one is known). */
  leaderIndex(): Promise<number>;
  stop(): Promise<void>;
}

export async function startEtcdCluster(size = 3, opts: { extraArgs?: string[] } = {}): Promise<EtcdCluster> {
  const tmp = tempDir('ozy-etcd-cluster-');
  const specs: MemberSpec[] = [];
  for (let i = 0; i < size; i++) {
    specs.push({
      name: `ozy${i}`,
      clientPort: await freePort(),
      peerPort: await freePort(),
      dataDir: path.join(tmp.dir, `ozy${i}`, 'data'),
      logFile: path.join(tmp.dir, `ozy${i}.log`),
      initialCluster: '',
      clusterToken: '',
      extraArgs: opts.extraArgs ?? [],
    });
  }
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',');
  const clusterToken = `ozy-test-${specs[0]!.clientPort}`;
  const members = specs.map((s) => new EtcdProcess({ ...s, initialCluster, clusterToken }, () => undefined));
  const stop = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.kill('SIGKILL')));
    tmp.cleanup();
  };
  for (const m of members) m.launch();
  try {
    await Promise.all(members.map((m) => m.waitHealthy()));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    members,
    endpoints: members.map((m) => m.endpoint),
    kill: (i, signal) => members[i]!.kill(signal),
    restart: (i) => members[i]!.restart(),
    leaderIndex: () =>
      waitFor('an etcd leader', async () => {
        const ids = await Promise.all(
          members.map(async (m) => {
            if (!m.isRunning()) return undefined;
            const s = await etcdGateway<{ header?: { member_id?: string }; leader?: string }>(m.endpoint, '/v3/maintenance/status', {}).catch(() => undefined);
            return s ? { member: s.header?.member_id, leader: s.leader } : undefined;
          }),
        );
        const leader = ids.find((x) => x?.leader && x.leader !== '0')?.leader;
        const i = ids.findIndex((x) => x?.member !== undefined && x.member === leader);
        return i >= 0 ? i + 1 : undefined; // +1: waitFor treats 0 as "not yet"
      }).then((i) => i - 1),
    stop,
  };
}

// ── etcd's v3 JSON gateway (keys and values are base64) ────────────────

export async function etcdGateway<T>(endpoint: string, route: string, body: unknown): Promise<T> {
  const res = await httpRequest('POST', endpoint + route, JSON.stringify(body));
  if (res.status !== 200) throw new Error(`etcd ${route}: HTTP ${res.status} ${res.body}`);
  return JSON.parse(res.body) as T;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Writes a raw value, bypassing the store (e.g. to plant a corrupt one). Returns the new revision. */
export async function rawPut(endpoint: string, key: string, value: string): Promise<number> {
  const res = await etcdGateway<{ header: { revision: string } }>(endpoint, '/v3/kv/put', { key: b64(key), value: b64(value) });
  return Number(res.header.revision);
}

/** Raw value of a key, or undefined. */
export async function rawGet(endpoint: string, key: string): Promise<string | undefined> {
  const res = await etcdGateway<{ kvs?: { value?: string }[] }>(endpoint, '/v3/kv/range', { key: b64(key) });
  const v = res.kvs?.[0]?.value;
  return v === undefined ? (res.kvs?.length ? '' : undefined) : Buffer.from(v, 'base64').toString();
}

/** Raw keys below a prefix. */
export async function rawKeys(endpoint: string, prefix: string): Promise<string[]> {
  const end = Buffer.from(prefix);
  end[end.length - 1] = end[end.length - 1]! + 1;
  const res = await etcdGateway<{ kvs?: { key: string }[] }>(endpoint, '/v3/kv/range', {
    key: b64(prefix),
    range_end: end.toString('base64'),
    keys_only: true,
  });
  return (res.kvs ?? []).map((kv) => Buffer.from(kv.key, 'base64').toString());
}

/** Compacts history up to `revision` (watches from before it get cancelled). */
export async function compact(endpoint: string, revision: number): Promise<void> {
  await etcdGateway(endpoint, '/v3/kv/compaction', { revision: String(revision), physical: true });
}

function httpRequest(method: string, url: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, timeout: 2_000, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
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
