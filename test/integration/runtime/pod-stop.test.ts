// Stopping a pod on real podman: waves in reverse depends_on order, the
// owner last, and one grace for the whole pod (DESIGN.md, "Rolling updates
// and migration": a two-container busybox pod used to take two timeouts).
//
// The containers run busybox `sleep` as PID 1, which ignores SIGTERM, so
// every stop waits for its timeout and ends with SIGKILL. What the tests
// assert is the timeout each stop call was given (a later wave gets only
// what is left of the pod's grace) and orders: when each stop was called
// against when the engine says each container died (its `die` events; both
// are this host's clock: podman 4.3 sends no `kill` event for a stop).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { PodRuntime, podOf, type PodSpec } from '../../../src/runtime/pod';
import type { ContainerEngine } from '../../../src/runtime/engine';
import type { EngineEvent } from '../../../src/runtime/events';
import { LABEL } from '../../../src/runtime/translate';
import { stopOptionsOf } from '../../../src/runtime/pod-stop';
import type { ContainerSpec } from '../../../src/model/job';
import { tempDir } from '../../harness/tmp';
import { waitFor } from '../../harness/wait';
import { spec, startRuntimeFixture, type RuntimeFixture } from './fixtures';

/** busybox sleep as PID 1: SIGTERM is ignored, only SIGKILL ends it. */
const IGNORES_SIGTERM = ['/bin/sleep', '600'];
const GRACE_MS = 2000;

let fx: RuntimeFixture;
let tmp: { dir: string; cleanup: () => void };
before(async () => {
  fx = await startRuntimeFixture();
  tmp = tempDir();
});
after(async () => {
  await fx?.podman.stop();
  tmp?.cleanup();
});

/** A pod runtime on `node` whose engine records each stop's timeout, and the node's engine events. */
async function setup(t: { after: (fn: () => void) => void }, node: string) {
  const stops = new Map<string, { t: number; calledAtNs: bigint }>();
  // Every call goes to the real engine; stop() also notes its `t` and when it was called.
  const engine = Object.assign(Object.create(fx.engine) as ContainerEngine, {
    stop: (id: string, timeoutSec: number) => {
      stops.set(id, { t: timeoutSec, calledAtNs: BigInt(Date.now()) * 1_000_000n });
      return fx.engine.stop(id, timeoutSec);
    },
  });
  const name = fx.podman.node(node);
  const events: EngineEvent[] = [];
  const stream = await fx.engine.events({ node: name }, { onEvent: (ev) => events.push(ev), onEnd: () => undefined });
  t.after(() => stream.close());
  const rt = new PodRuntime({
    engine,
    node: name,
    volumes: { dataDir: path.join(tmp.dir, node, 'data'), sharedRoot: path.join(tmp.dir, node, 'shared') },
    ownerNetwork: 'none',
    // The old per-container timeout: a stop that ignored the pod's grace would show it.
    stopTimeoutSec: 10,
  });
  return { rt, stops, events };
}

function pod(instance: string, containers: ContainerSpec[]): PodSpec {
  return podOf({ name: instance.replace(/-\d+$/, ''), numInstances: 1, containers, stopGraceMs: GRACE_MS }, 'h1', instance);
}

/** One container's stop: the timeout it was given, when it was called and when the engine says it died (ns since the epoch). */
function historyOf(stops: ReadonlyMap<string, { t: number; calledAtNs: bigint }>, events: readonly EngineEvent[], id: string): { t: number; calledAt: bigint; diedAt: bigint } {
  const stop = stops.get(id);
  const die = events.find((e) => e.id === id && e.action === 'die');
  assert.ok(stop, `container ${id} was stopped`);
  assert.ok(die, `container ${id} died`);
  return { t: stop.t, calledAt: stop.calledAtNs, diedAt: die.timeNano };
}

async function diedAll(events: readonly EngineEvent[], ids: readonly string[]): Promise<void> {
  await waitFor('every container to die', () => ids.every((id) => events.some((e) => e.id === id && e.action === 'die')) || undefined, { timeoutMs: 20_000 });
}

describe('pod stop on podman', () => {
  test('two containers ignoring SIGTERM, stopGrace 2s: one deadline for both (sidecar t=2, owner t=0), the owner dies after the sidecar, well within 2× the grace', async (t) => {
    const { rt, stops, events } = await setup(t, 'pair');
    const p = pod('pair-0', [spec('main', { command: IGNORES_SIGTERM }), spec('side', { command: IGNORES_SIGTERM })]);
    const started = await rt.startPod(p);
    const [main, side] = started.containers.map((c) => c.id) as [string, string];

    await rt.stopPod('pair-0', stopOptionsOf({ containers: p.containers, stopGraceMs: GRACE_MS }));
    await diedAll(events, [main, side]);

    const s = historyOf(stops, events, side);
    const m = historyOf(stops, events, main);
    // The sidecar had the whole grace; the owner only what was left of it: nothing (SIGKILL at once).
    assert.equal(s.t, 2);
    assert.equal(m.t, 0);
    assert.ok(s.diedAt < m.diedAt, 'the owner died after the sidecar');
    // Old behaviour: a full timeout each, in turn (≥ 2 × grace from the first signal to the last death).
    const ms = Number(m.diedAt - s.calledAt) / 1e6;
    assert.ok(ms < 2 * GRACE_MS, `the pod stopped ${ms} ms after its first signal; two graces would be ${2 * GRACE_MS}`);
    assert.deepEqual(await fx.engine.listManaged(fx.podman.node('pair')), []);
  });

  test('waves: containers without an order between them are signalled together; a dependency only after its dependants died; the owner last', async (t) => {
    const { rt, stops, events } = await setup(t, 'waves');
    // db (owner) ← api ← web; metrics depends on nothing.
    const p = pod('waves-0', [
      spec('db', { command: IGNORES_SIGTERM }),
      spec('api', { command: IGNORES_SIGTERM, dependsOn: ['db'] }),
      spec('web', { command: IGNORES_SIGTERM, dependsOn: ['api'] }),
      spec('metrics', { command: IGNORES_SIGTERM }),
    ]);
    const started = await rt.startPod(p);
    const id = Object.fromEntries(started.containers.map((c) => [c.name, c.id])) as Record<'db' | 'api' | 'web' | 'metrics', string>;

    await rt.stopPod('waves-0', stopOptionsOf({ containers: p.containers, stopGraceMs: GRACE_MS }));
    await diedAll(events, Object.values(id));

    const h = Object.fromEntries(Object.entries(id).map(([n, i]) => [n, historyOf(stops, events, i)])) as Record<keyof typeof id, ReturnType<typeof historyOf>>;
    // Wave 1 (web, metrics) in parallel, with the whole grace: each stopped before the other died.
    assert.deepEqual([h.web.t, h.metrics.t], [2, 2]);
    assert.ok(h.web.calledAt < h.metrics.diedAt && h.metrics.calledAt < h.web.diedAt, 'web and metrics stop together');
    // Then api, past the pod's deadline (SIGKILL at once), after web (which depends on it) died; then the owner.
    assert.deepEqual([h.api.t, h.db.t], [0, 0]);
    assert.ok(h.web.diedAt < h.api.diedAt && h.metrics.diedAt < h.api.diedAt, 'api died after the first wave');
    assert.ok(h.api.diedAt < h.db.diedAt, 'the owner died last');
    assert.deepEqual(
      (await fx.engine.listManaged(fx.podman.node('waves'))).map((c) => c.labels[LABEL.container]),
      [],
    );
  });
});
