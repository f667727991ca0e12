// `ozy status JOB` against a real agent: every instance that is not healthy
// says why — what its failing health check saw (HTTP status, refused TCP
// port, exec exit code and first line), and a restart keeps its cause.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JobStatus } from '../../../src/cli/job-status';
import { merge, shellJob, startClusterWithAgents, type TestCluster } from '../../harness/cluster';
import { waitFor } from '../../harness/wait';
import { runCli } from '../../unit/cli/run-cli';

const check = (hc: string): string[] => [`healthcheck: ${hc}`];

const JOBS: Record<string, string> = {
  // Healthy for a few seconds, then /health is gone: 404, unhealthy, restarted.
  'jobs/flips.yaml': shellJob({
    name: 'flips',
    script: 'mkdir -p /srv; echo ok > /srv/health; (sleep 4; rm /srv/health) & exec /bin/httpd -f -p 8080 -h /srv',
    memory: '32M',
    cpu: '50m',
    container: [...check('{type: http, port: 8080, path: /health, interval: 500ms, timeout: 1s}'), 'ports: ["8080"]'],
  }),
  // Port 9999 is declared (a checked port must be) but nothing listens on it.
  'jobs/closed.yaml': shellJob({ name: 'closed', script: 'exec sleep 3600', memory: '32M', cpu: '50m', container: [...check('{type: tcp, port: 9999, interval: 500ms, timeout: 1s}'), 'ports: ["9999"]'] }),
  'jobs/execs.yaml': shellJob({
    name: 'execs',
    script: 'exec sleep 3600',
    memory: '32M',
    cpu: '50m',
    container: check('{type: exec, command: ["/bin/sh", "-c", "echo database is not ready; echo details >&2; exit 3"], interval: 500ms, timeout: 2s}'),
  }),
};

describe('ozy status JOB: why each instance is not healthy (one agent on podman)', () => {
  let c: TestCluster;
  const status = async (job: string): Promise<JobStatus> => {
    const r = await runCli(['status', job, '--etcd', c.etcd.endpoint, '--json'], process.cwd());
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as JobStatus;
  };
  const messageOf = async (job: string): Promise<string> => (await status(job)).instances[0]?.message ?? '';

  before(async () => {
    c = await startClusterWithAgents(['a']);
    await merge(c.user, JOBS, 'three jobs whose checks fail');
  });
  after(async () => {
    await c?.stop();
  });

  test('an HTTP check answered 404 shows the 404, and the restart it caused keeps it as its cause', async () => {
    await waitFor('flips restarted', async () => ((await status('flips')).instances[0]?.restarts ?? 0) > 0, { timeoutMs: 60_000 });
    const s = await status('flips');
    assert.match(s.instances[0]!.lastRestart?.cause ?? '', /container app failed its health check \(GET \/health → 404\)/);
    const text = await runCli(['status', 'flips', '--etcd', c.etcd.endpoint], process.cwd());
    assert.match(text.stdout, /last restart .* ago: container app failed its health check \(GET \/health → 404\)/);
    assert.match(text.stdout, /^JOB flips {3}service/m);
    assert.match(text.stdout, new RegExp(`spec +${s.accepted!.specHash}`));
  });

  test('a TCP check on a closed port says connection refused', async () => {
    let seen = '';
    await waitFor('closed says why', async () => {
      const i = (await status('closed')).instances[0];
      seen = JSON.stringify(i);
      return /TCP 9999 → connection refused/.test(i?.message ?? '');
    }, { timeoutMs: 30_000 }).catch((err: unknown) => {
      throw new Error(`${String(err)}; last seen: ${seen}`);
    });
  });

  test('an exec check shows its exit code and the first line of its output', async () => {
    await waitFor('execs says why', async () => /exec → exit 3: database is not ready$/.test(await messageOf('execs')), { timeoutMs: 30_000 });
  });

  test('a rejected job shows its report; an unknown job is exit 1', async () => {
    await merge(c.user, { 'jobs/huge.yaml': shellJob({ name: 'huge', script: 'sleep 1', memory: '64G', cpu: '50m' }) }, 'too big');
    await waitFor('huge rejected', async () => (await runCli(['status', 'huge', '--etcd', c.etcd.endpoint], process.cwd())).code === 0, { timeoutMs: 30_000 });
    const s = await status('huge');
    assert.equal(s.accepted, null);
    assert.match(s.report?.problem.type ?? '', /docs\/errors\.md#insufficient-memory$/);
    const text = await runCli(['status', 'huge', '--etcd', c.etcd.endpoint], process.cwd());
    assert.match(text.stdout, /not accepted \(rejected: see REPORT\)/);
    assert.match(text.stdout, /Job requires 64Gi? of memory/);
    const none = await runCli(['status', 'nope', '--etcd', c.etcd.endpoint], process.cwd());
    assert.deepEqual([none.code, /no job named "nope"/.test(none.stderr)], [1, true]);
  });
});
