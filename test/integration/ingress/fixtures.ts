// What the ingress and DNS integration tests share: a real etcd with two
// registered "nodes", accepted jobs and instance statuses written through the
// ClusterStore as the agents will write them, and plain Node servers on
// loopback standing in for instances.
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AcceptedJob, InstanceStatus } from '../../../src/model/cluster';
import type { IngressRoute } from '../../../src/model/job';
import { ClusterStore, type NodeSession } from '../../../src/store';
export { startOzy, type OzyProcess } from '../../harness/ozy-process';

const GiB = 1024 ** 3;

export interface TestNodes {
  store: ClusterStore;
  sessions: Map<string, NodeSession>;
  close(): Promise<void>;
}

export async function registerNodes(endpoint: string, prefix: string, names: string[]): Promise<TestNodes> {
  const store = ClusterStore.connect({ endpoints: [endpoint], prefix });
  const sessions = new Map<string, NodeSession>();
  for (const name of names) {
    sessions.set(name, await store.registerNode({ name, address: '127.0.0.1', labels: {}, capacity: { memory: GiB, disk: 10 * GiB, cpu: 2000 } }, { ttlSeconds: 30, agentId: name }));
  }
  return {
    store,
    sessions,
    async close() {
      for (const s of sessions.values()) await s.revoke().catch(() => undefined);
      await store.close();
    },
  };
}

export function acceptedJob(name: string, ingress: IngressRoute[], nodes: string[], specHash = `h-${name}`): AcceptedJob {
  return {
    spec: {
      name,
      numInstances: nodes.length,
      containers: [{ name: 'app', image: 'localhost/ozy-test:1', restart: 'always', environment: [], ports: [], dependsOn: [], memory: 1 << 26, cpu: 100, volumes: [] }],
      ingress,
    },
    specHash,
    commit: 'c1',
    file: `jobs/${name}.yaml`,
    acceptedAt: new Date().toISOString(),
    instances: nodes.map((node) => ({ node, since: new Date().toISOString() })),
  };
}

/** Writes (or replaces) accepted jobs the way a scheduling round does. */
export async function putJobs(store: ClusterStore, jobs: AcceptedJob[]): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const snap = await store.snapshot();
    const res = await store.commitSchedule(snap.scheduleRevision, { putJobs: jobs, deleteJobs: [], putRejections: [], deleteRejections: [], readJobs: snap.jobs }, { commit: 'c1', by: 'test' });
    if (res.ok) return;
  }
  throw new Error('could not commit the jobs');
}

/** The status an agent writes for a healthy instance whose `port` is reachable at 127.0.0.1:`hostPort`. */
export function healthyStatus(job: AcceptedJob, ordinal: number, endpoints: Record<number, number>, over: Partial<InstanceStatus> = {}): InstanceStatus {
  return {
    instance: `${job.spec.name}-${ordinal}`,
    job: job.spec.name,
    node: job.instances[ordinal]!.node!,
    specHash: job.specHash,
    state: 'healthy',
    restarts: 0,
    containers: { app: { state: 'running' } },
    updatedAt: new Date().toISOString(),
    endpoints: Object.fromEntries(Object.entries(endpoints).map(([port, hostPort]) => [port, { host: '127.0.0.1', port: hostPort }])),
    ...over,
  };
}

export async function putStatus(nodes: TestNodes, status: InstanceStatus): Promise<void> {
  await nodes.store.putInstanceStatus(nodes.sessions.get(status.node)!, status);
}

// ── stand-in instances ────────────────────────────────────────────────

export interface Backend {
  name: string;
  port: number;
  server: http.Server;
  /** Requests seen, with the headers they came with. */
  seen: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/**
 * An HTTP instance: answers `name` for GET; for POST, the byte count and
 * SHA-256 of the body it received; `/hang` never answers.
 */
export async function startBackend(name: string): Promise<Backend> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === '/hang') return; // the ingress must give up (504)
    if (req.method === 'POST') {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
      });
      req.on('end', () => res.end(JSON.stringify({ name, bytes, sha256: hash.digest('hex') })));
      return;
    }
    res.setHeader('x-backend', name);
    res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    port: (server.address() as net.AddressInfo).port,
    server,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request through the ingress with a Host header (no connection reuse, so each request is routed anew). */
export function request(port: number, host: string, path = '/', opts: { method?: string; body?: Buffer | string; headers?: http.OutgoingHttpHeaders } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host, ...opts.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
