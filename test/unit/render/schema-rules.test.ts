// One test per rule of schemas/job.schema.json: the bad input and the exact
// problem (type and JSON pointer) it must produce.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectProblem, renderJob, validJob } from './helpers';

type Mutate = (job: Record<string, any>) => void;

interface Case {
  name: string;
  mutate: Mutate;
  type: string;
  pointers: string[];
}

function run(cases: Case[]): void {
  for (const c of cases) {
    test(c.name, () => {
      const job = validJob();
      c.mutate(job);
      expectProblem(job, c.type, c.pointers);
    });
  }
}

const app = (j: Record<string, any>) => j.containers.app;

test('the valid base job is accepted (so each case below fails for its own reason)', () => {
  const r = renderJob(validJob());
  assert.deepEqual(r.problems, []);
  assert.equal(r.jobs.length, 1);
});

describe('job level', () => {
  run([
    { name: 'name is required', mutate: (j) => delete j.name, type: 'invalid-job', pointers: ['/name'] },
    { name: 'name must be a string', mutate: (j) => (j.name = 5), type: 'invalid-job-name', pointers: ['/name'] },
    { name: 'name: uppercase', mutate: (j) => (j.name = 'Web'), type: 'invalid-job-name', pointers: ['/name'] },
    { name: "name: with '/'", mutate: (j) => (j.name = 'a/b'), type: 'invalid-job-name', pointers: ['/name'] },
    { name: "name: '..'", mutate: (j) => (j.name = '..'), type: 'invalid-job-name', pointers: ['/name'] },
    { name: 'name: 60 characters', mutate: (j) => (j.name = 'a'.repeat(60)), type: 'invalid-job-name', pointers: ['/name'] },
    { name: 'name: leading dash', mutate: (j) => (j.name = '-web'), type: 'invalid-job-name', pointers: ['/name'] },
    { name: 'unknown top-level field', mutate: (j) => (j.privileged = true), type: 'invalid-job', pointers: ['/privileged'] },
    { name: 'numInstances negative', mutate: (j) => (j.numInstances = -1), type: 'invalid-job', pointers: ['/numInstances'] },
    { name: 'numInstances fractional', mutate: (j) => (j.numInstances = 1.5), type: 'invalid-job', pointers: ['/numInstances'] },
    { name: 'numInstances as a string', mutate: (j) => (j.numInstances = '3'), type: 'invalid-job', pointers: ['/numInstances'] },
    { name: 'numInstances above 10000', mutate: (j) => (j.numInstances = 10001), type: 'invalid-job', pointers: ['/numInstances'] },
    { name: 'containers required', mutate: (j) => delete j.containers, type: 'invalid-job', pointers: ['/containers'] },
    { name: 'containers empty', mutate: (j) => (j.containers = {}), type: 'invalid-job', pointers: ['/containers'] },
    { name: 'containers a list', mutate: (j) => (j.containers = [app(j)]), type: 'invalid-job', pointers: ['/containers'] },
    {
      name: 'container name not a DNS label',
      mutate: (j) => {
        j.containers.App = app(j);
        delete j.containers.app;
      },
      type: 'invalid-job',
      pointers: ['/containers/App'],
    },
  ]);
});

describe('container fields', () => {
  run([
    { name: 'image required', mutate: (j) => delete app(j).image, type: 'invalid-job', pointers: ['/containers/app/image'] },
    { name: 'image must be a string', mutate: (j) => (app(j).image = 5), type: 'invalid-image', pointers: ['/containers/app/image'] },
    { name: 'image empty', mutate: (j) => (app(j).image = ''), type: 'invalid-image', pointers: ['/containers/app/image'] },
    { name: 'restart enum', mutate: (j) => (app(j).restart = 'sometimes'), type: 'invalid-job', pointers: ['/containers/app/restart'] },
    { name: 'command empty list', mutate: (j) => (app(j).command = []), type: 'invalid-job', pointers: ['/containers/app/command'] },
    { name: 'command non-string item', mutate: (j) => (app(j).command = ['/bin/sh', 1]), type: 'invalid-job', pointers: ['/containers/app/command/1'] },
    { name: 'command a map', mutate: (j) => (app(j).command = { sh: 1 }), type: 'invalid-job', pointers: ['/containers/app/command'] },
    { name: 'depends_on repeated', mutate: (j) => {
        j.containers.db = { image: 'busybox' };
        app(j).depends_on = ['db', 'db'];
      }, type: 'invalid-job', pointers: ['/containers/app/depends_on/1'] },
    { name: 'depends_on a string', mutate: (j) => (app(j).depends_on = 'db'), type: 'invalid-job', pointers: ['/containers/app/depends_on'] },
    { name: 'memory not a size', mutate: (j) => (app(j).memory = 'lots'), type: 'invalid-size', pointers: ['/containers/app/memory'] },
    { name: 'memory negative', mutate: (j) => (app(j).memory = -1), type: 'invalid-size', pointers: ['/containers/app/memory'] },
    { name: 'memory with a space', mutate: (j) => (app(j).memory = '512 M'), type: 'invalid-size', pointers: ['/containers/app/memory'] },
    { name: 'memory a boolean', mutate: (j) => (app(j).memory = true), type: 'invalid-size', pointers: ['/containers/app/memory'] },
    { name: 'cpu not an amount', mutate: (j) => (app(j).cpu = 'lots'), type: 'invalid-cpu', pointers: ['/containers/app/cpu'] },
    { name: 'cpu negative', mutate: (j) => (app(j).cpu = -0.5), type: 'invalid-cpu', pointers: ['/containers/app/cpu'] },
    { name: 'cpu fractional millicores', mutate: (j) => (app(j).cpu = '0.5m'), type: 'invalid-cpu', pointers: ['/containers/app/cpu'] },
  ]);
});

describe('no privileged mode, host namespaces or host paths: unknown keys are rejected', () => {
  for (const key of ['privileged', 'network_mode', 'pid', 'ipc', 'cap_add', 'devices', 'user', 'security_opt', 'hostPath']) {
    test(`containers.app.${key}`, () => {
      const job = validJob();
      app(job)[key] = key === 'network_mode' ? 'host' : true;
      expectProblem(job, 'invalid-job', [`/containers/app/${key}`]);
    });
  }
  test('a bind volume with a host source', () => {
    const job = validJob();
    app(job).volumes = [{ type: 'bind', path: '/data', space: '1G', source: '/etc' }];
    expectProblem(job, 'invalid-volume', ['/containers/app/volumes/0/source', '/containers/app/volumes/0/type']);
  });
});

describe('environment', () => {
  run([
    { name: 'list item without value or secret', mutate: (j) => (app(j).environment = [{ name: 'A' }]), type: 'invalid-environment', pointers: ['/containers/app/environment/0'] },
    { name: 'list item with a bad name', mutate: (j) => (app(j).environment = [{ name: 'DB-URL', value: 'x' }]), type: 'invalid-environment', pointers: ['/containers/app/environment/0/name'] },
    { name: 'list item with an extra field', mutate: (j) => (app(j).environment = [{ name: 'A', value: 'x', secret: true }]), type: 'invalid-environment', pointers: ['/containers/app/environment/0/secret'] },
    { name: 'map with a bad name', mutate: (j) => (app(j).environment = { '1B': 'x' }), type: 'invalid-environment', pointers: ['/containers/app/environment/1B'] },
    { name: 'map with a map value', mutate: (j) => (app(j).environment = { A: { b: 1 } }), type: 'invalid-environment', pointers: ['/containers/app/environment/A'] },
    { name: 'map with a null value', mutate: (j) => (app(j).environment = { A: null }), type: 'invalid-environment', pointers: ['/containers/app/environment/A'] },
    { name: 'a string', mutate: (j) => (app(j).environment = 'A=1'), type: 'invalid-environment', pointers: ['/containers/app/environment'] },
  ]);
});

describe('ports', () => {
  run([
    { name: 'not a mapping', mutate: (j) => (app(j).ports = ['abc']), type: 'invalid-port', pointers: ['/containers/app/ports/0'] },
    { name: 'port 0 as a number', mutate: (j) => (app(j).ports = [0]), type: 'invalid-port', pointers: ['/containers/app/ports/0'] },
    { name: 'unknown protocol', mutate: (j) => (app(j).ports = ['3000/sctp']), type: 'invalid-port', pointers: ['/containers/app/ports/0'] },
    { name: 'host IP (not supported)', mutate: (j) => (app(j).ports = ['127.0.0.1:80:3000']), type: 'invalid-port', pointers: ['/containers/app/ports/0'] },
    { name: 'a string instead of a list', mutate: (j) => (app(j).ports = '3000'), type: 'invalid-port', pointers: ['/containers/app/ports'] },
  ]);
});

describe('healthcheck', () => {
  const hc = (j: Record<string, any>) => app(j).healthcheck;
  run([
    { name: 'type required', mutate: (j) => delete hc(j).type, type: 'invalid-healthcheck', pointers: ['/containers/app/healthcheck/type'] },
    { name: 'unknown type', mutate: (j) => (hc(j).type = 'grpc'), type: 'invalid-healthcheck', pointers: ['/containers/app/healthcheck/type'] },
    { name: 'http without port', mutate: (j) => delete hc(j).port, type: 'invalid-healthcheck', pointers: ['/containers/app/healthcheck/port'] },
    { name: 'http with command', mutate: (j) => (hc(j).command = ['true']), type: 'invalid-healthcheck', pointers: ['/containers/app/healthcheck/command'] },
    { name: 'tcp with path', mutate: (j) => (hc(j).type = 'tcp'), type: 'invalid-healthcheck', pointers: ['/containers/app/healthcheck/path'] },
    { name: 'exec without command', mutate: (j) => (app(j).healthcheck = { type: 'exec' }), type: 'invalid-healthcheck', pointers: ['/containers/app/healthcheck/command'] },
    { name: 'exec with port', mutate: (j) => (app(j).healthcheck = { type: 'exec', command: ['true'], port: 3000 }), type: 'invalid-healthcheck', pointers: ['/containers/app/healthcheck/port'] },
    { name: 'port out of range', mutate: (j) => (hc(j).port = 70000), type: 'invalid-healthcheck', pointers: ['/containers/app/healthcheck/port'] },
    { name: 'path not absolute', mutate: (j) => (hc(j).path = 'healthz'), type: 'invalid-healthcheck', pointers: ['/containers/app/healthcheck/path'] },
    { name: 'timeout not a duration', mutate: (j) => (hc(j).timeout = 'soon'), type: 'invalid-healthcheck', pointers: ['/containers/app/healthcheck/timeout'] },
    { name: 'interval with an unknown unit', mutate: (j) => (hc(j).interval = '5d'), type: 'invalid-healthcheck', pointers: ['/containers/app/healthcheck/interval'] },
    { name: 'healthy_threshold 0', mutate: (j) => (hc(j).healthy_threshold = 0), type: 'invalid-healthcheck', pointers: ['/containers/app/healthcheck/healthy_threshold'] },
    { name: 'unhealthy_threshold fractional', mutate: (j) => (hc(j).unhealthy_threshold = 1.5), type: 'invalid-healthcheck', pointers: ['/containers/app/healthcheck/unhealthy_threshold'] },
    { name: 'unknown field', mutate: (j) => (hc(j).retries = 3), type: 'invalid-healthcheck', pointers: ['/containers/app/healthcheck/retries'] },
  ]);
});

describe('volumes', () => {
  const vol = { type: 'local', path: '/data', space: '1G' };
  run([
    { name: 'unknown type', mutate: (j) => (app(j).volumes = [{ ...vol, type: 'bind' }]), type: 'invalid-volume', pointers: ['/containers/app/volumes/0/type'] },
    { name: 'space required', mutate: (j) => (app(j).volumes = [{ type: 'local', path: '/data' }]), type: 'invalid-volume', pointers: ['/containers/app/volumes/0/space'] },
    { name: 'space not a size', mutate: (j) => (app(j).volumes = [{ ...vol, space: 'big' }]), type: 'invalid-size', pointers: ['/containers/app/volumes/0/space'] },
    { name: 'path relative', mutate: (j) => (app(j).volumes = [{ ...vol, path: 'data' }]), type: 'invalid-volume', pointers: ['/containers/app/volumes/0/path'] },
    { name: 'a map instead of a list', mutate: (j) => (app(j).volumes = vol), type: 'invalid-volume', pointers: ['/containers/app/volumes'] },
  ]);
});

describe('messages name the field and what was expected', () => {
  test('memory', () => {
    const job = validJob();
    app(job).memory = 'lots';
    const p = expectProblem(job, 'invalid-size', ['/containers/app/memory']);
    assert.equal(p.errors![0]!.message, 'containers.app.memory: expected a size like 512M or 2G (or 100Ki, 100Mi, or a number of bytes), got "lots"');
    assert.equal(p.detail, p.errors![0]!.message);
    assert.equal(p.title, 'Invalid size');
    assert.match(p.type, /errors\.md#invalid-size$/);
    assert.equal(p.job, 'web');
    assert.equal(p.file, 'jobs/web.yaml');
  });
  test('unknown field lists the allowed ones', () => {
    const job = validJob();
    app(job).privileged = true;
    const p = expectProblem(job, 'invalid-job', ['/containers/app/privileged']);
    assert.match(p.errors![0]!.message, /^containers\.app\.privileged: unknown field.*allowed here: image, restart, command/);
  });
  test('an unknown field close to an allowed one suggests it', () => {
    const cases: Array<[string, string]> = [['comand', 'command'], ['enviroment', 'environment'], ['memroy', 'memory'], ['replicas', 'numInstances'], ['healthCheck', 'healthcheck'], ['entrypoint', 'command']];
    for (const [typo, meant] of cases) {
      const job = validJob();
      if (meant === 'numInstances') job[typo] = 2;
      else app(job)[typo] = 'x';
      const at = meant === 'numInstances' ? `/${typo}` : `/containers/app/${typo}`;
      const p = expectProblem(job, 'invalid-job', [at]);
      assert.match(p.errors![0]!.message, new RegExp(`unknown field; did you mean \`${meant}\`\\? \\(allowed here:`), typo);
    }
    const far = validJob();
    app(far).privileged = true;
    assert.doesNotMatch(expectProblem(far, 'invalid-job', ['/containers/app/privileged']).errors![0]!.message, /did you mean/);
  });
  test('a missing field says what it should be', () => {
    const job = validJob();
    delete app(job).image;
    const p = expectProblem(job, 'invalid-job', ['/containers/app/image']);
    assert.match(p.errors![0]!.message, /^containers\.app\.image: is required but missing; expected an image reference/);
  });
  test('several errors: all listed, the detail counts them, the type is the first one', () => {
    const job = validJob();
    app(job).memory = 'lots';
    app(job).cpu = 'many';
    const p = expectProblem(job, 'invalid-size', ['/containers/app/memory', '/containers/app/cpu']);
    assert.match(p.detail, /^2 problems; the first: containers\.app\.memory/);
  });
});
