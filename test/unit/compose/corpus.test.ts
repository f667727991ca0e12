// The compose corpus (test/fixtures/compose): for each file, the jobs the
// import makes, every key it reports as refused or left out (exactly), and
// the mapping of the keys the file is about. Every output is then written to
// a temporary job repository and judged by `ozy validate`, the code path the
// agents use.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { writeJobFiles } from '../../../src/compose/disk';
import { ComposeError, type ImportResult } from '../../../src/compose/types';
import { tempDir } from '../../harness/tmp';
import { runCli } from '../cli/run-cli';
import { containerOf, corpusFiles, importFixture, jobOf, losses } from './corpus';

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

interface Case {
  file: string;
  pod?: string;
  env?: Record<string, string>;
  /** `clean`: exit 0; `partial`: exit 3; `none`: exit 1 (nothing importable); `error`: not a compose file / fatal. */
  outcome: 'clean' | 'partial' | 'none' | 'error';
  jobs?: string[];
  losses?: Array<[string, string]>;
  check?: (r: ImportResult) => void;
  error?: RegExp;
}

const CASES: Case[] = [
  {
    file: 'minimal.yml',
    outcome: 'clean',
    jobs: ['hello'],
    losses: [],
    check: (r) => {
      assert.deepEqual(r.findings, [], 'not even a note');
      assert.deepEqual(jobOf(r, 'hello'), {
        name: 'hello',
        containers: {
          hello: { image: 'localhost/ozy-busybox:1', command: ['/bin/httpd', '-f', '-p', '8000', '-h', '/www'], ports: ['8080:8000'], restart: 'always', memory: '16M', cpu: '50m' },
        },
      });
    },
  },
  {
    file: 'command-forms.yml',
    outcome: 'partial',
    jobs: ['string-command', 'list-command', 'entrypoint-and-command', 'entrypoint-list', 'empty-command'],
    losses: [['left-out', 'services.empty-command.command']],
    check: (r) => {
      assert.deepEqual(containerOf(r, 'string-command').command, ['sh', '-c', 'echo "hello $HOSTNAME" && sleep 3600']);
      assert.deepEqual(containerOf(r, 'list-command').command, ['sleep', '3600']);
      assert.deepEqual(containerOf(r, 'entrypoint-and-command').command, ['/bin/sh', '-c', 'echo hi; sleep 3600']);
      assert.deepEqual(containerOf(r, 'entrypoint-list').command, ['/bin/sleep', '3600']);
      assert.equal(containerOf(r, 'empty-command').command, undefined);
      assert.ok(r.findings.some((f) => f.kind === 'note' && f.path === 'services.entrypoint-and-command.entrypoint'));
    },
  },
  {
    file: 'ports.yml',
    outcome: 'partial',
    jobs: ['short', 'lossy', 'long'],
    losses: [
      ['left-out', 'services.lossy.ports[0]'],
      ['left-out', 'services.lossy.ports[1]'],
      ['left-out', 'services.lossy.ports[2]'],
      ['left-out', 'services.lossy.ports[3]'],
      ['left-out', 'services.lossy.ports[3]'],
      ['left-out', 'services.lossy.ports[4]'],
      ['left-out', 'services.long.ports[3].name'],
      ['left-out', 'services.long.ports[3].app_protocol'],
      ['left-out', 'services.long.ports[3]'],
    ],
    check: (r) => {
      // "3000" stays a container port; ranges are expanded pairwise; 0.0.0.0 is the default; expose adds 9100, and 80 is there already.
      assert.deepEqual(containerOf(r, 'short').ports, ['3000', '8080:80', '5000', '6060:6060/udp', '3001', '3002', '9090:8080', '9091:8081', '8443:443', '9100']);
      assert.deepEqual(containerOf(r, 'lossy').ports, ['8001:8001', '6001:6001', '80', '5432']);
      assert.deepEqual(containerOf(r, 'long').ports, ['8081:80', '5353:53/udp', '9000', '9443:9443']);
      assert.match(r.findings.find((f) => f.path === 'services.lossy.ports[4]')!.why, /sctp/);
    },
  },
  {
    file: 'depends-on.yml',
    outcome: 'partial',
    jobs: ['web', 'api', 'db', 'migrate'],
    losses: [
      ['left-out', 'services.web.depends_on[0]'],
      ['left-out', 'services.api.depends_on.db.restart'],
      ['left-out', 'services.api.depends_on.db'],
      ['left-out', 'services.api.depends_on.migrate'],
    ],
    check: (r) => {
      assert.match(r.findings.find((f) => f.path === 'services.web.depends_on[0]')!.why, /api is a job of its own.*--pod/);
      assert.equal(containerOf(r, 'web').depends_on, undefined);
    },
  },
  {
    file: 'depends-on.yml',
    pod: 'stack',
    outcome: 'partial',
    jobs: ['stack'],
    losses: [
      ['left-out', 'services.api.depends_on.db.restart'],
      ['left-out', 'services.api.depends_on.migrate.condition'],
    ],
    check: (r) => {
      assert.deepEqual(Object.keys(jobOf(r, 'stack').containers), ['web', 'api', 'db', 'migrate']);
      assert.deepEqual(containerOf(r, 'stack', 'web').depends_on, ['api']);
      assert.deepEqual(containerOf(r, 'stack', 'api').depends_on, ['db', 'migrate']);
      assert.equal(containerOf(r, 'stack', 'migrate').restart, 'never');
    },
  },
  {
    file: 'healthcheck.yml',
    outcome: 'partial',
    jobs: ['cmd', 'cmd-shell', 'string-form', 'none', 'disabled', 'image-default'],
    losses: [
      ['left-out', 'services.string-form.healthcheck.start_period'],
      ['left-out', 'services.string-form.healthcheck.start_interval'],
      ['left-out', 'services.image-default.healthcheck'],
    ],
    check: (r) => {
      assert.deepEqual(containerOf(r, 'cmd').healthcheck, { type: 'exec', command: ['curl', '-f', 'http://localhost'], interval: '90s', timeout: '10s', unhealthy_threshold: 5 });
      assert.deepEqual(containerOf(r, 'cmd-shell').healthcheck, {
        type: 'exec',
        command: ['/bin/sh', '-c', 'curl -f http://localhost || exit 1'],
        interval: '500ms',
        timeout: '1500ms',
        unhealthy_threshold: 3,
      });
      // The string form is CMD-SHELL; Docker's defaults are written out.
      assert.deepEqual(containerOf(r, 'string-form').healthcheck, {
        type: 'exec',
        command: ['/bin/sh', '-c', 'curl -f http://localhost || exit 1'],
        interval: '30s',
        timeout: '30s',
        unhealthy_threshold: 3,
      });
      for (const name of ['none', 'disabled', 'image-default']) assert.equal(containerOf(r, name).healthcheck, undefined, name);
    },
  },
  {
    file: 'restart.yml',
    outcome: 'partial',
    jobs: ['no', 'always', 'on-failure', 'on-failure-3', 'unless-stopped', 'policy-none', 'policy-on-failure', 'unset'],
    losses: [
      ['left-out', 'services.on-failure-3.restart'],
      ['left-out', 'services.policy-on-failure.deploy.restart_policy.max_attempts'],
    ],
    check: (r) => {
      const got = r.jobs.map((j) => [j.name, Object.values(j.job.containers)[0]!.restart]);
      assert.deepEqual(got, [
        ['no', 'never'],
        ['always', 'always'],
        ['on-failure', 'on-failure'],
        ['on-failure-3', 'on-failure'],
        ['unless-stopped', 'always'],
        ['policy-none', 'never'],
        ['policy-on-failure', 'on-failure'],
        ['unset', 'always'],
      ]);
      assert.ok(r.findings.some((f) => f.kind === 'note' && f.path === 'services.unless-stopped.restart'));
      assert.ok(r.findings.some((f) => f.kind === 'note' && f.path === 'services.unset' && /Compose's default is `no`/.test(f.why)));
    },
  },
  {
    file: 'resources.yml',
    outcome: 'partial',
    jobs: ['deploy-limits', 'service-level', 'both', 'none', 'tiny'],
    losses: [['left-out', 'services.deploy-limits.deploy.resources.reservations']],
    check: (r) => {
      const res = (n: string) => {
        const c = containerOf(r, n);
        return [c.memory, c.cpu, c.pids];
      };
      assert.deepEqual(res('deploy-limits'), ['512M', '1500m', 100]);
      assert.deepEqual(res('service-level'), ['1G', '250m', 200]);
      assert.deepEqual(res('both'), ['256M', '500m', undefined], 'deploy wins');
      assert.deepEqual(res('none'), ['128M', '100m', undefined], 'the job format defaults, written out');
      assert.deepEqual(res('tiny'), ['6M', '10m', undefined], 'raised to the minimums');
      assert.ok(r.findings.some((f) => f.kind === 'note' && f.path === 'services.none' && /memory 128M and cpu 100m/.test(f.why)));
      assert.ok(r.findings.some((f) => f.kind === 'note' && f.path === 'services.both.mem_limit'));
    },
  },
  {
    file: 'replicas.yml',
    outcome: 'clean',
    jobs: ['replicated', 'scaled', 'stopped', 'everywhere'],
    losses: [],
    check: (r) => {
      assert.equal(jobOf(r, 'replicated').numInstances, 3);
      assert.equal(jobOf(r, 'scaled').numInstances, 2);
      assert.equal(jobOf(r, 'stopped').numInstances, 0);
      assert.equal(jobOf(r, 'everywhere').type, 'daemon');
      assert.equal(jobOf(r, 'everywhere').numInstances, undefined);
    },
  },
  {
    file: 'volumes.yml',
    outcome: 'partial',
    jobs: ['db', 'cache', 'binds'],
    losses: [
      ['left-out', 'volumes.logs.external'],
      ['left-out', 'services.db.volumes[3]'],
      ['left-out', 'services.cache.volumes[1]'],
      ['refused', 'services.binds.volumes[0]'],
      ['refused', 'services.binds.volumes[1]'],
      ['refused', 'services.binds.volumes[2]'],
    ],
    check: (r) => {
      assert.deepEqual(containerOf(r, 'db').volumes, [
        { type: 'persistent', path: '/var/lib/postgresql/data', space: '1G' },
        { type: 'persistent', path: '/etc/postgresql', space: '1G' },
        { type: 'local', path: '/scratch', space: '1G' },
        { type: 'persistent', path: '/var/log/postgresql', space: '1G' },
        { type: 'local', path: '/run', space: '32M' },
        { type: 'local', path: '/tmp', space: '64M' },
      ]);
      assert.deepEqual(containerOf(r, 'cache').volumes, [
        { type: 'local', path: '/data', space: 100000000 },
        { type: 'persistent', path: '/shared', space: '1G' },
      ]);
      assert.equal(containerOf(r, 'binds').volumes, undefined);
      assert.match(r.findings.find((f) => f.path === 'services.binds.volumes[1]')!.why, /no host paths/);
    },
  },
  {
    file: 'refusals.yml',
    outcome: 'partial',
    jobs: ['privileged', 'host-network', 'capabilities', 'devices', 'host-namespaces', 'harmless-defaults'],
    losses: [
      ['refused', 'services.privileged.privileged'],
      ['refused', 'services.host-network.network_mode'],
      ['refused', 'services.capabilities.cap_add'],
      ['refused', 'services.devices.devices'],
      ['refused', 'services.host-namespaces.pid'],
      ['refused', 'services.host-namespaces.ipc'],
      ['refused', 'services.host-namespaces.security_opt'],
      ['refused', 'services.host-namespaces.sysctls'],
    ],
    check: (r) => {
      for (const f of r.findings.filter((x) => x.kind === 'refused')) assert.match(f.why, /docs\/security\.md/, f.path);
    },
  },
  {
    file: 'build.yml',
    outcome: 'partial',
    jobs: ['built-and-pushed'],
    losses: [
      ['left-out', 'services.built-only'],
      ['left-out', 'services.built-and-pushed.build'],
    ],
    check: (r) => {
      assert.match(r.findings.find((f) => f.path === 'services.built-only')!.why, /`build:` and no `image:`.*no registry/);
      assert.ok(!r.findings.some((f) => f.service === 'built-only' && f.kind === 'note'), 'no notes for a service that is not imported');
      assert.equal(containerOf(r, 'built-and-pushed').image, 'registry.example.com/team/app:1.2');
    },
  },
  { file: 'build-only.yml', outcome: 'none', jobs: [], losses: [['left-out', 'services.app'], ['left-out', 'services.tool']] },
  {
    file: 'unsupported-keys.yml',
    outcome: 'partial',
    jobs: ['app'],
    losses: [
      ['left-out', 'networks'],
      ['left-out', 'secrets'],
      ['left-out', 'configs'],
      ['left-out', 'services.app.working_dir'],
      ['left-out', 'services.app.labels'],
      ['left-out', 'services.app.networks'],
      ['left-out', 'services.app.hostname'],
      ['left-out', 'services.app.container_name'],
      ['left-out', 'services.app.logging'],
      ['left-out', 'services.app.init'],
      ['left-out', 'services.app.colour'],
    ],
    check: (r) => {
      assert.equal(jobOf(r, 'app').stopGrace, '90s');
      assert.equal(containerOf(r, 'app').user, '1000:1000');
      assert.equal(containerOf(r, 'app').readOnlyRootfs, true);
      assert.match(r.findings.find((f) => f.path === 'services.app.colour')!.why, /not a service key/);
      assert.ok(!r.findings.some((f) => /x-/.test(f.path)), 'extension fields are ignored');
    },
  },
  {
    file: 'names.yml',
    outcome: 'clean',
    jobs: ['web-app', 'web-app-2', 'a-service-name-that-is-much-longer-than-a-job-name-m'],
    losses: [],
    check: (r) => {
      assert.deepEqual(r.jobs.map((j) => j.services), [['Web_App'], ['web.app'], ['a-service-name-that-is-much-longer-than-a-job-name-may-be-at-all']]);
      assert.ok(r.findings.some((f) => f.kind === 'note' && f.path === 'services["web.app"]' && /web-app-2/.test(f.why)));
    },
  },
  {
    file: 'interpolation/compose.yaml',
    env: { TAG: 'from-shell' },
    outcome: 'clean',
    jobs: ['app'],
    losses: [],
    check: (r) => {
      const c = containerOf(r, 'app');
      assert.equal(c.image, 'registry.example.com/app:from-shell', 'the environment wins over .env');
      assert.deepEqual(c.command, ['echo', '$HOME stays', 'hi world', 'was-empty', '', 'unset-default', 'set', 'nested', '']);
      assert.deepEqual(c.environment, { PORT: '8080', DB_URL: 'postgres://app:s3cr$t@db/app' });
      assert.deepEqual([c.ports, c.memory, jobOf(r, 'app').numInstances], [['8080:8080'], '128M', 2]);
      assert.ok(r.findings.some((f) => f.kind === 'note' && f.path === 'services.app.command[8]' && /MISSING is not set/.test(f.why)));
      const secretNote = r.findings.find((f) => f.path === 'services.app.environment')!;
      assert.match(secretNote.why, /DB_URL.*ozy secret encrypt/);
      assert.ok(!JSON.stringify(r.findings).includes('s3cr$t'), 'no value in a finding');
    },
  },
  { file: 'interpolation-required/compose.yaml', outcome: 'error', error: /required variable DB_PASSWORD is not set: set DB_PASSWORD in \.env/ },
  {
    file: 'env-file/compose.yaml',
    env: {},
    outcome: 'partial',
    jobs: ['app'],
    losses: [['left-out', 'services.app.env_file[3]']],
    check: (r) => {
      assert.deepEqual(containerOf(r, 'app').environment, {
        LOG_LEVEL: 'debug',
        API_KEY: 'abc123',
        QUOTED: 'a "quoted" value\twith tab',
        LITERAL: '${NOT_INTERPOLATED}',
        REF: 'info-ref',
        RAW: '$keep "quotes" as-is',
      });
      assert.match(r.findings.find((f) => f.path === 'services.app.env_file[3]')!.why, /outside the compose file's directory/);
      assert.match(r.findings.find((f) => f.path === 'services.app.env_file[0]')!.why, /5 variables from app\.env .*secret/);
      assert.ok(!JSON.stringify(r.findings).includes('abc123'), 'no value in a finding');
    },
  },
  {
    file: 'web-db-cache.yml',
    env: { POSTGRES_PASSWORD: 'from-env' },
    outcome: 'partial',
    jobs: ['web', 'db', 'cache'],
    losses: [
      ['left-out', 'services.web.build'],
      ['left-out', 'services.web.healthcheck.start_period'],
      ['left-out', 'services.web.depends_on.db'],
      ['left-out', 'services.web.depends_on.cache'],
    ],
    check: (r) => {
      assert.equal(jobOf(r, 'web').numInstances, 2);
      assert.deepEqual([containerOf(r, 'web').memory, containerOf(r, 'web').cpu, containerOf(r, 'web').restart], ['512M', '1', 'always']);
      assert.equal((containerOf(r, 'db').environment as Record<string, string>).POSTGRES_PASSWORD, 'from-env');
      assert.deepEqual(containerOf(r, 'cache').command, ['redis-server', '--save', '60', '1', '--loglevel', 'warning']);
      assert.deepEqual(containerOf(r, 'cache').healthcheck?.type, 'exec');
      assert.ok(r.findings.some((f) => f.path === 'name' && f.kind === 'note'));
    },
  },
  {
    file: 'web-db-cache.yml',
    pod: 'shop',
    outcome: 'partial',
    jobs: ['shop'],
    losses: [
      ['left-out', 'services.web.build'],
      ['left-out', 'services.web.healthcheck.start_period'],
      ['left-out', 'services.db'],
      ['left-out', 'services.cache'],
    ],
    check: (r) => {
      assert.equal(jobOf(r, 'shop').numInstances, 2);
      assert.deepEqual(containerOf(r, 'shop', 'web').depends_on, ['db', 'cache']);
      assert.match(r.findings.find((f) => f.path === 'services.db' && f.kind === 'left-out')!.why, /a pod runs as a whole: it gets 2/);
    },
  },
  { file: 'wordpress.yml', outcome: 'clean', jobs: ['db', 'wordpress'], losses: [] },
  {
    file: 'pod-sidecar.yml',
    pod: 'web',
    outcome: 'clean',
    jobs: ['web'],
    losses: [],
    check: (r) => {
      assert.equal(jobOf(r, 'web').numInstances, 2);
      assert.deepEqual(containerOf(r, 'web', 'shipper').depends_on, ['app']);
    },
  },
  {
    file: 'pod-sidecar.yml',
    outcome: 'partial',
    jobs: ['app', 'shipper'],
    losses: [
      ['left-out', 'services.shipper.depends_on[0]'],
      ['left-out', 'services.shipper.network_mode'],
    ],
  },
  { file: 'not-compose.yml', outcome: 'error', error: /not a Compose file: expected a mapping with `services:`/ },
  { file: 'invalid-yaml.yml', outcome: 'error', error: /not a Compose file: .*line 3/ },
  { file: 'yaml-bomb.yml', outcome: 'error', error: /not a Compose file: the document uses more than 32 aliases/ },
];

describe('the compose corpus', () => {
  test('every file of the corpus has a case', () => {
    const covered = new Set(CASES.map((c) => c.file));
    assert.deepEqual(corpusFiles().filter((f) => !covered.has(f)), []);
  });

  for (const c of CASES) {
    test(`${c.file}${c.pod ? ` --pod ${c.pod}` : ''}: ${c.outcome}`, async () => {
      const run = () => importFixture(c.file, { ...(c.pod ? { pod: c.pod } : {}), ...(c.env ? { env: c.env } : {}) });
      if (c.outcome === 'error') {
        assert.throws(run, (err: unknown) => err instanceof ComposeError && c.error!.test(err.message));
        return;
      }
      const r = run();
      if (c.jobs) assert.deepEqual(r.jobs.map((j) => j.name), c.jobs);
      if (c.losses) assert.deepEqual(losses(r), c.losses);
      const lost = losses(r).length > 0;
      assert.equal(c.outcome === 'none' ? r.jobs.length === 0 : c.outcome === 'partial' ? lost && r.jobs.length > 0 : !lost && r.jobs.length > 0, true, c.outcome);
      c.check?.(r);
      if (r.jobs.length > 0) await assertValidates(r);
    });
  }
});

/** Written to a fresh job repository, the output passes `ozy validate`, job by job. */
async function assertValidates(r: ImportResult): Promise<void> {
  const { dir, cleanup } = tempDir('ozy-compose-');
  cleanups.push(cleanup);
  const written = writeJobFiles(dir, r.jobs);
  assert.ok(written.ok);
  const v = await runCli(['validate', dir], '/');
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, new RegExp(`^ok: ${r.jobs.length} valid jobs?`));
  for (const j of r.jobs) assert.match(j.text, /^# Imported from \S+ \(services? [^)]+\) by `ozy import compose`\.\n/);
}
