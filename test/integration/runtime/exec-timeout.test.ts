// An exec health check that times out must not leave its process behind in
// the container (engine.ts exec → exec-kill.ts). Observed through the
// engine's `top` (ps in the container's pid namespace).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecTimeoutError } from '../../../src/runtime/errors';
import { toCreateOptions, type PodContext } from '../../../src/runtime/translate';
import { request } from '../../harness/podman';
import { waitFor } from '../../harness/wait';
import { SLEEP, spec, startRuntimeFixture, type RuntimeFixture } from './fixtures';

let fx: RuntimeFixture;
before(async () => {
  fx = await startRuntimeFixture();
});
after(async () => {
  await fx?.podman.stop();
});

/** The command lines of the container's processes. */
async function processes(id: string): Promise<string[]> {
  const res = await request(fx.podman.socketPath, 'GET', `/containers/${id}/top?ps_args=-o%20args`);
  assert.equal(res.status, 200, res.body);
  return (JSON.parse(res.body) as { Processes: string[][] }).Processes.map((row) => row.join(' '));
}

describe('exec timeouts on podman', () => {
  test('a timed-out exec is killed with what it started; the container keeps running; a quick exec still works', async () => {
    const node = fx.podman.node('exec');
    const ctx: PodContext = { job: 'job', instance: `${node}-0`, node, specHash: 'h' };
    const c = spec('box', { command: SLEEP });
    const id = await fx.engine.create(toCreateOptions(ctx, [c], c, undefined, { ownerNetwork: 'none' }));
    await fx.engine.start(id);

    // A hung check: a shell with a child in its group and another that left it (setsid).
    const hung = ['/bin/sh', '-c', '/bin/setsid /bin/sleep 317 & /bin/sleep 318 & /bin/sleep 319'];
    await assert.rejects(fx.engine.exec(id, hung, 700), (err: unknown) => err instanceof ExecTimeoutError && /was killed/.test(err.message));
    const left = await waitFor(
      'the hung check and its children to be gone',
      async () => {
        const ps = await processes(id);
        return ps.some((p) => /sleep 31[789]/.test(p)) ? undefined : ps;
      },
      { timeoutMs: 10_000 },
    );
    assert.ok(left.some((p) => p.includes('/bin/sleep 600')), `the container's own processes stay: ${left.join(' | ')}`);
    assert.equal((await fx.engine.inspect(id)).state, 'running');
    assert.equal((await fx.engine.exec(id, ['/bin/sh', '-c', 'exit 4'], 10_000)).exitCode, 4);
  });
});
