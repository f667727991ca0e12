// Engine API requests per minute on an idle node (issue 10's figure): one
// `ozy agent` process running N healthy instances (busybox httpd with an
// HTTP check every 5 s) and nothing changing. The agent talks to podman
// through a counting proxy (bench/lib/engine-proxy.ts), so every request it
// makes is counted whatever code made it; HTTP health checks go to the
// containers, not the engine, and are not counted. Real etcd, git server and
// podman from test/harness/cluster.ts.
//
//   node dist/bench/node-idle.js                 N = 50, a 120 s window
//   OZY_BENCH_IDLE_INSTANCES=10 OZY_BENCH_IDLE_WINDOW_S=60 node dist/bench/node-idle.js
import * as path from 'node:path';
import { buildBusyboxImage, createEngine } from '../src/runtime';
import { merge, startCluster } from '../test/harness/cluster';
import { tempDir } from '../test/harness/tmp';
import { waitFor } from '../test/harness/wait';
import { startEngineProxy } from './lib/engine-proxy';
import type { Section } from './lib/figures';

export interface NodeIdleResult {
  instances: number;
  windowMs: number;
  /** How long after the last instance turned healthy the window opened. */
  settleMs: number;
  requests: number;
  requestsPerMinute: number;
  /** Requests by endpoint kind in the window. */
  byKind: Record<string, number>;
  /** Requests from the agent's start until every instance was healthy (context, not the figure). */
  startupRequests: number;
}

function jobFile(instances: number): string {
  return [
    'name: idle',
    `numInstances: ${instances}`,
    'containers:',
    '  web:',
    '    image: localhost/ozy-busybox:1',
    '    restart: always',
    '    command: ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]',
    '    ports: ["8080"]',
    '    memory: 16M',
    '    cpu: 10m',
    '    healthcheck:',
    '      type: http',
    '      port: 8080',
    '      path: /index.html',
    '      interval: 5s',
    '      timeout: 1s',
    '',
  ].join('\n');
}

export async function runNodeIdleBench(opts: { instances?: number; windowMs?: number; settleMs?: number } = {}): Promise<NodeIdleResult> {
  const instances = opts.instances ?? Number(process.env.OZY_BENCH_IDLE_INSTANCES ?? 50);
  const windowMs = opts.windowMs ?? Number(process.env.OZY_BENCH_IDLE_WINDOW_S ?? 120) * 1000;
  const settleMs = opts.settleMs ?? 10_000;
  const tmp = tempDir('ozy-bench-idle-');
  const c = await startCluster();
  const proxy = await startEngineProxy(c.podman.socketPath, path.join(tmp.dir, 'engine.sock'));
  try {
    await buildBusyboxImage(createEngine({ socketPath: c.podman.socketPath, registryAuth: [] }));
    // The later --docker-socket wins: the agent talks to the proxy only.
    const agent = await c.startAgent({ name: 'idle', memory: '4G', cpus: '8', extraArgs: ['--docker-socket', proxy.socketPath] });
    await merge(c.user, { 'jobs/idle.yaml': jobFile(instances) }, `idle: ${instances} instances`);
    await waitFor(
      `${instances} instances healthy`,
      async () => (await c.store.listInstanceStatus(agent.node)).filter((s) => s.state === 'healthy').length === instances || undefined,
      { timeoutMs: 600_000, intervalMs: 1000 },
    );
    const startupRequests = proxy.total();
    // Let the last starts' follow-up observations finish; then count a quiet window.
    await new Promise((r) => setTimeout(r, settleMs));
    proxy.reset();
    await new Promise((r) => setTimeout(r, windowMs));
    const byKind = Object.fromEntries([...proxy.counts()].sort((a, b) => b[1] - a[1]));
    const requests = proxy.total();
    const healthy = (await c.store.listInstanceStatus(agent.node)).filter((s) => s.state === 'healthy').length;
    if (healthy !== instances) throw new Error(`only ${healthy} of ${instances} instances healthy at the end of the window: not idle`);
    return { instances, windowMs, settleMs, requests, requestsPerMinute: Math.round((requests * 60_000) / windowMs), byKind, startupRequests };
  } finally {
    await c.stop();
    await proxy.close();
    tmp.cleanup();
  }
}

export function nodeIdleSection(r: NodeIdleResult, durationMs: number): Section {
  const kinds = Object.entries(r.byKind).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  return {
    id: 'node-idle',
    title: 'Idle node: Engine API requests per minute',
    figures: [
      {
        id: 'nodeIdle.engineRequestsPerMinute',
        label: `Engine API requests per minute, one agent, ${r.instances} healthy instances, nothing changing`,
        value: r.requestsPerMinute,
        unit: 'req/min',
        vs: { kind: 'bound', label: 'one resync listing a minute (1 list + 1 inspect per container)', value: 1 + r.instances, unit: 'req/min', measured: false },
        detail: `${r.requests} requests in ${r.windowMs / 1000} s: ${kinds}`,
      },
    ],
    notes: [
      `bench/node-idle.ts: an \`ozy agent\` process (test/harness/cluster.ts) behind a counting proxy on the engine socket; one job of ${r.instances} busybox httpd instances with an HTTP check every 5 s (checks reach the containers, not the engine). The window opens ${r.settleMs / 1000} s after the last instance is healthy. Start-up took ${r.startupRequests} requests.`,
    ],
    durationMs,
    raw: r,
  };
}

if (require.main === module) {
  const t0 = Date.now();
  runNodeIdleBench().then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      console.log(`${r.requestsPerMinute} Engine API requests/min on an idle node with ${r.instances} instances (${Math.round((Date.now() - t0) / 1000)} s)`);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
