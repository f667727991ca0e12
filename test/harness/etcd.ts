// Real etcd servers for integration tests: one member or a cluster, on
// 127.0.0.1 free ports, temporary data dirs, torn down by stop(). Health is
// awaited by polling /health (no sleeps). Raw helpers talk to etcd's v3 JSON
// gateway, so tests can plant corrupt values or compact history without
// going through the code under test. The etcd process itself is the
// production one `ozy up` runs (src/up/etcd.ts).
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { EtcdMember, httpRequest, type EtcdMemberSpec } from '../../src/up/etcd';
import { freePort } from './net';
import { tempDir } from './tmp';
import { waitFor } from './wait';

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

type MemberSpec = Omit<EtcdMemberSpec, 'onSpawn' | 'bin'>;

/** Every etcd the harness started, killed if the test process exits without stop(). */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** The production etcd member (src/up/etcd.ts), plus the harness's clean-up. */
class EtcdProcess extends EtcdMember implements EtcdServer {
  constructor(
    spec: MemberSpec,
    private readonly cleanup: () => void,
  ) {
    super({
      ...spec,
      onSpawn: (child) => {
        running.add(child.proc);
        void child.exit.then(() => running.delete(child.proc));
      },
    });
  }

  override async waitHealthy(): Promise<void> {
    await super.waitHealthy(HEALTH_TIMEOUT_MS);
  }

  async stop(): Promise<void> {
    await this.kill('SIGKILL');
    this.cleanup();
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

/** The lease a key hangs on (decimal id, '0' for none), or undefined when the key is absent. */
export async function rawLease(endpoint: string, key: string): Promise<string | undefined> {
  const res = await etcdGateway<{ kvs?: { lease?: string }[] }>(endpoint, '/v3/kv/range', { key: b64(key) });
  const kv = res.kvs?.[0];
  return kv === undefined ? undefined : (kv.lease ?? '0');
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
