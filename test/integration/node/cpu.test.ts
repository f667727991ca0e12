// CPU sampling on podman + etcd: a node agent runs an autoscaled job of two
// instances, one burning CPU within its 500m quota and one asleep, and a
// job without autoscale. The node's record shows the busy one near its
// limit and the idle one near zero, leaves the other job out, and hangs on
// the node's lease.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeAgent } from '../../../src/agent/node-agent';
import type { NodeCpu } from '../../../src/model/autoscale';
import { rawLease } from '../../harness/etcd';
import { waitFor } from '../../harness/wait';
import { SLEEP, TIMING, acceptedJob, container, startNode, startNodeFixture, type NodeFixture } from './fixtures';

let fx: NodeFixture;
const agents: NodeAgent[] = [];
before(async () => {
  fx = await startNodeFixture();
});
after(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await fx?.stop();
});

/**
 * Both instances run the same command; the first to create the claim
 * directory in the job's shared volume burns CPU, the other sleeps. Which
 * one is busy is up to the race, so the assertions take either.
 */
const CLAIM_THEN_BURN = 'if mkdir /claim/busy 2>/dev/null; then while :; do :; done; else exec /bin/sleep 3600; fi';

describe('CPU sampling on podman', () => {
  test('the busy instance shows near its limit, the idle one near 0, the plain job not at all; the record is on the node lease', async () => {
    const n = await startNode(fx, 'cpu', TIMING, undefined, { cpuSampleMs: 1000 });
    agents.push(n.agent);
    const burn = acceptedJob(
      'burn',
      [container('work', { cpu: 500, command: ['/bin/sh', '-c', CLAIM_THEN_BURN], volumes: [{ type: 'shared', path: '/claim', space: 2 ** 20 }] })],
      [n.name, n.name],
    );
    burn.spec.autoscale = { min: 1, max: 4, cpuPercent: 50, scaleDownAfterMs: 60_000 };
    const plain = acceptedJob('plain', [container('idle', { command: SLEEP })], [n.name]);
    await n.agent.reconcile([burn, plain]);

    let last: NodeCpu | undefined;
    const rec = await waitFor(
      'a record with one busy and one idle instance',
      async () => {
        last = (await fx.store.readNodeCpu()).get(n.name);
        const used = ['burn-0', 'burn-1'].map((i) => last?.instances[i]?.used);
        if (used.some((u) => u === undefined)) return undefined;
        const [lo, hi] = (used as number[]).sort((a, b) => a - b) as [number, number];
        // CFS holds the loop at 500m; "well above half" leaves room for a busy 2-core machine.
        return hi > 250 && lo < 50 ? last : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last record: ${JSON.stringify(last)}`);
    });
    assert.deepEqual(Object.keys(rec.instances).sort(), ['burn-0', 'burn-1'], 'the job without autoscale is not sampled');
    for (const m of Object.values(rec.instances)) {
      assert.equal(m.job, 'burn');
      assert.equal(m.spec, burn.specHash);
      assert.equal(m.limit, 500);
      assert.equal(m.healthy, true, 'running without a health check counts as healthy');
      assert.ok(m.used <= 600, `no more than the quota allows (${m.used})`);
    }
    assert.equal(rec.sampleMs, 1000);

    const key = fx.store.keys.cpu(n.name);
    assert.equal(await rawLease(fx.etcd.endpoint, key), n.session.leaseId);
    // The agent stops (the record stays, like the statuses); the lease goes, and the record with it.
    await n.agent.close();
    assert.ok((await fx.store.readNodeCpu()).has(n.name));
    await n.session.revoke();
    await waitFor('the record gone with the lease', async () => ((await fx.store.readNodeCpu()).has(n.name) ? undefined : true), { timeoutMs: 5000, intervalMs: 50 });
  });
});
