// ContainerEngine.events() and the OOM verdict's source against a real
// podman service: what podman 4.3 actually sends, filtered by the node label.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineEvent } from '../../../src/runtime/events';
import { toCreateOptions, type PodContext } from '../../../src/runtime/translate';
import type { ContainerSpec } from '../../../src/model/job';
import { request } from '../../harness/podman';
import { waitFor } from '../../harness/wait';
import { SLEEP, exited, spec, startRuntimeFixture, type RuntimeFixture } from './fixtures';

let fx: RuntimeFixture;
before(async () => {
  fx = await startRuntimeFixture();
});
after(async () => {
  await fx?.podman.stop();
});

async function run(node: string, instance: string, c: ContainerSpec): Promise<string> {
  const ctx: PodContext = { job: 'job', instance, node, specHash: 'h' };
  const id = await fx.engine.create(toCreateOptions(ctx, [c], c, undefined, { ownerNetwork: 'none' }));
  await fx.engine.start(id);
  return id;
}

/** Another client of the engine kills the container (as `podman kill` would). */
async function killFromOutside(id: string): Promise<void> {
  const res = await request(fx.podman.socketPath, 'POST', `/containers/${id}/kill?signal=KILL`);
  assert.ok(res.status < 300, `kill answered ${res.status}: ${res.body}`);
}

describe('engine events on podman', () => {
  test("start, kill and die (with the exit code) of this node's containers only", async () => {
    const node = fx.podman.node('ev');
    const other = fx.podman.node('ev-other');
    const seen: EngineEvent[] = [];
    const stream = await fx.engine.events({ node }, { onEvent: (e) => seen.push(e), onEnd: () => undefined });
    try {
      const theirs = await run(other, 'evo-0', spec('sleeper', { command: SLEEP }));
      const id = await run(node, 'ev-0', spec('sleeper', { command: SLEEP }));
      await killFromOutside(id);
      await waitFor('die event', () => seen.find((e) => e.action === 'die' && e.id === id));
      const actions = seen.filter((e) => e.id === id).map((e) => e.action);
      assert.ok(actions.includes('start') && actions.includes('kill'), actions.join(','));
      const die = seen.find((e) => e.action === 'die')!;
      assert.equal(die.exitCode, 137);
      assert.equal(die.labels['ozy.instance'], 'ev-0');
      assert.equal(die.labels['ozy.node'], node);
      assert.ok(!seen.some((e) => e.id === theirs), "another node's events are filtered out");
      // Killed through the engine, under a memory limit, exit 137: not an OOM kill.
      const c = await exited(fx.engine, id);
      assert.equal(c.exitCode, 137);
      assert.equal(c.oomKilled, false);
    } finally {
      stream.close();
    }
  });

  test('close() ends the stream quietly: no onEnd, no more events', async () => {
    const node = fx.podman.node('ev-close');
    let ended = 0;
    const seen: EngineEvent[] = [];
    const stream = await fx.engine.events({ node }, { onEvent: (e) => seen.push(e), onEnd: () => ended++ });
    stream.close();
    const id = await run(node, 'evc-0', spec('sleeper', { command: SLEEP }));
    // A second subscription proves the events were sent; the closed one got none of them.
    const later: EngineEvent[] = [];
    const probe = await fx.engine.events({ node }, { onEvent: (e) => later.push(e), onEnd: () => undefined });
    await fx.engine.stop(id, 0);
    await waitFor('die seen by the open subscription', () => later.find((e) => e.action === 'die'));
    probe.close();
    assert.equal(ended, 0);
    assert.deepEqual(seen, []);
  });

  test('an OOM kill is reported as OOM by the cgroup side (engine or cgroup), not the exit-code guess', async () => {
    const node = fx.podman.node('ev-oom');
    const hog = spec('hog', { memory: 16 * 1024 * 1024, command: ['/bin/dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'] });
    const c = await exited(fx.engine, await run(node, 'evh-0', hog));
    assert.equal(c.exitCode, 137);
    assert.equal(c.oomKilled, true);
    assert.ok(c.oomSource === 'engine' || c.oomSource === 'cgroup', `source: ${c.oomSource}`);
  });
});
