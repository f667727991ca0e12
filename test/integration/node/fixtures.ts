// Shared setup of the node runtime's integration tests: a podman service and
// an etcd of the test's own, the busybox image, the real ClusterStore, and
// NodeAgents whose status sink is that store on a registered node lease (so
// status and DNS keys really land in etcd).
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import pino from 'pino';
import { NodeAgent, type NodeStatusSink, type NodeTiming } from '../../../src/agent/node-agent';
import { storeSink } from '../../../src/agent/node-sink';
import type { AcceptedJob, InstanceStatus } from '../../../src/model/cluster';
import { podTemplateHash } from '../../../src/model/hash';
import type { ContainerSpec, HealthCheck, JobSpec } from '../../../src/model/job';
import { BUSYBOX_IMAGE, PodRuntime, buildBusyboxImage, createEngine, type ContainerEngine } from '../../../src/runtime';
import { ClusterStore, type NodeSession } from '../../../src/store';
import { startEtcd, type EtcdServer } from '../../harness/etcd';
import { startPodman, type PodmanService, type StartPodmanOptions } from '../../harness/podman';
import { tempDir } from '../../harness/tmp';
import { waitFor } from '../../harness/wait';

export const ZONE = 'ozy.local';
/** A documentation address (RFC 5737): shows the record carries --address, not something local. */
export const ADDRESS = '192.0.2.10';
/** Short back-off so state changes show within a second or two. The resync is long: exits are seen through engine events. A short drain delay. */
export const TIMING = { resyncMs: 60_000, backoffBaseMs: 300, backoffMaxMs: 2000, readyTimeoutMs: 20_000, backoffResetMs: 60_000, drainDelayMs: 200 };

export const log = pino({ level: process.env.OZY_TEST_LOG ?? 'silent' }, pino.destination(2));

export interface NodeFixture {
  podman: PodmanService;
  engine: ContainerEngine;
  etcd: EtcdServer;
  store: ClusterStore;
  dir: string;
  stop(): Promise<void>;
}

export async function startNodeFixture(opts: StartPodmanOptions = {}): Promise<NodeFixture> {
  const tmp = tempDir('ozy-node-');
  const [podman, etcd] = await Promise.all([startPodman(opts), startEtcd()]);
  const engine = createEngine({ socketPath: podman.socketPath, registryAuth: [] });
  await buildBusyboxImage(engine);
  const store = ClusterStore.connect({ endpoints: [etcd.endpoint] });
  return {
    podman,
    engine,
    etcd,
    store,
    dir: tmp.dir,
    async stop() {
      await store.close().catch(() => undefined);
      await podman.stop();
      await etcd.stop();
      tmp.cleanup();
    },
  };
}

/** A sink that writes to etcd and remembers what it wrote, in order. */
export class RecordingSink implements NodeStatusSink {
  /** Every state written, per instance (a state repeated with a new message is recorded once). */
  readonly states = new Map<string, string[]>();
  /** "put <key>" / "delete <key>", in order. */
  readonly dnsOps: string[] = [];
  constructor(private readonly inner: NodeStatusSink) {}
  // Writes are recorded when issued, not after etcd answered: a test that sees
  // a value in etcd must also find it here (the publisher serialises writes,
  // so issue order is write order). A failed write is taken back.
  async putStatus(s: InstanceStatus): Promise<void> {
    const h = this.states.get(s.instance) ?? [];
    const added = h[h.length - 1] !== s.state;
    if (added) h.push(s.state);
    this.states.set(s.instance, h);
    try {
      await this.inner.putStatus(s);
    } catch (err) {
      if (added) h.pop();
      throw err;
    }
  }
  deleteStatus(instance: string): Promise<void> {
    return this.inner.deleteStatus(instance);
  }
  async putDns(key: string, rec: { host: string; port: number; ttl: number }): Promise<void> {
    await this.recorded(`put ${key}`, () => this.inner.putDns(key, rec));
  }
  async deleteDns(key: string): Promise<void> {
    await this.recorded(`delete ${key}`, () => this.inner.deleteDns(key));
  }
  private async recorded(op: string, write: () => Promise<void>): Promise<void> {
    this.dnsOps.push(op);
    try {
      await write();
    } catch (err) {
      this.dnsOps.splice(this.dnsOps.lastIndexOf(op), 1);
      throw err;
    }
  }
}

export interface TestNode {
  name: string;
  session: NodeSession;
  sink: RecordingSink;
  dataDir: string;
  agent: NodeAgent;
  /** A new agent process for the same node: a new engine client, the same lease (an agent restart). */
  restartAgent(): NodeAgent;
  status(instance: string): Promise<InstanceStatus | undefined>;
  dns(job: string, instance: string): Promise<{ host: string; port: number; ttl: number } | undefined>;
}

/**
 * `podEngine`: the engine the first agent's pod runtime uses (default fx.engine), e.g. one that records stops.
 * `cpuSampleMs`: the agents sample autoscaled instances this often and publish the node's CPU record on its lease.
 */
export async function startNode(
  fx: NodeFixture,
  suffix: string,
  timing: Partial<NodeTiming> = TIMING,
  podEngine?: ContainerEngine,
  opts: { cpuSampleMs?: number } = {},
): Promise<TestNode> {
  const name = fx.podman.node(suffix);
  const session = await fx.store.registerNode(
    { name, address: ADDRESS, labels: {}, capacity: { memory: 8 * 2 ** 30, disk: 8 * 2 ** 30, cpu: 4000 } },
    { ttlSeconds: 10, agentId: randomUUID() },
  );
  const sink = new RecordingSink(storeSink(fx.store, () => session));
  const dataDir = path.join(fx.dir, name, 'data');
  const makeAgent = (engine: ContainerEngine, pods: ContainerEngine = engine): NodeAgent =>
    new NodeAgent({
      node: name,
      address: ADDRESS,
      dnsZone: ZONE,
      engine,
      pods: new PodRuntime({
        engine: pods,
        node: name,
        volumes: { dataDir, sharedRoot: path.join(fx.dir, name, 'shared') },
        hostIp: '127.0.0.1',
        stopTimeoutSec: 1,
      }),
      sink,
      log: log.child({ node: name }),
      timing,
      ...(opts.cpuSampleMs !== undefined ? { cpuSampleMs: opts.cpuSampleMs, publishCpu: (r) => fx.store.publishNodeCpu(session, r) } : {}),
    });
  return {
    name,
    session,
    sink,
    dataDir,
    agent: makeAgent(fx.engine, podEngine),
    restartAgent: () => makeAgent(createEngine({ socketPath: fx.podman.socketPath, registryAuth: [] })),
    status: async (instance) => (await fx.store.listInstanceStatus(name)).find((s) => s.instance === instance),
    dns: async (job, instance) => (await fx.store.listDnsRecords()).get(fx.store.keys.dnsKey(ZONE, job, instance)),
  };
}

/** Waits until the instance's status in etcd satisfies `pred`; returns it. */
export function statusWhere(node: TestNode, instance: string, what: string, pred: (s: InstanceStatus) => boolean, timeoutMs = 20_000): Promise<InstanceStatus> {
  let last: InstanceStatus | undefined;
  return waitFor(
    `${instance} ${what}`,
    async () => {
      last = await node.status(instance);
      return last && pred(last) ? last : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last status: ${JSON.stringify(last)}`);
  });
}

export function container(name: string, extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name,
    image: BUSYBOX_IMAGE,
    restart: 'on-failure',
    environment: [],
    ports: [],
    dependsOn: [],
    memory: 32 * 2 ** 20,
    cpu: 200,
    volumes: [],
    ...extra,
  };
}

export function httpCheck(port: number, path: string): HealthCheck {
  return { type: 'http', port, path, intervalMs: 200, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 2 };
}

/** busybox sleep ignores SIGTERM (so does any PID 1 without a handler); the jobs' 1 s stopGrace ends it. */
export const SLEEP = ['/bin/sleep', '600'];

/**
 * SIGTERM → SIGKILL of these tests' pods. Without it a pod gets the job
 * default (DEFAULT_STOP_GRACE_MS, 10 s), and every stop, restart and
 * replacement of a container that ignores SIGTERM would wait all of it.
 * A test about the grace itself sets its own (drain.test.ts).
 */
export const STOP_GRACE_MS = 1000;

/** An accepted job whose instance i is placed on nodes[i]. */
export function acceptedJob(name: string, containers: ContainerSpec[], nodes: Array<string | null>): AcceptedJob {
  const spec: JobSpec = { name, numInstances: nodes.length, containers, stopGraceMs: STOP_GRACE_MS };
  return {
    spec,
    specHash: podTemplateHash(spec),
    commit: 'c0ffee',
    file: `jobs/${name}.yaml`,
    acceptedAt: new Date().toISOString(),
    instances: nodes.map((node) => ({ node, since: new Date().toISOString() })),
  };
}
