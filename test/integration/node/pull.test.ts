// Images missing locally: pulled from a registry on loopback (Debian's
// docker-registry), and a failing pull shown as instance status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { NodeAgent } from '../../../src/agent/node-agent';
import { BUSYBOX_IMAGE } from '../../../src/runtime';
import { removeContainersOf } from '../../harness/podman';
import { pushImage, removeLocalImage, startRegistry, type Registry } from '../../harness/registry';
import { SLEEP, acceptedJob, container, startNode, startNodeFixture, statusWhere, type NodeFixture } from './fixtures';

let registry: Registry;
let fx: NodeFixture;
let pushed: string;
const agents: NodeAgent[] = [];
before(async () => {
  registry = await startRegistry();
  // The registry must be known as insecure before the podman service starts.
  fx = await startNodeFixture({ insecureRegistries: [registry.host] });
  pushed = await pushImage(fx.podman.env, BUSYBOX_IMAGE, registry.host, `ozy-node-pull-${randomBytes(3).toString('hex')}:1`);
  await removeLocalImage(fx.podman.env, pushed);
});
after(async () => {
  await Promise.all(agents.map((a) => a.close()));
  // Untag the pulled image while the service's config still exists (stop() deletes it):
  // after it, the rmi failed unseen and every run left an image behind. Its containers go first.
  if (fx && pushed) {
    await removeContainersOf(fx.podman.socketPath, fx.podman.prefix);
    await removeLocalImage(fx.podman.env, pushed);
  }
  await fx?.stop();
  await registry?.stop();
});

describe('images from a registry', () => {
  test('an image missing locally is pulled (state pulling), then the instance runs', async () => {
    const n = await startNode(fx, 'pull');
    agents.push(n.agent);
    assert.equal(await fx.engine.imageExists(pushed), false);
    await n.agent.reconcile([acceptedJob('pl', [container('main', { image: pushed, command: SLEEP })], [n.name])]);
    await statusWhere(n, 'pl-0', 'healthy', (s) => s.state === 'healthy');
    assert.deepEqual(n.sink.states.get('pl-0')?.slice(0, 2), ['pending', 'pulling']);
    assert.equal(await fx.engine.imageExists(pushed), true);
  });

  test('a failing pull shows as state failed with the registry message, is retried, and creates nothing', async () => {
    const n = await startNode(fx, 'badpull');
    agents.push(n.agent);
    const missing = `${registry.host}/ozy-node-missing:1`;
    await n.agent.reconcile([acceptedJob('bp', [container('main', { image: missing, command: SLEEP })], [n.name])]);
    const st = await statusWhere(n, 'bp-0', 'failed', (s) => s.state === 'failed');
    assert.match(st.message ?? '', /^pull failed: 127\.0\.0\.1:\d+\/ozy-node-missing:1: .*manifest unknown/);
    await statusWhere(n, 'bp-0', 'failed again after a retry', () => (n.sink.states.get('bp-0') ?? []).filter((s) => s === 'failed').length >= 2);
    assert.deepEqual(await fx.engine.listManaged(n.name), []);
  });
});
