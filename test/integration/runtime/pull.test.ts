// Pulls from a registry on loopback (Debian's docker-registry, plain HTTP).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../../src/runtime/engine';
import { PullError } from '../../../src/runtime/errors';
import type { ProgressEvent } from '../../../src/runtime/progress';
import { startPodman, type PodmanService } from '../../harness/podman';
import { pushImage, removeLocalImage, startRegistry, type Registry } from '../../harness/registry';
import { IMAGE, startRuntimeFixture, type RuntimeFixture } from './fixtures';

let registry: Registry;
let fx: RuntimeFixture;
let pushed: string;
before(async () => {
  registry = await startRegistry();
  // The registry must be known as insecure before the service starts.
  fx = await startRuntimeFixture({ insecureRegistries: [registry.host] });
  pushed = await pushImage(fx.podman.env, IMAGE, registry.host, 'ozy-pull-test:1');
  await removeLocalImage(fx.podman.env, pushed);
});
after(async () => {
  // Untag what the test pulled (the busybox image it shares layers with stays).
  if (fx && pushed) await removeLocalImage(fx.podman.env, pushed);
  await fx?.podman.stop();
  await registry?.stop();
});

describe('ensureImage with a loopback registry', () => {
  test('an image missing locally is pulled, then found locally', async () => {
    assert.equal(await fx.engine.imageExists(pushed), false);
    const events: ProgressEvent[] = [];
    let pullStarted = 0;
    // Two instances of one job asking at once share one pull; both hear that it is pulling.
    const [result, second] = await Promise.all([
      fx.engine.ensureImage(pushed, { onPullStart: () => pullStarted++, onProgress: (e) => events.push(e) }),
      fx.engine.ensureImage(pushed, { onPullStart: () => pullStarted++ }),
    ]);
    assert.equal(result, 'pulled');
    assert.equal(second, 'pulled');
    assert.equal(pullStarted, 2);
    assert.ok(events.length > 0, 'progress was reported');
    assert.equal(await fx.engine.imageExists(pushed), true);
    assert.equal(await fx.engine.ensureImage(pushed, { onPullStart: () => pullStarted++ }), 'present');
    assert.equal(pullStarted, 2, 'no further pull');
  });

  test("a tag the registry does not have throws PullError with the registry's message", async () => {
    const missing = `${registry.host}/ozy-pull-test:nope`;
    await assert.rejects(
      fx.engine.ensureImage(missing),
      (err: unknown) => err instanceof PullError && err.code === 'IMAGE_PULL_FAILED' && /manifest unknown/.test(err.message) && err.image === missing,
    );
    assert.equal(await fx.engine.imageExists(missing), false);
  });

  test('a registry podman was not told is insecure: HTTP 200, error in the stream → PullError, not silent success', async () => {
    let strict: PodmanService | undefined;
    try {
      strict = await startPodman();
      const engine = createEngine({ socketPath: strict.socketPath, registryAuth: [] });
      await removeLocalImage(fx.podman.env, pushed);
      await assert.rejects(
        engine.ensureImage(pushed),
        (err: unknown) => err instanceof PullError && /HTTP response to HTTPS client/.test(err.registryMessage),
      );
    } finally {
      await strict?.stop();
    }
  });
});
