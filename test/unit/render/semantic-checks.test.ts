// Rules beyond the schema (src/render/checks.ts, normalize.ts, the name and
// uniqueness rules): the bad input and the exact problem expected.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { problemTypeOf } from '../../../src/problems';
import { renderRepo } from '../../../src/render';
import { expectProblem, jobFile, renderJob, validJob } from './helpers';

const app = (j: Record<string, any>) => j.containers.app;

function withDb(): Record<string, any> {
  const job = validJob();
  job.containers.db = { image: 'postgres:13', ports: ['5432'], memory: '256M' };
  return job;
}

describe('job name', () => {
  test('must equal the file base name', () => {
    const p = expectProblem(validJob('webapp'), 'job-name-mismatch', ['/name']);
    assert.equal(p.errors![0]!.message, 'name: expected "web" (the file is jobs/web.yaml: a job file\'s base name is its job\'s name), got "webapp"');
    assert.equal(p.job, 'web');
  });
  test('.yml works like .yaml', () => {
    assert.equal(renderJob(validJob('web'), 'jobs/web.yml').jobs.length, 1);
  });
  test('a file name that is not a job name', () => {
    const p = expectProblem(validJob('web'), 'invalid-job-name', [''], 'jobs/Web.yaml');
    assert.equal(p.job, undefined);
  });
  test('a 60-character file name', () => {
    const long = 'a'.repeat(60);
    expectProblem(validJob(long), 'invalid-job-name', ['', '/name'], `jobs/${long}.yaml`);
  });
  test('52 characters is the longest name', () => {
    const name = 'a'.repeat(52);
    assert.equal(renderJob(validJob(name), `jobs/${name}.yaml`).jobs.length, 1);
  });
  test('unique across the repository: both files get a problem, neither job is accepted', () => {
    const r = renderRepo([jobFile(validJob('web'), 'jobs/a/web.yaml'), jobFile(validJob('web'), 'jobs/b/web.yaml'), jobFile(validJob('other'), 'jobs/other.yaml')]);
    assert.deepEqual(r.jobs.map((j) => j.spec.name), ['other']);
    assert.deepEqual(r.problems.map((p) => [p.key, p.file, p.job, problemTypeOf(p.problem), p.problem.errors![0]!.pointer]), [
      ['web', 'jobs/a/web.yaml', 'web', 'duplicate-job-name', '/name'],
      ['web', 'jobs/b/web.yaml', 'web', 'duplicate-job-name', '/name'],
    ]);
    assert.match(r.problems[0]!.problem.detail, /also the name of the job in jobs\/b\/web\.yaml/);
  });
  test('a valid job is not accepted when an invalid file claims the same name', () => {
    const bad = validJob('web');
    bad.containers.app.memory = 'lots';
    const r = renderRepo([jobFile(validJob('web'), 'jobs/a/web.yaml'), jobFile(bad, 'jobs/b/web.yaml')]);
    assert.deepEqual(r.jobs, []);
    assert.deepEqual(r.problems.map((p) => [p.file, problemTypeOf(p.problem)]), [
      ['jobs/a/web.yaml', 'duplicate-job-name'],
      ['jobs/b/web.yaml', 'invalid-size'],
    ]);
  });
});

describe('depends_on', () => {
  test('names an existing container', () => {
    const job = withDb();
    app(job).depends_on = ['database'];
    const p = expectProblem(job, 'unknown-dependency', ['/containers/app/depends_on/0']);
    assert.equal(p.errors![0]!.message, 'containers.app.depends_on[0]: expected a container of this job (db), got "database"');
  });
  test('no cycle', () => {
    const job = withDb();
    app(job).depends_on = ['db'];
    job.containers.db.depends_on = ['app'];
    const p = expectProblem(job, 'dependency-cycle', ['/containers/app/depends_on/0']);
    assert.match(p.errors![0]!.message, /app → db → app is a cycle/);
  });
  test('no self-dependency', () => {
    const job = validJob();
    app(job).depends_on = ['app'];
    expectProblem(job, 'dependency-cycle', ['/containers/app/depends_on/0']);
  });
  test('a longer cycle is found from any start', () => {
    const job = withDb();
    job.containers.cache = { image: 'redis:7', depends_on: ['app'] };
    app(job).depends_on = ['db'];
    job.containers.db.depends_on = ['cache'];
    expectProblem(job, 'dependency-cycle', ['/containers/app/depends_on/0']);
  });
});

describe('ports in a pod', () => {
  test('two containers publish the same host port', () => {
    const job = withDb();
    app(job).ports = ['80:3000'];
    job.containers.db.ports = ['80:5432'];
    const p = expectProblem(job, 'port-conflict-in-pod', ['/containers/db/ports/0']);
    assert.equal(p.errors![0]!.message, 'containers.db.ports[0]: host port 80/tcp is already published by containers.app.ports[0]');
  });
  test('one container publishes the same host port twice', () => {
    const job = validJob();
    app(job).ports = ['80:3000', '80:3001'];
    expectProblem(job, 'port-conflict-in-pod', ['/containers/app/ports/1']);
  });
  test('two containers listen on the same container port', () => {
    const job = withDb();
    job.containers.db.ports = ['3000'];
    expectProblem(job, 'port-conflict-in-pod', ['/containers/db/ports/0']);
  });
  test('same number, different protocols: no conflict', () => {
    const job = withDb();
    job.containers.db.ports = ['3000/udp', '53:53/udp', '53:53'];
    assert.equal(renderJob(job).jobs.length, 1);
  });
  test('one container port published on two host ports: allowed', () => {
    const job = validJob();
    app(job).ports = ['80:3000', '8080:3000'];
    assert.equal(renderJob(job).jobs.length, 1);
  });
  test('port numbers out of range', () => {
    const job = validJob();
    app(job).ports = ['3000', '70000:3000', '0'];
    expectProblem(job, 'invalid-port', ['/containers/app/ports/1', '/containers/app/ports/2']);
  });
});

describe('healthcheck port', () => {
  test('must be one of the container ports', () => {
    const job = validJob();
    app(job).healthcheck.port = 8080;
    const p = expectProblem(job, 'invalid-healthcheck', ['/containers/app/healthcheck/port']);
    assert.equal(p.errors![0]!.message, "containers.app.healthcheck.port: expected one of the container's ports (3000), got 8080");
  });
  test('the host port does not count', () => {
    const job = validJob();
    app(job).ports = ['80:3000'];
    app(job).healthcheck.port = 80;
    expectProblem(job, 'invalid-healthcheck', ['/containers/app/healthcheck/port']);
  });
  test('a udp port does not count for a tcp check', () => {
    const job = validJob();
    app(job).ports = ['3000/udp'];
    app(job).healthcheck = { type: 'tcp', port: 3000 };
    expectProblem(job, 'invalid-healthcheck', ['/containers/app/healthcheck/port']);
  });
  test('a container without ports', () => {
    const job = validJob();
    delete app(job).ports;
    expectProblem(job, 'invalid-healthcheck', ['/containers/app/healthcheck/port']);
  });
  test('exec checks need no port', () => {
    const job = validJob();
    delete app(job).ports;
    app(job).healthcheck = { type: 'exec', command: '/bin/true' };
    assert.equal(renderJob(job).jobs.length, 1);
  });
  test('interval too short', () => {
    const job = validJob();
    app(job).healthcheck.interval = '10ms';
    expectProblem(job, 'invalid-healthcheck', ['/containers/app/healthcheck/interval']);
  });
  test('timeout above an hour', () => {
    const job = validJob();
    app(job).healthcheck.timeout = '2h';
    expectProblem(job, 'invalid-healthcheck', ['/containers/app/healthcheck/timeout']);
  });
  test('exec command string with an unterminated quote', () => {
    const job = validJob();
    app(job).healthcheck = { type: 'exec', command: "/bin/sh -c 'true" };
    expectProblem(job, 'invalid-healthcheck', ['/containers/app/healthcheck/command']);
  });
});

describe('sizes and CPU are sane', () => {
  const cases: Array<[string, (j: Record<string, any>) => void, string, string]> = [
    ['memory below 6Mi', (j) => (app(j).memory = '1M'), 'invalid-size', '/containers/app/memory'],
    ['memory 0', (j) => (app(j).memory = 0), 'invalid-size', '/containers/app/memory'],
    ['memory above 1Ti', (j) => (app(j).memory = '2T'), 'invalid-size', '/containers/app/memory'],
    ['memory beyond safe integers', (j) => (app(j).memory = '99999999999999T'), 'invalid-size', '/containers/app/memory'],
    ['volume space 0', (j) => (app(j).volumes = [{ type: 'local', path: '/d', space: 0 }]), 'invalid-size', '/containers/app/volumes/0/space'],
    ['volume space above 16Ti', (j) => (app(j).volumes = [{ type: 'local', path: '/d', space: '17T' }]), 'invalid-size', '/containers/app/volumes/0/space'],
    ['cpu 0', (j) => (app(j).cpu = 0), 'invalid-cpu', '/containers/app/cpu'],
    ['cpu 0m', (j) => (app(j).cpu = '0m'), 'invalid-cpu', '/containers/app/cpu'],
    ['cpu above 1024 cores', (j) => (app(j).cpu = 2000), 'invalid-cpu', '/containers/app/cpu'],
  ];
  for (const [name, mutate, type, pointer] of cases) {
    test(name, () => {
      const job = validJob();
      mutate(job);
      expectProblem(job, type, [pointer]);
    });
  }
  test('the range message gives the bounds and the value', () => {
    const job = validJob();
    app(job).memory = '1k';
    const p = expectProblem(job, 'invalid-size', ['/containers/app/memory']);
    assert.equal(p.errors![0]!.message, 'containers.app.memory: expected a size from 6Mi to 1Ti, got "1k" (1Ki)');
  });
});

describe('image references (Docker grammar)', () => {
  for (const bad of ['Foo/Bar', 'MyApp:latest', 'a b', 'busybox:', 'busybox@sha256:abc', '/busybox', 'busybox:-tag', 'UPPER', 'a//b', 'x'.repeat(300)]) {
    test(`refuses ${JSON.stringify(bad.length > 40 ? `${bad.slice(0, 20)}…` : bad)}`, () => {
      const job = validJob();
      app(job).image = bad;
      expectProblem(job, 'invalid-image', ['/containers/app/image']);
    });
  }
  for (const good of [
    'busybox',
    'postgres:13',
    'localhost/ozy-busybox:1',
    'localhost:5000/team/app:1.2.3',
    'registry.example.com/a/b/c:v1_RC-2',
    'docker.io/library/redis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    '[::1]:5000/app:latest',
    'my__app',
    'my--app.x',
  ]) {
    test(`accepts ${good}`, () => {
      const job = validJob();
      app(job).image = good;
      assert.deepEqual(renderJob(job).problems, []);
    });
  }
});

describe('volumes', () => {
  for (const bad of ['/', '/a/../b', '/a/./b', '/a//b', '/a/', '/a:b', '/..']) {
    test(`path ${bad}`, () => {
      const job = validJob();
      app(job).volumes = [{ type: 'local', path: bad, space: '1G' }];
      expectProblem(job, 'invalid-volume', ['/containers/app/volumes/0/path']);
    });
  }
  test('paths unique per container', () => {
    const job = validJob();
    app(job).volumes = [
      { type: 'local', path: '/data', space: '1G' },
      { type: 'shared', path: '/data', space: '1G' },
    ];
    const p = expectProblem(job, 'invalid-volume', ['/containers/app/volumes/1/path']);
    assert.equal(p.errors![0]!.message, 'containers.app.volumes[1].path: /data is already mounted by volumes[0]');
  });
  test('the same path in two containers is fine', () => {
    const job = withDb();
    app(job).volumes = [{ type: 'shared', path: '/data', space: '1G' }];
    job.containers.db.volumes = [{ type: 'shared', path: '/data', space: '1G' }];
    assert.equal(renderJob(job).jobs.length, 1);
  });
});

describe('environment and command', () => {
  test('a name set twice in the list form', () => {
    const job = validJob();
    app(job).environment = [
      { name: 'A', value: '1' },
      { name: 'A', value: '2' },
    ];
    const p = expectProblem(job, 'invalid-environment', ['/containers/app/environment/1/name']);
    assert.equal(p.errors![0]!.message, 'containers.app.environment[1].name: A is already set by environment[0]');
  });
  test('a command string with an unterminated quote', () => {
    const job = validJob();
    app(job).command = '/bin/sh -c "echo hi';
    const p = expectProblem(job, 'invalid-job', ['/containers/app/command']);
    assert.match(p.errors![0]!.message, /unterminated double quote/);
  });
});
