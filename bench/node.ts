// Node runtime benchmark: the time from an assignment reaching the node
// agent (reconcile called) to the instance healthy and its DNS record in
// etcd, against the floor of the container engine itself measured in the
// same run: create + start of the same two containers through the Engine
// API, nothing else. Real podman service and etcd, started here.
// `node dist/bench/node.js` prints the figures; runNodeBench() returns them.
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import pino from 'pino';
import { NodeAgent, type NodeStatusSink } from '../src/agent/node-agent';
import { storeSink } from '../src/agent/node-sink';
import type { AcceptedJob } from '../src/model/cluster';
import { podTemplateHash } from '../src/model/hash';
import type { ContainerSpec, JobSpec } from '../src/model/job';
import { BUSYBOX_IMAGE, PodRuntime, buildBusyboxImage, createEngine, toCreateOptions, type ContainerEngine } from '../src/runtime';
import { ClusterStore } from '../src/store';
import { startEtcd } from '../test/harness/etcd';
import { startPodman } from '../test/harness/podman';
import { tempDir } from '../test/harness/tmp';
import { percentile, round } from './lib/stats';

export interface NodeBenchResult {
  repetitions: number;
  /** reconcile() called → status healthy and DNS record written in etcd, ms. */
  agent: Summary;
  /** create + start of the same two containers through the Engine API, ms. */
  floor: Summary;
  /** agent ÷ floor at p50 and p99. */
  ratio: { p50: number; p99: number };
}

interface Summary {
  p50: number;
  p99: number;
  samples: number[];
}

const ZONE = 'ozy.local';

/** The benchmark pod: a web server with an HTTP check, and a side container that waits for it. */
function benchJob(name: string, node: string): AcceptedJob {
  const base = { image: BUSYBOX_IMAGE, environment: [], ports: [], memory: 32 * 2 ** 20, cpu: 200, volumes: [] };
  const containers: ContainerSpec[] = [
    {
      ...base,
      name: 'web',
      restart: 'always',
      dependsOn: [],
      command: ['/bin/httpd', '-f', '-p', '8080', '-h', '/www'],
      ports: [{ container: 8080, protocol: 'tcp' }],
      healthcheck: { type: 'http', port: 8080, path: '/index.html', intervalMs: 100, timeoutMs: 1000, healthyThreshold: 1, unhealthyThreshold: 3 },
    },
    { ...base, name: 'side', restart: 'always', dependsOn: ['web'], command: ['/bin/sleep', '600'] },
  ];
  // Cleanup between repetitions is not measured: kill at once (the agent stops a pod within the job's stopGrace).
  const spec: JobSpec = { name, numInstances: 1, containers, stopGraceMs: 0 };
  const at = new Date().toISOString();
  return { spec, specHash: podTemplateHash(spec), commit: 'bench', file: `jobs/${name}.yaml`, acceptedAt: at, instances: [{ node, since: at }] };
}

/** Records when each DNS record landed in etcd. */
class TimingSink implements NodeStatusSink {
  readonly dnsAt = new Map<string, bigint>();
  constructor(private readonly inner: NodeStatusSink) {}
  putStatus = (s: Parameters<NodeStatusSink['putStatus']>[0]): Promise<void> => this.inner.putStatus(s);
  deleteStatus = (instance: string): Promise<void> => this.inner.deleteStatus(instance);
  deleteDns = (key: string): Promise<void> => this.inner.deleteDns(key);
  async putDns(key: string, rec: { host: string; port: number; ttl: number }): Promise<void> {
    await this.inner.putDns(key, rec);
    if (!this.dnsAt.has(key)) this.dnsAt.set(key, process.hrtime.bigint());
  }
}

/** The engine alone: create + start owner, then create + start the joiner, as the pod runtime would. */
async function floorOnce(engine: ContainerEngine, node: string, job: AcceptedJob): Promise<number> {
  const ctx = { job: job.spec.name, instance: `${job.spec.name}-0`, node, specHash: job.specHash };
  const [web, side] = job.spec.containers as [ContainerSpec, ContainerSpec];
  const t0 = process.hrtime.bigint();
  const ownerId = await engine.create(toCreateOptions(ctx, job.spec.containers, web, undefined, { hostIp: '127.0.0.1' }));
  await engine.start(ownerId);
  const sideId = await engine.create(toCreateOptions(ctx, job.spec.containers, side, ownerId, { hostIp: '127.0.0.1' }));
  await engine.start(sideId);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await engine.remove(sideId, { force: true });
  await engine.remove(ownerId, { force: true });
  return ms;
}

function summary(samples: number[]): Summary {
  return { p50: round(percentile(samples, 50)), p99: round(percentile(samples, 99)), samples: samples.map((s) => round(s)) };
}

export async function runNodeBench(opts: { repetitions?: number } = {}): Promise<NodeBenchResult> {
  const repetitions = opts.repetitions ?? 10;
  const tmp = tempDir('ozy-bench-node-');
  const [podman, etcd] = await Promise.all([startPodman(), startEtcd()]);
  const store = ClusterStore.connect({ endpoints: [etcd.endpoint] });
  let agent: NodeAgent | undefined;
  try {
    const engine = createEngine({ socketPath: podman.socketPath, registryAuth: [] });
    await buildBusyboxImage(engine);
    const node = podman.node('bench');
    const session = await store.registerNode(
      { name: node, address: '192.0.2.10', labels: {}, capacity: { memory: 8 * 2 ** 30, disk: 8 * 2 ** 30, cpu: 4000 } },
      { ttlSeconds: 10, agentId: randomUUID() },
    );
    const sink = new TimingSink(storeSink(store, () => session));
    agent = new NodeAgent({
      node,
      address: '192.0.2.10',
      dnsZone: ZONE,
      engine,
      pods: new PodRuntime({
        engine,
        node,
        volumes: { dataDir: path.join(tmp.dir, 'data'), sharedRoot: path.join(tmp.dir, 'shared') },
        hostIp: '127.0.0.1',
        // Cleanup between repetitions is not measured: kill at once.
        stopTimeoutSec: 0,
      }),
      sink,
      log: pino({ level: 'warn' }, pino.destination(2)),
      // Nobody routes to the bench's instances: no drain delay between repetitions.
      timing: { drainDelayMs: 0 },
    });

    const floorNode = podman.node('floor');
    const agentMs: number[] = [];
    const floorMs: number[] = [];
    // One warm-up round of each, not counted (first container on a fresh service, JIT).
    for (let i = -1; i < repetitions; i++) {
      const floor = await floorOnce(engine, floorNode, benchJob(`floor${i + 1}`, floorNode));
      const job = benchJob(`bench${i + 1}`, node);
      const key = store.keys.dnsKey(ZONE, job.spec.name, `${job.spec.name}-0`);
      const t0 = process.hrtime.bigint();
      await agent.reconcile([job]);
      const at = await until(() => sink.dnsAt.get(key), 30_000);
      const ms = Number(at - t0) / 1e6;
      await agent.reconcile([]);
      if (i >= 0) {
        agentMs.push(ms);
        floorMs.push(floor);
      }
    }
    const a = summary(agentMs);
    const f = summary(floorMs);
    return { repetitions, agent: a, floor: f, ratio: { p50: round(a.p50 / f.p50, 2), p99: round(a.p99 / f.p99, 2) } };
  } finally {
    await agent?.close();
    await store.close().catch(() => undefined);
    await podman.stop();
    await etcd.stop();
    tmp.cleanup();
  }
}

async function until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`no DNS record within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function print(r: NodeBenchResult): void {
  console.log(`node runtime, 2-container pod (web with an HTTP check + a dependent), ${r.repetitions} repetitions`);
  console.log(`  assignment → healthy + DNS in etcd: p50 ${r.agent.p50} ms, p99 ${r.agent.p99} ms`);
  console.log(`  engine floor (create+start ×2):     p50 ${r.floor.p50} ms, p99 ${r.floor.p99} ms`);
  console.log(`  ratio: ${r.ratio.p50}× at p50, ${r.ratio.p99}× at p99`);
}

if (require.main === module) {
  runNodeBench().then(print, (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
