// Drain before stop, on real etcd and podman: when an instance goes (here a
// scale-down), its DNS record and its ingress endpoints are gone from etcd,
// and seen gone by a watcher the way `ozy ingress` watches, before any of
// its containers is sent SIGTERM; then the pod stops within the job's
// stopGrace, the sidecar first, the owner with what is left (nothing).
//
// No timing is measured: the pod runtime's engine looks at etcd, and at the
// watcher's view, at the moment each stop is called.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeAgent } from '../../../src/agent/node-agent';
import type { AcceptedJob, InstanceStatus } from '../../../src/model/cluster';
import { podTemplateHash } from '../../../src/model/hash';
import type { JobSpec } from '../../../src/model/job';
import { LABEL, type ContainerEngine } from '../../../src/runtime';
import { ClusterStore, type Mirror } from '../../../src/store';
import type { DnsRecord } from '../../../src/network/dns';
import { waitFor } from '../../harness/wait';
import { SLEEP, TIMING, ZONE, acceptedJob, container, httpCheck, startNode, startNodeFixture, statusWhere, type NodeFixture } from './fixtures';

let fx: NodeFixture;
/** A second connection, as an `ozy ingress` process has: it only watches. */
let watcher: ClusterStore;
let statuses: Mirror<InstanceStatus>;
let records: Mirror<DnsRecord>;
const agents: NodeAgent[] = [];
before(async () => {
  fx = await startNodeFixture();
  watcher = ClusterStore.connect({ endpoints: [fx.etcd.endpoint] });
  statuses = await watcher.mirrorInstanceStatus();
  records = await watcher.mirrorDnsRecords();
});
after(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await watcher?.close().catch(() => undefined);
  await fx?.stop();
});

/** What etcd held, and what the watcher had seen, when one container was told to stop. */
interface AtStop {
  container: string;
  t: number;
  dns: DnsRecord | undefined;
  status: InstanceStatus | undefined;
  watchedDns: DnsRecord | undefined;
  watchedStatus: InstanceStatus | undefined;
}

/** fx.engine, but each stop first notes what etcd and the watcher show for `instance`. */
function lookingEngine(node: () => string, job: string, instance: string, seen: AtStop[]): ContainerEngine {
  const dnsKey = fx.store.keys.dnsKey(ZONE, job, instance);
  const below = dnsKey.slice(fx.store.keys.dnsRoot.length).replace(/^\//, '');
  return Object.assign(Object.create(fx.engine) as ContainerEngine, {
    stop: async (id: string, t: number) => {
      const c = await fx.engine.inspect(id);
      seen.push({
        container: c.labels[LABEL.container] ?? id,
        t,
        dns: (await fx.store.listDnsRecords()).get(dnsKey),
        status: (await fx.store.listInstanceStatus(node())).find((s) => s.instance === instance),
        watchedDns: records.values.get(below),
        watchedStatus: statuses.values.get(`${node()}/${instance}`),
      });
      return fx.engine.stop(id, t);
    },
  });
}

/** One instance of `shop` with an ingress route on web's port 8080 (the agent publishes it), and a sidecar that ignores SIGTERM. */
function shopJob(nodes: string[]): AcceptedJob {
  const base = acceptedJob(
    'shop',
    [
      container('web', { command: ['/bin/httpd', '-f', '-p', '8080', '-h', '/www'], ports: [{ container: 8080, protocol: 'tcp' }], healthcheck: httpCheck(8080, '/') }),
      container('side', { command: SLEEP }),
    ],
    nodes,
  );
  const spec: JobSpec = { ...base.spec, ingress: [{ host: 'shop.example.com', path: '/', port: 8080 }], stopGraceMs: 2000 };
  return { ...base, spec, specHash: podTemplateHash(spec) };
}

describe('drain before stop (etcd + podman)', () => {
  test('scale-down: DNS record and endpoints are gone from etcd, and from a watcher\'s view, before SIGTERM; then the pod stops within its stopGrace', async () => {
    const seen: AtStop[] = [];
    let nodeName = '';
    const n = await startNode(fx, 'drain', { ...TIMING, drainDelayMs: 500 }, lookingEngine(() => nodeName, 'shop', 'shop-0', seen));
    nodeName = n.name;
    agents.push(n.agent);

    await n.agent.reconcile([shopJob([n.name])]);
    const healthy = await statusWhere(n, 'shop-0', 'healthy with endpoints', (s) => s.state === 'healthy' && s.endpoints?.['8080'] !== undefined);
    await waitFor('the DNS record', () => n.dns('shop', 'shop-0'));
    await waitFor('the watcher to see the endpoints', () => statuses.values.get(`${n.name}/shop-0`)?.endpoints);

    await n.agent.reconcile([{ ...shopJob([]), instances: [] }]);

    assert.deepEqual(seen.map((s) => s.container), ['side', 'web'], 'the sidecar first, the namespace owner last');
    for (const s of seen) {
      assert.equal(s.dns, undefined, `${s.container}: the DNS record was still in etcd at SIGTERM`);
      assert.ok(s.status, `${s.container}: the status is still there while draining`);
      assert.equal(s.status.endpoints, undefined, `${s.container}: the endpoints were still in etcd at SIGTERM`);
      assert.equal(s.status.state, healthy.state, 'the state is kept while draining');
      assert.equal(s.status.message, 'draining');
      assert.equal(s.watchedDns, undefined, `${s.container}: the watcher still saw the DNS record at SIGTERM`);
      assert.equal(s.watchedStatus?.endpoints, undefined, `${s.container}: the watcher still saw the endpoints at SIGTERM`);
    }
    // One grace for the pod: the sidecar (it ignores SIGTERM) gets all 2 s, the owner what is left: none.
    assert.deepEqual(seen.map((s) => s.t), [2, 0]);
    // Afterwards, as ever: nothing left.
    assert.equal(await n.status('shop-0'), undefined);
    assert.equal(await n.dns('shop', 'shop-0'), undefined);
    assert.deepEqual(await fx.engine.listManaged(n.name), []);
  });
});
