// `ozy import compose` round trip on real components: a docker-compose file
// (busybox httpd checked by a CMD-SHELL wget, a value from the .env beside
// it; the same server checked on a missing page) and a two-service pod (--pod, a CMD check, depends_on) are imported
// with the CLI, pushed to the cluster's repository as they were written,
// and run by an `ozy agent` on podman until etcd says every instance is
// healthy: the imported health checks pass (and one that cannot pass does
// not), and nothing is rejected.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { JobStatus } from '../../../src/cli/job-status';
import { merge, readJsonIfExists, startClusterWithAgents, type TestCluster } from '../../harness/cluster';
import { tempDir } from '../../harness/tmp';
import { waitFor } from '../../harness/wait';
import { runCli } from '../../unit/cli/run-cli';

// The busybox image has no index at / other than /www/index.html; the page is written at start.
const COMPOSE = `
services:
  web:
    image: localhost/ozy-busybox:1
    command: /bin/sh -c 'mkdir -p /srv && echo "$$GREETING" > /srv/index.html && exec /bin/httpd -f -p 8000 -h /srv'
    environment:
      GREETING: \${GREETING:-hello}
    ports:
      - "8000"
    healthcheck:
      test: ["CMD-SHELL", "/bin/wget -q -O /dev/null http://127.0.0.1:8000/index.html || exit 1"]
      interval: 1s
      timeout: 2s
      retries: 3
    restart: unless-stopped
    deploy:
      replicas: 2
      resources:
        limits: {memory: 16m, cpus: "0.05"}
  # The same server checked on a page it does not have: the imported check must fail.
  broken:
    image: localhost/ozy-busybox:1
    command: ["/bin/httpd", "-f", "-p", "8000", "-h", "/www"]
    healthcheck:
      test: /bin/wget -q -O /dev/null http://127.0.0.1:8000/missing.html
      interval: 1s
      timeout: 2s
      retries: 1
    restart: always
    mem_limit: 16m
    cpus: 0.05
`;

const POD = `
services:
  app:
    image: localhost/ozy-busybox:1
    command: ["/bin/httpd", "-f", "-p", "8001", "-h", "/www"]
    expose: ["8001"]
    healthcheck:
      test: ["CMD", "/bin/wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8001/index.html"]
      interval: 1s
    restart: always
    mem_limit: 16m
    cpus: 0.05
  poller:
    image: localhost/ozy-busybox:1
    command: /bin/sh -c 'while true; do /bin/wget -q -O /dev/null http://127.0.0.1:8001/index.html; /bin/sleep 2; done'
    depends_on:
      app: {condition: service_healthy}
    network_mode: service:app
    restart: always
    mem_limit: 8m
    cpus: 0.02
`;

describe('ozy import compose: imported jobs run and pass their health checks (one agent on podman)', () => {
  let c: TestCluster;
  const work = tempDir('ozy-import-e2e-');

  before(async () => {
    c = await startClusterWithAgents(['a']);
  });
  after(async () => {
    await c?.stop();
    work.cleanup();
  });

  /** Every instance of `job` healthy in etcd, `n` of them. */
  const healthy = (job: string, n: number) =>
    waitFor(`${n} healthy instances of ${job}`, async () => (await c.store.listInstanceStatus()).filter((s) => s.job === job && s.state === 'healthy').length === n, { timeoutMs: 90_000, intervalMs: 250 });

  test('a service with a CMD-SHELL check, and a pod with a CMD check, become healthy as imported', async () => {
    fs.writeFileSync(path.join(work.dir, 'docker-compose.yml'), COMPOSE);
    fs.writeFileSync(path.join(work.dir, '.env'), 'GREETING=bonjour\n');
    fs.mkdirSync(path.join(work.dir, 'sidecar'));
    fs.writeFileSync(path.join(work.dir, 'sidecar', 'compose.yaml'), POD);

    // Everything carried over, with notes only (unless-stopped, named after the service…): exit 0.
    const one = await runCli(['import', 'compose', 'docker-compose.yml', '-o', 'repo'], work.dir);
    assert.equal(one.code, 0, one.stderr);
    const pod = await runCli(['import', 'compose', 'sidecar/compose.yaml', '-o', 'repo', '--pod', 'sidecar'], work.dir);
    assert.equal(pod.code, 0, pod.stderr);
    const validated = await runCli(['validate', 'repo'], work.dir);
    assert.equal(validated.code, 0, validated.stdout);

    const jobs = path.join(work.dir, 'repo', 'jobs');
    const web = fs.readFileSync(path.join(jobs, 'web.yaml'), 'utf8');
    assert.match(web, /GREETING: bonjour/);
    assert.match(web, /- \/bin\/wget -q -O \/dev\/null http:\/\/127\.0\.0\.1:8000\/index\.html \|\| exit 1/);
    const read = (name: string) => fs.readFileSync(path.join(jobs, name), 'utf8');
    await merge(c.user, { 'jobs/web.yaml': web, 'jobs/broken.yaml': read('broken.yaml'), 'jobs/sidecar.yaml': read('sidecar.yaml') }, 'import from docker-compose');

    await healthy('web', 2);
    await healthy('sidecar', 1);
    const snapshot = await c.store.snapshot();
    assert.equal(snapshot.jobs.get('web')?.spec.containers[0]?.healthcheck?.type, 'exec');
    assert.deepEqual(snapshot.jobs.get('sidecar')?.spec.containers.map((x) => x.name), ['app', 'poller']);
    // The check really runs: where it cannot pass, the instance is not healthy, and says why.
    const whyBroken = async (): Promise<string> => {
      const r = await runCli(['status', 'broken', '--etcd', c.etcd.endpoint, '--json'], work.dir);
      return r.code === 0 ? ((JSON.parse(r.stdout) as JobStatus).instances[0]?.message ?? '') : '';
    };
    await waitFor('broken to report its failing check', async () => /exec → exit 1/.test(await whyBroken()), { timeoutMs: 60_000, intervalMs: 500 });
    assert.equal((await c.store.listInstanceStatus()).filter((s) => s.job === 'broken' && s.state === 'healthy').length, 0);
    await c.user.pull();
    assert.equal(readJsonIfExists(path.join(c.user.dir, 'rejections', 'web.json')), undefined);
    assert.equal(readJsonIfExists(path.join(c.user.dir, 'rejections', 'sidecar.json')), undefined);
  });
});
