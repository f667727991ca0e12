// Raw job → JobSpec: defaults, units, forms, start order, hash, and the
// `ozy render` form (toRawJob) that normalizes back to the same spec.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { podTemplateHash } from '../../../src/model/hash';
import type { JobSpec } from '../../../src/model/job';
import { renderRepo, toRawJob, toYaml } from '../../../src/render';
import * as D from '../../../src/render/defaults';
import { schemaDocument } from '../../../src/render/schema';
import { parseDurationMs, parseCpu, parseSize } from '../../../src/render/units';
import { jobFile, renderJob, validJob } from './helpers';

function specOf(doc: unknown, path = 'jobs/web.yaml'): JobSpec {
  const r = renderJob(doc, path);
  assert.deepEqual(r.problems, []);
  return r.jobs[0]!.spec;
}

const SEED = `name: "simple-webapp"
numInstances: 3
containers:
  app:
    image: web-app-image
    restart: always
    command: ["bin/rails", "s", "--restart"]
    environment:
      - name: DATABASE_URL
        value: postgresql://webapp:webapp@localhost/webapp
    ports:
      - "80:3000"
    depends_on:
      - db
    memory: 2G
    healthcheck:
      type: http
      port: 3000
      path: /healthcheck
      timeout: 30
      interval: 60
      healthy_threshold: 2
      unhealthy_threshold: 2
    volumes:
      - type: shared
        path: /data/shared
        space: 1G
      - type: local
        path: /data/scratch
        space: 100M
  db:
    image: postgres:13
    restart: always
    memory: 4G
    environment:
      - name: POSTGRES_USER
        value: webapp
      - name: POSTGRES_PASSWORD
        value: webapp
      - name: POSTGRES_DB
        value: webapp
    volumes:
      - type: local
        path: /var/lib/postgresql/data
        space: 10G
`;

describe('the seed job, verbatim', () => {
  const r = renderRepo([{ path: 'jobs/simple-webapp.yaml', content: SEED }]);
  test('is valid', () => assert.deepEqual(r.problems, []));
  const spec = r.jobs[0]!.spec;
  test('containers in start order: db before app', () => assert.deepEqual(spec.containers.map((c) => c.name), ['db', 'app']));
  test('units are numbers', () => {
    const app = spec.containers[1]!;
    assert.equal(app.memory, 2 * 1024 ** 3);
    assert.equal(app.cpu, D.DEFAULT_CPU_MILLICORES);
    assert.deepEqual(app.ports, [{ host: 80, container: 3000, protocol: 'tcp' }]);
    assert.deepEqual(app.healthcheck, { type: 'http', port: 3000, path: '/healthcheck', timeoutMs: 30_000, intervalMs: 60_000, healthyThreshold: 2, unhealthyThreshold: 2 });
    assert.deepEqual(app.volumes, [
      { type: 'shared', path: '/data/shared', space: 1024 ** 3 },
      { type: 'local', path: '/data/scratch', space: 100 * 1024 ** 2 },
    ]);
    assert.deepEqual(app.command, ['bin/rails', 's', '--restart']);
    assert.deepEqual(app.dependsOn, ['db']);
  });
  test('specHash is the pod-template hash of the spec', () => assert.equal(r.jobs[0]!.specHash, podTemplateHash(spec)));
  test('scaling does not change specHash (no restarts on scale); a pod change does', () => {
    assert.equal(podTemplateHash({ ...spec, numInstances: spec.numInstances + 5 }), r.jobs[0]!.specHash);
    const changed = { ...spec, containers: spec.containers.map((c, i) => (i === 0 ? { ...c, memory: c.memory + 1 } : c)) };
    assert.notEqual(podTemplateHash(changed), r.jobs[0]!.specHash);
  });
  test('file is recorded', () => assert.equal(r.jobs[0]!.file, 'jobs/simple-webapp.yaml'));
});

describe('defaults', () => {
  const job = { name: 'web', containers: { app: { image: 'busybox' } } };
  const spec = specOf(job);
  test('numInstances 1, restart always, memory 128M, cpu 100m, empty lists', () => {
    assert.deepEqual(spec, {
      name: 'web',
      numInstances: 1,
      containers: [{ name: 'app', image: 'busybox', restart: 'always', environment: [], ports: [], dependsOn: [], memory: 128 * 1024 ** 2, cpu: 100, volumes: [] }],
    });
  });
  test('healthcheck defaults', () => {
    const j = validJob();
    j.containers.app.healthcheck = { type: 'http', port: 3000 };
    assert.deepEqual(specOf(j).containers[0]!.healthcheck, { type: 'http', port: 3000, path: '/', intervalMs: 10_000, timeoutMs: 2_000, healthyThreshold: 1, unhealthyThreshold: 3 });
  });
  test('the defaults are the ones documented in the schema', () => {
    const defs = (schemaDocument('job') as any).definitions;
    const props = defs.container.properties;
    assert.equal(parseSize(props.memory.default), D.DEFAULT_MEMORY_BYTES);
    assert.equal(parseCpu(props.cpu.default), D.DEFAULT_CPU_MILLICORES);
    assert.equal(props.restart.default, D.DEFAULT_RESTART);
    assert.equal((schemaDocument('job') as any).properties.numInstances.default, D.DEFAULT_NUM_INSTANCES);
    assert.equal(parseDurationMs(defs.healthcheckTimeout.default), D.DEFAULT_HEALTH_TIMEOUT_MS);
    assert.equal(parseDurationMs(defs.healthcheckInterval.default), D.DEFAULT_HEALTH_INTERVAL_MS);
    assert.equal(defs.healthyThreshold.default, D.DEFAULT_HEALTHY_THRESHOLD);
    assert.equal(defs.unhealthyThreshold.default, D.DEFAULT_UNHEALTHY_THRESHOLD);
    assert.equal(defs.httpHealthcheck.properties.path.default, D.DEFAULT_HEALTH_PATH);
    assert.equal(props.pids.default, D.DEFAULT_PIDS);
    assert.equal(props.readOnlyRootfs.default, false);
  });
});

describe('forms', () => {
  test('environment map and list forms give the same spec; values become strings', () => {
    const a = validJob();
    a.containers.app.environment = { A: 'x', N: 5, B: true };
    const b = validJob();
    b.containers.app.environment = [
      { name: 'A', value: 'x' },
      { name: 'N', value: 5 },
      { name: 'B', value: true },
    ];
    assert.deepEqual(specOf(a).containers[0]!.environment, [
      { name: 'A', value: 'x' },
      { name: 'N', value: '5' },
      { name: 'B', value: 'true' },
    ]);
    assert.deepEqual(specOf(a), specOf(b));
  });
  test('command string split shell-style equals the list form', () => {
    const a = validJob();
    a.containers.app.command = `/bin/sh -c 'echo "hi there"'`;
    assert.deepEqual(specOf(a).containers[0]!.command, ['/bin/sh', '-c', 'echo "hi there"']);
  });
  test('ports: numbers, udp, host mappings', () => {
    const j = validJob();
    j.containers.app.ports = [3000, '53/udp', '5353:53/udp', '8080:80/tcp'];
    assert.deepEqual(specOf(j).containers[0]!.ports, [
      { container: 3000, protocol: 'tcp' },
      { container: 53, protocol: 'udp' },
      { host: 5353, container: 53, protocol: 'udp' },
      { host: 8080, container: 80, protocol: 'tcp' },
    ]);
  });
});

describe('start order: topological by depends_on, ties by name', () => {
  test('independent containers sorted by name', () => {
    const j = { name: 'web', containers: { zeta: { image: 'a' }, alpha: { image: 'b' }, mid: { image: 'c' } } };
    assert.deepEqual(specOf(j).containers.map((c) => c.name), ['alpha', 'mid', 'zeta']);
  });
  test('dependencies first, then names', () => {
    const j = { name: 'web', containers: { app: { image: 'a', depends_on: ['db', 'cache'] }, cache: { image: 'b', depends_on: ['db'] }, db: { image: 'c' }, aaa: { image: 'd' } } };
    assert.deepEqual(specOf(j).containers.map((c) => c.name), ['aaa', 'db', 'cache', 'app']);
  });
  test('the order in the file does not change the spec or its hash', () => {
    const a = { name: 'web', containers: { app: { image: 'a', depends_on: ['db'] }, db: { image: 'c' } } };
    const b = { name: 'web', containers: { db: { image: 'c' }, app: { image: 'a', depends_on: ['db'] } } };
    const ra = renderJob(a);
    const rb = renderJob(b);
    assert.deepEqual(ra.jobs[0]!.spec, rb.jobs[0]!.spec);
    assert.equal(ra.jobs[0]!.specHash, rb.jobs[0]!.specHash);
  });
  test('a changed field changes the hash', () => {
    const a = validJob();
    const b = validJob();
    b.containers.app.memory = '65M';
    assert.notEqual(renderJob(a).jobs[0]!.specHash, renderJob(b).jobs[0]!.specHash);
  });
});

describe('wave 2 job fields', () => {
  test('update: defaults filled in when the block is there, absent when it is not; stopGrace in ms', () => {
    const s = specOf({ name: 'web', containers: { app: { image: 'busybox' } }, update: { maxParallel: 2 }, stopGrace: '3s' });
    assert.deepEqual(s.update, { strategy: 'rolling', maxParallel: 2, minHealthyMs: 10_000, healthyDeadlineMs: 300_000, autoRevert: true });
    assert.equal(s.stopGraceMs, 3000);
    const plain = specOf({ name: 'web', containers: { app: { image: 'busybox' } } });
    assert.equal(plain.update, undefined);
    assert.equal(plain.stopGraceMs, undefined);
  });
  test('a policy change keeps the pod hash: no restarts', () => {
    const a = renderJob({ name: 'web', containers: { app: { image: 'busybox' } } }).jobs[0]!;
    const b = renderJob({ name: 'web', containers: { app: { image: 'busybox' } }, update: { maxParallel: 3 }, stopGrace: 1 }).jobs[0]!;
    assert.equal(a.specHash, b.specHash);
  });
  test('persistent volume and onNodeLoss: absent unless the file says; a bad value names the field', () => {
    const vol = { type: 'persistent', path: '/data', space: '1G' };
    const spec = specOf({ name: 'db', containers: { pg: { image: 'busybox', volumes: [vol] } } }, 'jobs/db.yaml');
    assert.deepEqual(spec.containers[0]!.volumes, [{ type: 'persistent', path: '/data', space: 1024 ** 3 }]);
    assert.equal(spec.onNodeLoss, undefined);
    assert.equal(specOf({ name: 'db', onNodeLoss: 'recreate', containers: { pg: { image: 'busybox' } } }, 'jobs/db.yaml').onNodeLoss, 'recreate');
    const r = renderJob({ name: 'db', onNodeLoss: 'move', containers: { pg: { image: 'busybox' } } }, 'jobs/db.yaml');
    assert.equal(r.problems[0]?.problem.errors?.[0]?.pointer, '/onNodeLoss');
  });
  test('a daemon refuses numInstances, naming the field', () => {
    const r = renderJob({ name: 'web', type: 'daemon', numInstances: 2, containers: { app: { image: 'busybox' } } });
    assert.equal(r.jobs.length, 0);
    assert.equal(r.problems[0]?.problem.errors?.[0]?.pointer, '/numInstances');
  });
  test('an out-of-range update duration is an invalid-update problem naming the field', () => {
    const r = renderJob({ name: 'web', containers: { app: { image: 'busybox' } }, update: { healthyDeadline: '25h' } });
    assert.equal(r.problems[0]?.problem.errors?.[0]?.pointer, '/update/healthyDeadline');
    assert.match(r.problems[0]!.problem.type, /#invalid-update$/);
  });
});

describe('placement', () => {
  const job = (placement: unknown) => ({ name: 'web', numInstances: 3, containers: { app: { image: 'busybox' } }, placement });
  test('spread and zones keep the file\'s order of zones', () => {
    const r = renderJob(job({ spread: 'zones', zones: ['c', 'a', 'b'] }));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.jobs[0]?.spec.placement, { spread: 'zones', zones: ['c', 'a', 'b'] });
  });
  test('spread: none is the default and hashes like no spread', () => {
    const a = renderJob(job({ spread: 'none' }));
    const b = renderJob(job({}));
    assert.deepEqual(a.jobs[0]?.spec.placement, {});
    assert.equal(a.jobs[0]?.specHash, b.jobs[0]?.specHash);
  });
  test('an unknown spread is refused', () => {
    const r = renderJob(job({ spread: 'racks' }));
    assert.equal(r.problems[0]?.problem.errors?.[0]?.pointer, '/placement/spread');
  });
  test('zones without spread: zones is refused', () => {
    const r = renderJob(job({ spread: 'nodes', zones: ['a'] }));
    assert.match(r.problems[0]!.problem.detail ?? '', /spread: zones/);
  });
});

describe('toRawJob (what ozy render prints) is a valid job with the same spec', () => {
  for (const [name, doc, path] of [
    ['seed', SEED, 'jobs/simple-webapp.yaml'],
    ['minimal', JSON.stringify({ name: 'web', containers: { app: { image: 'busybox', memory: 10000000, cpu: 0.25, command: 'a b' } } }), 'jobs/web.yaml'],
    ['exec check and udp', JSON.stringify({ name: 'web', containers: { app: { image: 'busybox', ports: ['53:53/udp'], healthcheck: { type: 'exec', command: 'true', interval: '1500ms' } } } }), 'jobs/web.yaml'],
    [
      'ingress, update policy, stopGrace',
      JSON.stringify({
        name: 'web',
        numInstances: 3,
        containers: { app: { image: 'busybox', ports: ['3000'] } },
        ingress: [{ host: 'web.example.com', port: 3000 }, { tcp: 7000, port: 3000 }],
        update: { maxParallel: 2, minHealthy: '3s' },
        stopGrace: '2s',
      }),
      'jobs/web.yaml',
    ],
    [
      'persistent volume, onNodeLoss',
      JSON.stringify({
        name: 'db',
        containers: { pg: { image: 'busybox', volumes: [{ type: 'persistent', path: '/var/lib/data', space: '2G' }] } },
        onNodeLoss: 'recreate',
      }),
      'jobs/db.yaml',
    ],
    ['pids, user, readOnlyRootfs', JSON.stringify({ name: 'web', containers: { app: { image: 'busybox', pids: 64, user: 1000, readOnlyRootfs: true }, side: { image: 'busybox', user: 'app:app' } } }), 'jobs/web.yaml'],
    ['daemon with node labels', JSON.stringify({ name: 'agent', type: 'daemon', placement: { nodeLabels: { disk: 'ssd' } }, containers: { app: { image: 'busybox' } } }), 'jobs/agent.yaml'],
    ['zone spread with zones and labels', JSON.stringify({ name: 'db', numInstances: 3, placement: { spread: 'zones', zones: ['b', 'a'], nodeLabels: { disk: 'ssd' } }, containers: { app: { image: 'busybox' } } }), 'jobs/db.yaml'],
    ['node spread', JSON.stringify({ name: 'db', numInstances: 3, placement: { spread: 'nodes' }, containers: { app: { image: 'busybox' } } }), 'jobs/db.yaml'],
    ['cron job, defaults', JSON.stringify({ name: 'report', type: 'cron', schedule: '*/5 * * * *', containers: { app: { image: 'busybox' } } }), 'jobs/report.yaml'],
    [
      'cron job, every field',
      JSON.stringify({
        name: 'report',
        type: 'cron',
        schedule: '0 30 1 * * mon-fri',
        timeZone: 'America/New_York',
        concurrency: 'allow',
        startingDeadline: 90,
        catchUp: 'none',
        activeDeadline: '90m',
        retries: 3,
        history: { succeeded: 0, failed: 20 },
        numInstances: 4,
        stopGrace: '1s',
        containers: { app: { image: 'busybox', restart: 'on-failure', volumes: [{ type: 'shared', path: '/out', space: '1G' }] } },
      }),
      'jobs/report.yaml',
    ],
  ] as const) {
    test(name, () => {
      const first = renderRepo([{ path, content: doc }]);
      assert.deepEqual(first.problems, []);
      const spec = first.jobs[0]!.spec;
      const again = renderRepo([{ path, content: toYaml(toRawJob(spec)) }]);
      assert.deepEqual(again.problems, []);
      assert.deepEqual(again.jobs[0]!.spec, spec);
    });
  }
  test('jobs come sorted by name', () => {
    const r = renderRepo([jobFile(validJob('b'), 'jobs/b.yaml'), jobFile(validJob('a'), 'jobs/z/a.yaml'), jobFile(validJob('c'), 'jobs/c.yml')]);
    assert.deepEqual(r.jobs.map((j) => j.spec.name), ['a', 'b', 'c']);
  });
});
