// type: cron in the job format: the normalized policy and its defaults,
// and every refusal, each at the pointer of the field at fault.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_CRON, type JobSpec } from '../../../src/model/job';
import * as D from '../../../src/render/defaults';
import { toRawJob } from '../../../src/render';
import { MAX_CRON_JOB_NAME_LENGTH } from '../../../src/render/job-name';
import { schemaDocument } from '../../../src/render/schema';
import { parseDurationMs } from '../../../src/render/units';
import { expectProblem, renderJob } from './helpers';

/** A valid cron job as jobs/report.yaml, fresh each call. */
function cronJob(extra: Record<string, unknown> = {}): Record<string, any> {
  return { name: 'report', type: 'cron', schedule: '15 */2 * * *', containers: { app: { image: 'localhost/ozy-busybox:1', command: ['/bin/echo', 'hello'] } }, ...extra };
}
const PATH = 'jobs/report.yaml';

function specOf(doc: unknown): JobSpec {
  const r = renderJob(doc, PATH);
  assert.deepEqual(r.problems, []);
  return r.jobs[0]!.spec;
}

describe('a valid cron job', () => {
  test('defaults filled in: DEFAULT_CRON, one pod per run, restart never, numInstances 0', () => {
    const spec = specOf(cronJob());
    assert.equal(spec.type, 'cron');
    assert.equal(spec.numInstances, 0);
    assert.deepEqual(spec.cron, { ...DEFAULT_CRON, schedule: '15 */2 * * *', instances: 1 });
    assert.equal(spec.cron!.activeDeadlineMs, undefined);
    assert.equal(spec.containers[0]!.restart, 'never');
  });
  test('every field given', () => {
    const spec = specOf(
      cronJob({
        schedule: '0 30 1 * * mon-fri',
        timeZone: 'Europe/Berlin',
        concurrency: 'replace',
        startingDeadline: '5m',
        catchUp: 'none',
        activeDeadline: '2h',
        retries: 2,
        history: { succeeded: 10, failed: 0 },
        numInstances: 3,
        stopGrace: '30s',
        placement: { nodeLabels: { disk: 'ssd' } },
      }),
    );
    assert.deepEqual(spec.cron, {
      schedule: '0 30 1 * * mon-fri',
      timeZone: 'Europe/Berlin',
      concurrency: 'replace',
      startingDeadlineMs: 300_000,
      catchUp: 'none',
      activeDeadlineMs: 7_200_000,
      retries: 2,
      history: { succeeded: 10, failed: 0 },
      instances: 3,
    });
    assert.equal(spec.numInstances, 0);
    assert.equal(spec.stopGraceMs, 30_000);
    assert.deepEqual(spec.placement, { nodeLabels: { disk: 'ssd' } });
  });
  test('restart on-failure is allowed; services keep restart always by default', () => {
    const j = cronJob();
    j.containers.app.restart = 'on-failure';
    assert.equal(specOf(j).containers[0]!.restart, 'on-failure');
    const service = renderJob({ name: 'web', containers: { app: { image: 'busybox' } } });
    assert.equal(service.jobs[0]!.spec.containers[0]!.restart, 'always');
  });
  test('a partial history keeps the other default', () => {
    assert.deepEqual(specOf(cronJob({ history: { failed: 7 } })).cron!.history, { succeeded: 3, failed: 7 });
  });
  test('the schema documents the defaults of DEFAULT_CRON', () => {
    const p = (schemaDocument('job') as any).properties;
    assert.equal(p.timeZone.default, DEFAULT_CRON.timeZone);
    assert.equal(p.concurrency.default, DEFAULT_CRON.concurrency);
    assert.equal(parseDurationMs(p.startingDeadline.default), DEFAULT_CRON.startingDeadlineMs);
    assert.equal(p.catchUp.default, DEFAULT_CRON.catchUp);
    assert.equal(p.retries.default, DEFAULT_CRON.retries);
    assert.equal(p.history.properties.succeeded.default, DEFAULT_CRON.history.succeeded);
    assert.equal(p.history.properties.failed.default, DEFAULT_CRON.history.failed);
    assert.equal(p.activeDeadline.default, undefined);
    assert.equal(D.DEFAULT_CRON_RESTART, 'never');
  });
  test('ozy render prints every cron field, numInstances as the pods per run', () => {
    const raw = toRawJob(specOf(cronJob({ numInstances: 2, activeDeadline: '1h' })));
    assert.deepEqual(
      { ...raw, containers: undefined },
      {
        name: 'report',
        type: 'cron',
        schedule: '15 */2 * * *',
        timeZone: 'UTC',
        concurrency: 'forbid',
        startingDeadline: '1m',
        catchUp: 'one',
        activeDeadline: '1h',
        retries: 0,
        history: { succeeded: 3, failed: 3 },
        numInstances: 2,
        containers: undefined,
      },
    );
    assert.equal(raw.containers.app!.restart, 'never');
  });
  test('a schedule change changes nothing else of the spec', () => {
    const a = specOf(cronJob());
    const b = specOf(cronJob({ schedule: '@daily' }));
    assert.deepEqual({ ...a, cron: undefined }, { ...b, cron: undefined });
  });
});

describe('schedule and time zone', () => {
  test('a bad expression: invalid-cron at /schedule, with what is wrong', () => {
    const p = expectProblem(cronJob({ schedule: '61 * * * *' }), 'invalid-cron', ['/schedule'], PATH);
    assert.equal(p.errors![0]!.message, 'schedule: minute field: 61 is out of range 0-59');
  });
  test('wrong field count and impossible days', () => {
    assert.match(expectProblem(cronJob({ schedule: '* * *' }), 'invalid-cron', ['/schedule'], PATH).errors![0]!.message, /expected 5 fields/);
    assert.match(expectProblem(cronJob({ schedule: '0 0 30 2 *' }), 'invalid-cron', ['/schedule'], PATH).errors![0]!.message, /never run/);
  });
  test('an unknown time zone: invalid-cron at /timeZone', () => {
    const p = expectProblem(cronJob({ timeZone: 'Mars/Olympus' }), 'invalid-cron', ['/timeZone'], PATH);
    assert.match(p.errors![0]!.message, /^timeZone: "Mars\/Olympus" is not a time zone: expected an IANA name like UTC/);
  });
  test('type: cron without schedule', () => {
    const j = cronJob();
    delete j.schedule;
    assert.match(expectProblem(j, 'invalid-cron', ['/schedule'], PATH).errors![0]!.message, /is required in a `type: cron` job/);
  });
  test('a schedule that is not a string is the schema\'s', () => {
    expectProblem(cronJob({ schedule: 5 }), 'invalid-job', ['/schedule'], PATH);
  });
});

describe('refusals, each at its field', () => {
  test('cron fields on a job that is not type: cron', () => {
    const doc = { name: 'web', schedule: '* * * * *', timeZone: 'UTC', retries: 1, containers: { app: { image: 'busybox' } } };
    const p = expectProblem(doc, 'invalid-cron', ['/schedule', '/timeZone', '/retries']);
    assert.match(p.errors![0]!.message, /^schedule: applies to `type: cron` jobs only/);
    expectProblem({ name: 'web', type: 'daemon', history: { failed: 1 }, containers: { app: { image: 'busybox' } } }, 'invalid-cron', ['/history']);
  });
  test('restart: always on a cron container', () => {
    const j = cronJob();
    j.containers.app.restart = 'always';
    expectProblem(j, 'invalid-cron', ['/containers/app/restart'], PATH);
  });
  test('ingress, update, spread, zones, onNodeLoss', () => {
    const j = cronJob({
      ingress: [{ host: 'r.example.com', port: 3000 }],
      update: { maxParallel: 1 },
      placement: { spread: 'zones', zones: ['a'] },
      onNodeLoss: 'recreate',
    });
    j.containers.app.ports = ['3000'];
    expectProblem(j, 'invalid-cron', ['/ingress', '/update', '/placement/spread', '/placement/zones', '/onNodeLoss'], PATH);
  });
  test('spread: none is harmless', () => {
    assert.deepEqual(specOf(cronJob({ placement: { spread: 'none' } })).placement, {});
  });
  test('health checks and persistent volumes', () => {
    const j = cronJob();
    j.containers.app.ports = ['3000'];
    j.containers.app.healthcheck = { type: 'tcp', port: 3000 };
    j.containers.app.volumes = [
      { type: 'shared', path: '/shared', space: '1G' },
      { type: 'persistent', path: '/data', space: '1G' },
    ];
    expectProblem(j, 'invalid-cron', ['/containers/app/healthcheck', '/containers/app/volumes/1/type'], PATH);
  });
  test('pods per run: 1 to 1000', () => {
    expectProblem(cronJob({ numInstances: 0 }), 'invalid-cron', ['/numInstances'], PATH);
    expectProblem(cronJob({ numInstances: 1001 }), 'invalid-cron', ['/numInstances'], PATH);
    assert.equal(specOf(cronJob({ numInstances: 1000 })).cron!.instances, 1000);
  });
  test('deadlines out of range', () => {
    expectProblem(cronJob({ startingDeadline: '500ms' }), 'invalid-cron', ['/startingDeadline'], PATH);
    expectProblem(cronJob({ startingDeadline: '25h' }), 'invalid-cron', ['/startingDeadline'], PATH);
    const p = expectProblem(cronJob({ activeDeadline: '169h' }), 'invalid-cron', ['/activeDeadline'], PATH);
    assert.match(p.errors![0]!.message, /from 1s to 168h/);
  });
  test('retries and history bounds are the schema\'s', () => {
    expectProblem(cronJob({ retries: 11 }), 'invalid-job', ['/retries'], PATH);
    expectProblem(cronJob({ history: { succeeded: 101 } }), 'invalid-job', ['/history/succeeded'], PATH);
    expectProblem(cronJob({ concurrency: 'queue' }), 'invalid-job', ['/concurrency'], PATH);
  });
  test(`a cron job's name has at most ${MAX_CRON_JOB_NAME_LENGTH} characters, and the message says so`, () => {
    const ok = 'a'.repeat(MAX_CRON_JOB_NAME_LENGTH);
    assert.equal(renderJob(cronJob({ name: ok }), `jobs/${ok}.yaml`).problems.length, 0);
    // "<name>-<10-digit time>-<3-digit ordinal>" fits a DNS label exactly.
    assert.equal(`${ok}-1798761600-999`.length, 63);
    const long = 'a'.repeat(MAX_CRON_JOB_NAME_LENGTH + 1);
    const p = expectProblem(cronJob({ name: long }), 'invalid-job-name', ['/name'], `jobs/${long}.yaml`);
    assert.match(p.errors![0]!.message, /at most 48 characters/);
  });
});
