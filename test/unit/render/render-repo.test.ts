// renderRepo as the agent uses it: which files it reads, how problems are
// keyed, that one bad file hides nothing, charts, settings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { problemTypeOf } from '../../../src/problems';
import { isRelevantPath, renderRepo, type RepoFile } from '../../../src/render';
import type { Chart } from '../../../src/render/charts';
import { jobFile, typesOf, validJob } from './helpers';

describe('isRelevantPath: what the git source reads', () => {
  for (const p of ['jobs/web.yaml', 'jobs/a/b/web.yml', 'jobs/web/Chart.yaml', 'jobs/web/templates/_helpers.tpl', 'ozy.yaml']) {
    test(`reads ${p}`, () => assert.equal(isRelevantPath(p), true));
  }
  for (const p of ['README.md', 'web.yaml', 'jobs/notes.txt', 'rejections/web.json', 'src/jobs/web.yaml', 'a/ozy.yaml', 'jobs/.yaml.swp']) {
    test(`skips ${p}`, () => assert.equal(isRelevantPath(p), false));
  }
});

describe('problem keys, files and jobs', () => {
  test('an unparsable file is keyed by its path and names no job', () => {
    const r = renderRepo([{ path: 'jobs/web.yaml', content: 'name: [' }]);
    assert.equal(r.problems.length, 1);
    const [e] = r.problems;
    assert.deepEqual([e!.key, e!.file, e!.job, e!.problem.file, problemTypeOf(e!.problem)], ['jobs/web.yaml', 'jobs/web.yaml', undefined, 'jobs/web.yaml', 'unparsable-yaml']);
    assert.equal(e!.problem.line, 1);
  });
  test('an invalid job is keyed by its name and sets job', () => {
    const j = validJob();
    j.containers.app.memory = 'lots';
    const r = renderRepo([jobFile(j)]);
    assert.deepEqual(r.problems.map((p) => [p.key, p.file, p.job, p.problem.job]), [['web', 'jobs/web.yaml', 'web', 'web']]);
  });
  test('a job whose name is wrong is keyed by the file base name (the name it stands for)', () => {
    const r = renderRepo([jobFile(validJob('Other'))]);
    assert.deepEqual(r.problems.map((p) => [p.key, p.job]), [['web', 'web']]);
  });
  test('a file whose base name is not a job name is keyed by its path', () => {
    const r = renderRepo([jobFile(validJob('web'), 'jobs/Web.yaml')]);
    assert.deepEqual(r.problems.map((p) => [p.key, p.job]), [['jobs/Web.yaml', undefined]]);
  });
  test('the commit is copied into every problem', () => {
    const r = renderRepo([{ path: 'jobs/a.yaml', content: '[' }, jobFile(validJob('x'), 'jobs/b.yaml'), { path: 'ozy.yaml', content: 'nope: 1' }], { commit: 'deadbeef' });
    assert.equal(r.problems.length, 3);
    for (const p of r.problems) assert.equal(p.problem.commit, 'deadbeef');
  });
  test('problems are sorted by key', () => {
    const r = renderRepo([{ path: 'jobs/z.yaml', content: '[' }, jobFile(validJob('b'), 'jobs/a.yaml'), { path: 'jobs/c.yaml', content: '' }]);
    assert.deepEqual(r.problems.map((p) => p.key), ['a', 'c', 'jobs/z.yaml']);
  });
  test('an empty job file is a problem, not silently nothing', () => {
    const r = renderRepo([{ path: 'jobs/web.yaml', content: '# nothing yet\n' }]);
    assert.deepEqual(typesOf(r), ['invalid-job']);
    assert.equal(r.problems[0]!.job, 'web');
  });
});

describe('one bad file never hides the others', () => {
  test('each file is judged on its own', () => {
    const files: RepoFile[] = [
      jobFile(validJob('a'), 'jobs/a.yaml'),
      { path: 'jobs/b.yaml', content: 'name: [' },
      { path: 'jobs/c.yaml', content: 'x'.repeat(2 * 1024 * 1024) },
      { path: 'jobs/d.yaml', content: '', kind: 'symlink' },
      jobFile(validJob('e'), 'jobs/sub/dir/e.yaml'),
      { path: 'jobs/../f.yaml', content: '' },
      jobFile({ name: 'g' }, 'jobs/g.yaml'),
      { path: 'README.md', content: '# not a job' },
      { path: 'jobs/notes.txt', content: 'not a job either' },
    ];
    const r = renderRepo(files);
    assert.deepEqual(r.jobs.map((j) => [j.spec.name, j.file]), [
      ['a', 'jobs/a.yaml'],
      ['e', 'jobs/sub/dir/e.yaml'],
    ]);
    assert.deepEqual(r.problems.map((p) => [p.file, problemTypeOf(p.problem)]).sort(), [
      ['jobs/../f.yaml', 'unsafe-path'],
      ['jobs/b.yaml', 'unparsable-yaml'],
      ['jobs/c.yaml', 'file-too-large'],
      ['jobs/d.yaml', 'symlink-refused'],
      ['jobs/g.yaml', 'invalid-job'],
    ]);
  });
  test('content may be bytes (UTF-8, with or without BOM)', () => {
    const text = JSON.stringify(validJob());
    const r = renderRepo([{ path: 'jobs/web.yaml', content: new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from(text)]) }]);
    assert.deepEqual(r.problems, []);
    assert.equal(r.jobs.length, 1);
  });
  test('the same input renders the same result (pure)', () => {
    const files = [jobFile(validJob('a'), 'jobs/a.yaml'), { path: 'jobs/b.yaml', content: '[' }];
    assert.deepEqual(renderRepo(files, { commit: 'x' }), renderRepo([...files].reverse(), { commit: 'x' }));
  });
});

describe('ozy.yaml settings', () => {
  test('defaults when absent', () => {
    assert.deepEqual(renderRepo([]).settings, { deletionGuard: { maxDeleteShare: 0.5, allowDeleteAll: false }, rebalance: false, secretRecipients: [] });
  });
  test('defaults when empty', () => {
    const r = renderRepo([{ path: 'ozy.yaml', content: '' }]);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.settings, { deletionGuard: { maxDeleteShare: 0.5, allowDeleteAll: false }, rebalance: false, secretRecipients: [] });
  });
  test('parsed', () => {
    const r = renderRepo([{ path: 'ozy.yaml', content: 'deletionGuard:\n  maxDeleteShare: 0.9\n  allowDeleteAll: true\n' }]);
    assert.deepEqual(r.settings, { deletionGuard: { maxDeleteShare: 0.9, allowDeleteAll: true }, rebalance: false, secretRecipients: [] });
  });
  test('secrets.recipients', () => {
    const r = renderRepo([{ path: 'ozy.yaml', content: 'secrets:\n  recipients: [age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p]\n' }]);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.settings.secretRecipients, ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p']);
    const bad = renderRepo([{ path: 'ozy.yaml', content: 'secrets: {recipients: [ssh-rsa AAAA]}\n' }]);
    assert.deepEqual(bad.problems.map((p) => p.problem.errors?.map((e) => e.pointer)), [['/secrets/recipients/0']]);
  });
  test('partially given: the rest defaults', () => {
    const r = renderRepo([{ path: 'ozy.yaml', content: 'deletionGuard: {allowDeleteAll: true}' }]);
    assert.deepEqual(r.settings, { deletionGuard: { maxDeleteShare: 0.5, allowDeleteAll: true }, rebalance: false, secretRecipients: [] });
  });
  const bad: Array<[string, string, string]> = [
    ['share above 1', 'deletionGuard: {maxDeleteShare: 2}', '/deletionGuard/maxDeleteShare'],
    ['share not a number', 'deletionGuard: {maxDeleteShare: half}', '/deletionGuard/maxDeleteShare'],
    ['allowDeleteAll a string', 'deletionGuard: {allowDeleteAll: "yes"}', '/deletionGuard/allowDeleteAll'],
    ['unknown setting', 'deleteGuard: {allowDeleteAll: true}', '/deleteGuard'],
    ['not a map', '- a', ''],
  ];
  for (const [name, content, pointer] of bad) {
    test(`invalid (${name}): a problem, and the cautious defaults apply`, () => {
      const r = renderRepo([{ path: 'ozy.yaml', content }, jobFile(validJob())]);
      assert.equal(r.jobs.length, 1);
      assert.deepEqual(r.problems.map((p) => [p.key, p.file, problemTypeOf(p.problem), p.problem.errors?.map((e) => e.pointer)]), [['ozy.yaml', 'ozy.yaml', 'invalid-settings', [pointer]]]);
      assert.deepEqual(r.settings, { deletionGuard: { maxDeleteShare: 0.5, allowDeleteAll: false }, rebalance: false, secretRecipients: [] });
    });
  }
  test('unparsable ozy.yaml', () => {
    const r = renderRepo([{ path: 'ozy.yaml', content: 'a: [' }]);
    assert.deepEqual(typesOf(r), ['invalid-settings']);
  });
});

// A small chart for these tests, independent of the shipped ones.
const CHART_YAML = 'apiVersion: v2\nname: svc\nversion: 0.1.0\n';
const VALUES_YAML = 'replicas: 2\nport: 8000\nimage: localhost/ozy-busybox:1\n';
const TEMPLATE = `name: {{ .Release.Name }}
numInstances: {{ .Values.replicas }}
containers:
  web:
    image: {{ .Values.image | quote }}
    ports: [{{ .Values.port | quote }}]
    healthcheck: {type: tcp, port: {{ .Values.port }}}
`;

function chartDir(root: string, template = TEMPLATE, extra: Record<string, string> = {}): RepoFile[] {
  return [
    { path: `${root}/Chart.yaml`, content: CHART_YAML },
    { path: `${root}/values.yaml`, content: VALUES_YAML },
    { path: `${root}/templates/job.yaml`, content: template },
    ...Object.entries(extra).map(([p, content]) => ({ path: `${root}/${p}`, content })),
  ];
}

const BUILTIN: Map<string, Chart> = new Map([['svc', { name: 'svc', chartYaml: CHART_YAML, valuesYaml: VALUES_YAML, templates: { 'job.yaml': TEMPLATE } }]]);

describe('chart directories under jobs/', () => {
  test('render into jobs; the chart files are not job files', () => {
    const r = renderRepo(chartDir('jobs/svc'));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.jobs.map((j) => [j.spec.name, j.spec.numInstances, j.file]), [['svc', 2, 'jobs/svc']]);
  });
  test('a template can produce several jobs, separated by ---', () => {
    const two = `${TEMPLATE}---\n${TEMPLATE.replace('name: {{ .Release.Name }}', 'name: {{ .Release.Name }}-admin')}`;
    const r = renderRepo(chartDir('jobs/team/svc', two));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.jobs.map((j) => [j.spec.name, j.file]), [
      ['svc', 'jobs/team/svc'],
      ['svc-admin', 'jobs/team/svc'],
    ]);
  });
  test('a template error: template-error with file and line, keyed by the chart directory', () => {
    const r = renderRepo([...chartDir('jobs/svc', 'name: web\nnumInstances: {{ .Values.replicas | nosuchfunction }}\n'), jobFile(validJob('other'), 'jobs/other.yaml')]);
    assert.deepEqual(r.jobs.map((j) => j.spec.name), ['other']);
    assert.equal(r.problems.length, 1);
    const [e] = r.problems;
    assert.deepEqual([e!.key, e!.file, e!.job, problemTypeOf(e!.problem), e!.problem.file, e!.problem.line], ['jobs/svc', 'jobs/svc', undefined, 'template-error', 'jobs/svc/templates/job.yaml', 2]);
    assert.match(e!.problem.errors![0]!.message, /^templates\/job\.yaml:2/);
  });
  test('`required` fails with the chart author\'s message', () => {
    const r = renderRepo(chartDir('jobs/svc', 'name: {{ required "a name is required" .Values.name }}\n'));
    assert.deepEqual(typesOf(r), ['template-error']);
    assert.match(r.problems[0]!.problem.detail, /a name is required/);
  });
  test('rendered output that is not YAML', () => {
    const r = renderRepo(chartDir('jobs/svc', 'name: [\n'));
    assert.deepEqual(typesOf(r), ['unparsable-yaml']);
    assert.equal(r.problems[0]!.problem.file, 'jobs/svc/templates/job.yaml');
  });
  test('a rendered job that is invalid: keyed by its name, pointers into the rendered document', () => {
    const r = renderRepo(chartDir('jobs/svc', TEMPLATE.replace('ports: [', 'memory: lots\n    ports: [')));
    assert.deepEqual(r.problems.map((p) => [p.key, p.file, p.job, problemTypeOf(p.problem), p.problem.file, p.problem.errors![0]!.pointer]), [
      ['svc', 'jobs/svc', 'svc', 'invalid-size', 'jobs/svc/templates/job.yaml', '/containers/web/memory'],
    ]);
  });
  test('a chart without templates', () => {
    const r = renderRepo([{ path: 'jobs/svc/Chart.yaml', content: CHART_YAML }]);
    assert.deepEqual(r.problems.map((p) => [p.file, problemTypeOf(p.problem)]), [['jobs/svc', 'invalid-chart']]);
  });
  test('a chart file that is refused holds the whole chart back', () => {
    const files = chartDir('jobs/svc');
    files.push({ path: 'jobs/svc/templates/extra.yaml', content: '', kind: 'symlink' });
    const r = renderRepo(files);
    assert.deepEqual(r.jobs, []);
    assert.deepEqual(r.problems.map((p) => [p.key, p.file, problemTypeOf(p.problem)]).sort(), [
      ['jobs/svc', 'jobs/svc', 'invalid-chart'],
      ['jobs/svc/templates/extra.yaml', 'jobs/svc/templates/extra.yaml', 'symlink-refused'],
    ]);
  });
  test('a chart nested in a chart belongs to the outer one', () => {
    const r = renderRepo([...chartDir('jobs/svc'), ...chartDir('jobs/svc/charts/inner')]);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.jobs.map((j) => j.spec.name), ['svc']);
  });
  test('a chart job named like a job file: both get duplicate-job-name', () => {
    const r = renderRepo([...chartDir('jobs/svc'), jobFile(validJob('svc'), 'jobs/other/svc.yaml')]);
    assert.deepEqual(r.jobs, []);
    assert.deepEqual(r.problems.map((p) => [p.file, problemTypeOf(p.problem)]).sort(), [
      ['jobs/other/svc.yaml', 'duplicate-job-name'],
      ['jobs/svc', 'duplicate-job-name'],
    ]);
  });
});

describe('chart references: chart: ozy/<name>', () => {
  test('render with the file base name as release name and values merged', () => {
    const r = renderRepo([{ path: 'jobs/api.yaml', content: 'chart: ozy/svc\nvalues:\n  replicas: 5\n' }], { builtinCharts: BUILTIN });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.jobs.map((j) => [j.spec.name, j.spec.numInstances, j.file]), [['api', 5, 'jobs/api.yaml']]);
  });
  test('values are optional', () => {
    const r = renderRepo([{ path: 'jobs/api.yaml', content: 'chart: ozy/svc\n' }], { builtinCharts: BUILTIN });
    assert.deepEqual(r.jobs.map((j) => j.spec.numInstances), [2]);
  });
  test('an unknown chart', () => {
    const r = renderRepo([{ path: 'jobs/api.yaml', content: 'chart: ozy/nope\n' }], { builtinCharts: BUILTIN });
    assert.deepEqual(r.problems.map((p) => [p.key, p.job, problemTypeOf(p.problem), p.problem.errors![0]!.pointer]), [['api', 'api', 'invalid-chart', '/chart']]);
    assert.match(r.problems[0]!.problem.errors![0]!.message, /expected one of the shipped charts \(ozy\/svc\), got "ozy\/nope"/);
  });
  test('without builtinCharts no chart is known (rendering stays pure)', () => {
    const r = renderRepo([{ path: 'jobs/api.yaml', content: 'chart: ozy/svc\n' }]);
    assert.deepEqual(typesOf(r), ['invalid-chart']);
  });
  test('a chart reference with other fields', () => {
    const r = renderRepo([{ path: 'jobs/api.yaml', content: 'chart: ozy/svc\nnumInstances: 3\n' }], { builtinCharts: BUILTIN });
    assert.deepEqual(r.problems.map((p) => [problemTypeOf(p.problem), p.problem.errors![0]!.pointer]), [['invalid-chart', '/numInstances']]);
  });
  test('a malformed chart name', () => {
    const r = renderRepo([{ path: 'jobs/api.yaml', content: 'chart: ../../etc\n' }], { builtinCharts: BUILTIN });
    assert.deepEqual(r.problems.map((p) => [problemTypeOf(p.problem), p.problem.errors![0]!.pointer]), [['invalid-chart', '/chart']]);
  });
  test('values that make the rendered job invalid: keyed by the release, pointers into the rendered job', () => {
    const r = renderRepo([{ path: 'jobs/api.yaml', content: 'chart: ozy/svc\nvalues: {port: 70000}\n' }], { builtinCharts: BUILTIN });
    assert.deepEqual(r.problems.map((p) => [p.key, p.job, p.file, problemTypeOf(p.problem), p.problem.errors![0]!.pointer]), [
      ['api', 'api', 'jobs/api.yaml', 'invalid-healthcheck', '/containers/web/healthcheck/port'],
    ]);
  });
  test('the rendered job must be named after the release', () => {
    const renamed: Map<string, Chart> = new Map([['svc', { ...BUILTIN.get('svc')!, templates: { 'job.yaml': TEMPLATE.replace('{{ .Release.Name }}', 'fixed') } }]]);
    const r = renderRepo([{ path: 'jobs/api.yaml', content: 'chart: ozy/svc\n' }], { builtinCharts: renamed });
    assert.deepEqual(r.problems.map((p) => [p.key, problemTypeOf(p.problem), p.problem.errors![0]!.pointer]), [['fixed', 'job-name-mismatch', '/name']]);
  });
  test('a template error in a shipped chart names the user file and the chart template', () => {
    const broken: Map<string, Chart> = new Map([['svc', { ...BUILTIN.get('svc')!, templates: { 'job.yaml': 'name: {{ .Release.Name | nosuch }}' } }]]);
    const r = renderRepo([{ path: 'jobs/api.yaml', content: 'chart: ozy/svc\n' }], { builtinCharts: broken });
    assert.deepEqual(r.problems.map((p) => [p.key, p.job, p.problem.file, problemTypeOf(p.problem), p.problem.template]), [['api', 'api', 'jobs/api.yaml', 'template-error', 'templates/job.yaml']]);
    assert.match(r.problems[0]!.problem.detail, /^ozy\/svc: templates\/job\.yaml:1/);
  });
});
