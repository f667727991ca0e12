// The charts shipped in helm-style-templates/: each renders, with its
// defaults and with overrides, into a job that matches the job schema and
// carries the values given.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import Ajv from 'ajv';
import { load } from 'js-yaml';
import { projectRoot } from '../../../src/paths';
import { renderChart, type Chart } from '../../../src/render/template';

const chartsDir = path.join(projectRoot(), 'helm-style-templates');

function readChart(name: string): Chart {
  const dir = path.join(chartsDir, name);
  const templates: Record<string, string> = {};
  for (const file of fs.readdirSync(path.join(dir, 'templates'))) templates[file] = fs.readFileSync(path.join(dir, 'templates', file), 'utf8');
  return {
    name,
    chartYaml: fs.readFileSync(path.join(dir, 'Chart.yaml'), 'utf8'),
    valuesYaml: fs.readFileSync(path.join(dir, 'values.yaml'), 'utf8'),
    templates,
  };
}

const validateJob = (() => {
  const ajv = new Ajv({ strict: false, allErrors: true, allowUnionTypes: true });
  return ajv.compile(JSON.parse(fs.readFileSync(path.join(projectRoot(), 'schemas', 'job.schema.json'), 'utf8')) as object);
})();

interface Container {
  image: string;
  restart?: string;
  command?: string[];
  environment?: Array<{ name: string; value: string }>;
  ports?: string[];
  depends_on?: string[];
  memory?: string;
  cpu?: string;
  healthcheck?: Record<string, unknown>;
  volumes?: Array<{ type: string; path: string; space: string }>;
}
interface Job {
  name: string;
  numInstances: number;
  containers: Record<string, Container>;
}

/** Renders a shipped chart into its one job, checked against the job schema. */
function renderJob(chartName: string, releaseName: string, values?: unknown): Job {
  const r = renderChart(readChart(chartName), values === undefined ? { releaseName } : { releaseName, values });
  if (!r.ok) assert.fail(JSON.stringify(r.errors));
  assert.equal(r.documents.length, 1);
  const job = load((r.documents[0] as { text: string }).text);
  assert.ok(validateJob(job), JSON.stringify(validateJob.errors));
  return job as Job;
}

function container(job: Job, name: string): Container {
  const c = job.containers[name];
  assert.ok(c, `container ${name}`);
  return c;
}

function env(c: Container): Record<string, string> {
  return Object.fromEntries((c.environment ?? []).map((e) => [e.name, e.value]));
}

describe('every shipped chart', () => {
  const names = fs.readdirSync(chartsDir).filter((n) => fs.statSync(path.join(chartsDir, n)).isDirectory());

  test('web-service and webapp are shipped', () => {
    assert.ok(names.includes('web-service') && names.includes('webapp'), names.join(', '));
  });

  for (const name of names) {
    test(`${name}: has Chart.yaml, values.yaml, templates and a README listing every top-level value`, () => {
      const dir = path.join(chartsDir, name);
      for (const f of ['Chart.yaml', 'values.yaml', 'README.md', 'templates']) assert.ok(fs.existsSync(path.join(dir, f)), f);
      const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
      const defaults = load(fs.readFileSync(path.join(dir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
      for (const key of Object.keys(defaults)) assert.ok(readme.includes(`\`${key}`), `README mentions ${key}`);
    });

    test(`${name}: renders with defaults; the release name is the job name; the default image is the local busybox`, () => {
      const job = renderJob(name, 'my-release');
      assert.equal(job.name, 'my-release');
      for (const c of Object.values(job.containers)) {
        assert.equal(c.image, 'localhost/ozy-busybox:1');
        // The busybox image has no PATH: programs by full path.
        if (c.command) assert.match(c.command[0] ?? '', /^\//);
      }
    });
  }
});

describe('web-service', () => {
  test('defaults: 2 instances, port 8080 served by httpd and health-checked over HTTP', () => {
    const job = renderJob('web-service', 'hello');
    assert.equal(job.numInstances, 2);
    const web = container(job, 'web');
    assert.deepEqual(web.ports, ['8080']);
    assert.equal(web.restart, 'always');
    assert.equal(web.memory, '64M');
    assert.deepEqual(web.command, ['/bin/sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec /bin/httpd -f -p 8080 -h /www']);
    assert.deepEqual(web.healthcheck, { type: 'http', port: 8080, path: '/', timeout: '2s', interval: '10s', healthy_threshold: 1, unhealthy_threshold: 3 });
    assert.equal(web.environment, undefined);
  });

  test('overrides: replicas, port (the command follows it), host port, memory, image, environment, health check', () => {
    const job = renderJob('web-service', 'api', {
      replicas: 5,
      port: 9090,
      hostPort: 80,
      memory: '256M',
      cpu: '0.5',
      image: 'registry.example.com/api:2',
      environment: { B_VAR: 'two words', A_VAR: 1 },
      healthcheck: { path: '/healthz', unhealthyThreshold: 5 },
    });
    assert.equal(job.name, 'api');
    assert.equal(job.numInstances, 5);
    const web = container(job, 'web');
    assert.equal(web.image, 'registry.example.com/api:2');
    assert.deepEqual(web.ports, ['80:9090']);
    assert.match(web.command?.[2] ?? '', /-p 9090 /);
    assert.equal(web.memory, '256M');
    assert.equal(web.cpu, '0.5');
    assert.deepEqual(web.environment, [{ name: 'A_VAR', value: '1' }, { name: 'B_VAR', value: 'two words' }]);
    assert.deepEqual(web.healthcheck, { type: 'http', port: 9090, path: '/healthz', timeout: '2s', interval: '10s', healthy_threshold: 1, unhealthy_threshold: 5 });
  });

  test('replicas 0 and a null command (the image\'s own) are honoured', () => {
    const job = renderJob('web-service', 'idle', { replicas: 0, command: null, image: 'nginx:1.25', port: 80 });
    assert.equal(job.numInstances, 0);
    assert.equal(container(job, 'web').command, undefined);
  });

  test('a missing image is a located template error', () => {
    const r = renderChart(readChart('web-service'), { releaseName: 'x', values: { image: null } });
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.errors[0]?.template, 'job.yaml');
      assert.match(r.errors[0]?.message ?? '', /values.image is required/);
    }
  });
});

describe('webapp', () => {
  test('defaults: app depends on db, shared + local volumes, DATABASE_URL from the db settings', () => {
    const job = renderJob('webapp', 'shop');
    assert.equal(job.name, 'shop');
    assert.equal(job.numInstances, 1);
    assert.deepEqual(Object.keys(job.containers).sort(), ['app', 'db']);
    const app = container(job, 'app');
    const db = container(job, 'db');
    assert.deepEqual(app.depends_on, ['db']);
    assert.deepEqual(app.ports, ['3000']);
    assert.deepEqual(app.volumes, [
      { type: 'shared', path: '/data/shared', space: '100M' },
      { type: 'local', path: '/data/scratch', space: '50M' },
    ]);
    assert.deepEqual(app.healthcheck, { type: 'http', port: 3000, path: '/healthcheck', timeout: '2s', interval: '10s', healthy_threshold: 2, unhealthy_threshold: 2 });
    assert.match(app.command?.[2] ?? '', /echo ok > \/www\/healthcheck .*-p 3000 /);
    assert.deepEqual(env(app), { DATABASE_URL: 'postgresql://webapp:webapp@localhost:5432/webapp' });
    assert.deepEqual(env(db), { POSTGRES_DB: 'webapp', POSTGRES_PASSWORD: 'webapp', POSTGRES_USER: 'webapp' });
    assert.deepEqual(db.volumes, [{ type: 'local', path: '/var/lib/postgresql/data', space: '200M' }]);
    assert.deepEqual(db.ports, ['5432']);
    assert.equal(db.depends_on, undefined);
  });

  test('overrides: the seed\'s simple-webapp (3 instances, 80:3000, postgres:13 with its own command)', () => {
    const job = renderJob('webapp', 'simple-webapp', {
      replicas: 3,
      app: { image: 'web-app-image', command: ['bin/rails', 's', '--restart'], hostPort: 80, memory: '2G', volumes: { shared: { space: '1G' } }, environment: { RAILS_ENV: 'production' } },
      db: { image: 'postgres:13', command: null, memory: '4G', user: 'u', password: 'p', database: 'd', volume: { space: '10G' } },
    });
    assert.equal(job.numInstances, 3);
    const app = container(job, 'app');
    const db = container(job, 'db');
    assert.deepEqual(app.ports, ['80:3000']);
    assert.deepEqual(app.command, ['bin/rails', 's', '--restart']);
    assert.equal(app.memory, '2G');
    assert.deepEqual(app.volumes?.[0], { type: 'shared', path: '/data/shared', space: '1G' });
    assert.deepEqual(env(app), { DATABASE_URL: 'postgresql://u:p@localhost:5432/d', RAILS_ENV: 'production' });
    assert.equal(db.image, 'postgres:13');
    assert.equal(db.command, undefined);
    assert.equal(db.memory, '4G');
    assert.deepEqual(db.volumes, [{ type: 'local', path: '/var/lib/postgresql/data', space: '10G' }]);
    assert.deepEqual(env(db), { POSTGRES_DB: 'd', POSTGRES_PASSWORD: 'p', POSTGRES_USER: 'u' });
  });

  test('volumes and health check can be dropped with null; an explicit DATABASE_URL wins', () => {
    const job = renderJob('webapp', 'lean', { app: { volumes: null, healthcheck: null, environment: { DATABASE_URL: 'postgresql://elsewhere/db' } }, db: { volume: null } });
    const app = container(job, 'app');
    assert.equal(app.volumes, undefined);
    assert.equal(container(job, 'db').volumes, undefined);
    assert.deepEqual(app.healthcheck, { type: 'http', port: 3000, path: '/', timeout: '2s', interval: '10s', healthy_threshold: 1, unhealthy_threshold: 3 });
    assert.deepEqual(env(app), { DATABASE_URL: 'postgresql://elsewhere/db' });
  });
});
