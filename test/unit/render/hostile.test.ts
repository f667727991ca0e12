// A corpus of hostile repository contents. Each must come back as a problem
// naming the file (and the field where there is one), without throwing.
// Durations are reported as test diagnostics, never asserted.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { problemTypeOf } from '../../../src/problems';
import { renderRepo, type RenderResult, type RepoFile } from '../../../src/render';
import { validJob } from './helpers';

function billionLaughs(levels: number, width: number): string {
  const lines = [`l0: &l0 [${Array(width).fill('"lol"').join(', ')}]`];
  for (let i = 1; i <= levels; i++) lines.push(`l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\nname: web\ncontainers:\n  app:\n    image: busybox\n    command: *l${levels}\n`;
}

interface HostileCase {
  name: string;
  files: () => RepoFile[];
  /** The file the problem must name. */
  file: string;
  type: string;
  /** A pointer that must be among the errors, when the problem is about a field. */
  pointer?: string;
  /** A valid job put beside the hostile file must still be accepted. */
}

const CASES: HostileCase[] = [
  { name: 'billion laughs (9 levels of 9)', files: () => [{ path: 'jobs/web.yaml', content: billionLaughs(9, 9) }], file: 'jobs/web.yaml', type: 'yaml-too-complex' },
  {
    name: 'billion laughs under the alias limit (5 levels of 6 aliases, wide base)',
    files: () => {
      const base = `l0: &l0 [${Array(5000).fill('"lol"').join(', ')}]`;
      const levels = [1, 2, 3, 4, 5].map((i) => `l${i}: &l${i} [${Array(6).fill(`*l${i - 1}`).join(', ')}]`);
      return [{ path: 'jobs/web.yaml', content: `${base}\n${levels.join('\n')}\nname: web\ncontainers: {app: {image: busybox, command: *l5}}\n` }];
    },
    file: 'jobs/web.yaml',
    type: 'yaml-too-complex',
  },
  { name: '10,000-deep flow nesting', files: () => [{ path: 'jobs/web.yaml', content: `name: web\ncontainers: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n` }], file: 'jobs/web.yaml', type: 'yaml-too-complex' },
  {
    name: '10,000-deep block nesting',
    files: () => [{ path: 'jobs/web.yaml', content: `name: web\ncontainers:\n  ${'- '.repeat(10_000)}x\n` }],
    file: 'jobs/web.yaml',
    type: 'yaml-too-complex',
  },
  {
    name: 'a 50 MB file',
    files: () => [{ path: 'jobs/web.yaml', content: `name: web\n# ${'x'.repeat(50 * 1024 * 1024)}\n` }],
    file: 'jobs/web.yaml',
    type: 'file-too-large',
  },
  { name: 'a 50 MB file announced by size only', files: () => [{ path: 'jobs/web.yaml', content: '', size: 50 * 1024 * 1024 }], file: 'jobs/web.yaml', type: 'file-too-large' },
  { name: 'a symlink (out of the repository)', files: () => [{ path: 'jobs/web.yaml', content: '/etc/passwd', kind: 'symlink' }], file: 'jobs/web.yaml', type: 'symlink-refused' },
  { name: 'a symlinked directory', files: () => [{ path: 'jobs/team', content: '/etc', kind: 'symlink' }], file: 'jobs/team', type: 'symlink-refused' },
  { name: "a path with '..'", files: () => [{ path: 'jobs/../../etc/web.yaml', content: JSON.stringify(validJob()) }], file: 'jobs/../../etc/web.yaml', type: 'unsafe-path' },
  { name: 'a path with NUL', files: () => [{ path: 'jobs/web\u0000.yaml', content: JSON.stringify(validJob()) }], file: 'jobs/web\u0000.yaml', type: 'unsafe-path' },
  { name: 'a path with a backslash', files: () => [{ path: 'jobs\\..\\web.yaml', content: JSON.stringify(validJob()) }], file: 'jobs\\..\\web.yaml', type: 'unsafe-path' },
  { name: 'an absolute path', files: () => [{ path: '/jobs/web.yaml', content: JSON.stringify(validJob()) }], file: '/jobs/web.yaml', type: 'unsafe-path' },
  { name: "a job name with '/'", files: () => [{ path: 'jobs/web.yaml', content: JSON.stringify(validJob('a/b')) }], file: 'jobs/web.yaml', type: 'invalid-job-name', pointer: '/name' },
  { name: "a job name '..'", files: () => [{ path: 'jobs/web.yaml', content: JSON.stringify(validJob('..')) }], file: 'jobs/web.yaml', type: 'invalid-job-name', pointer: '/name' },
  { name: 'an uppercase job name', files: () => [{ path: 'jobs/web.yaml', content: JSON.stringify(validJob('WEB')) }], file: 'jobs/web.yaml', type: 'invalid-job-name', pointer: '/name' },
  { name: 'a 60-character job name', files: () => [{ path: 'jobs/web.yaml', content: JSON.stringify(validJob('w'.repeat(60))) }], file: 'jobs/web.yaml', type: 'invalid-job-name', pointer: '/name' },
  { name: 'an uppercase file name', files: () => [{ path: 'jobs/WEB.yaml', content: JSON.stringify(validJob('web')) }], file: 'jobs/WEB.yaml', type: 'invalid-job-name', pointer: '' },
  { name: 'a language tag (!!js/function)', files: () => [{ path: 'jobs/web.yaml', content: 'name: !!js/function "function () { process.exit(1) }"\n' }], file: 'jobs/web.yaml', type: 'unparsable-yaml' },
  { name: 'a custom tag', files: () => [{ path: 'jobs/web.yaml', content: 'name: web\ncontainers: !include /etc/passwd\n' }], file: 'jobs/web.yaml', type: 'unparsable-yaml' },
  { name: 'a __proto__ key', files: () => [{ path: 'jobs/web.yaml', content: '{"name": "web", "__proto__": {"polluted": true}, "containers": {"app": {"image": "x"}}}' }], file: 'jobs/web.yaml', type: 'unparsable-yaml' },
  { name: 'constructor.prototype', files: () => [{ path: 'jobs/web.yaml', content: 'name: web\nconstructor: {prototype: {polluted: true}}\n' }], file: 'jobs/web.yaml', type: 'unparsable-yaml' },
  { name: 'invalid UTF-8', files: () => [{ path: 'jobs/web.yaml', content: new Uint8Array([0x6e, 0x61, 0xff, 0xfe, 0x0a]) }], file: 'jobs/web.yaml', type: 'unparsable-yaml' },
  { name: 'binary garbage', files: () => [{ path: 'jobs/web.yaml', content: new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)) }], file: 'jobs/web.yaml', type: 'unparsable-yaml' },
  { name: '100,000 empty documents', files: () => [{ path: 'jobs/web.yaml', content: '---\n'.repeat(100_000) }], file: 'jobs/web.yaml', type: 'invalid-job' },
  { name: 'two jobs in one file', files: () => [{ path: 'jobs/web.yaml', content: `${JSON.stringify(validJob())}\n---\n${JSON.stringify(validJob())}` }], file: 'jobs/web.yaml', type: 'invalid-job' },
  { name: 'a scalar document', files: () => [{ path: 'jobs/web.yaml', content: 'just a string' }], file: 'jobs/web.yaml', type: 'invalid-job', pointer: '' },
  {
    name: 'a 1 MB image reference',
    files: () => {
      const j = validJob();
      j.containers.app.image = 'a'.repeat(1024 * 1024 - 300);
      return [{ path: 'jobs/web.yaml', content: JSON.stringify(j) }];
    },
    file: 'jobs/web.yaml',
    type: 'invalid-image',
    pointer: '/containers/app/image',
  },
  {
    name: 'an image reference built to backtrack',
    files: () => {
      const j = validJob();
      j.containers.app.image = `a${'-a'.repeat(250)}!`;
      return [{ path: 'jobs/web.yaml', content: JSON.stringify(j) }];
    },
    file: 'jobs/web.yaml',
    type: 'invalid-image',
    pointer: '/containers/app/image',
  },
  {
    name: '10,000 containers',
    files: () => {
      const j = validJob();
      for (let i = 0; i < 10_000; i++) j.containers[`c${i}`] = { image: 'busybox' };
      return [{ path: 'jobs/web.yaml', content: JSON.stringify(j) }];
    },
    file: 'jobs/web.yaml',
    type: 'invalid-job',
    pointer: '/containers',
  },
  {
    name: 'numInstances 1e308',
    files: () => [{ path: 'jobs/web.yaml', content: JSON.stringify(validJob()).replace('{"name"', '{"numInstances": 1e308, "name"') }],
    file: 'jobs/web.yaml',
    type: 'invalid-job',
    pointer: '/numInstances',
  },
  {
    name: '100,000 environment variables',
    files: () => {
      const j = validJob();
      j.containers.app.environment = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`V${i}`, 'x']));
      return [{ path: 'jobs/web.yaml', content: JSON.stringify(j) }];
    },
    file: 'jobs/web.yaml',
    type: 'file-too-large',
  },
  {
    name: 'a chart directory whose template renders a billion laughs',
    files: () => [
      { path: 'jobs/lol/Chart.yaml', content: 'name: lol\nversion: 0.1.0\n' },
      { path: 'jobs/lol/values.yaml', content: '' },
      { path: 'jobs/lol/templates/job.yaml', content: billionLaughs(9, 9) },
    ],
    file: 'jobs/lol/templates/job.yaml',
    type: 'yaml-too-complex',
  },
  {
    name: 'a chart reference with a hostile values map',
    files: () => [{ path: 'jobs/web.yaml', content: 'chart: ozy/web-service\nvalues: {__proto__: {polluted: true}}\n' }],
    file: 'jobs/web.yaml',
    type: 'unparsable-yaml',
  },
];

function timed(t: TestContext, run: () => RenderResult): RenderResult {
  const rounds = 3;
  let result!: RenderResult;
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) result = run();
  const ms = Number(process.hrtime.bigint() - start) / 1e6 / rounds;
  t.diagnostic(`${ms.toFixed(1)} ms per render`);
  return result;
}

describe('hostile inputs are refused with a problem naming the file', () => {
  for (const c of CASES) {
    test(c.name, (t) => {
      // A valid job beside it: one bad file never hides the others' results.
      const neighbour: RepoFile = { path: 'jobs/neighbour.yaml', content: JSON.stringify(validJob('neighbour')) };
      const r = timed(t, () => renderRepo([...c.files(), neighbour], { commit: 'c0ffee' }));
      assert.deepEqual(r.jobs.map((j) => j.spec.name), ['neighbour']);
      const mine = r.problems.filter((p) => p.problem.file === c.file);
      assert.ok(mine.length >= 1, `no problem names ${JSON.stringify(c.file)}: ${JSON.stringify(r.problems.map((p) => p.problem.file))}`);
      const p = mine[0]!.problem;
      assert.equal(problemTypeOf(p), c.type, JSON.stringify(p));
      assert.equal(p.commit, 'c0ffee');
      assert.ok(p.detail.length > 0);
      if (c.pointer !== undefined) {
        assert.ok((p.errors ?? []).some((e) => e.pointer === c.pointer), `no error at ${c.pointer}: ${JSON.stringify(p.errors)}`);
      }
      assert.ok(!('polluted' in {}), 'Object.prototype was polluted');
    });
  }
});

test('a file too large is refused before it is decoded (its content never reaches YAML)', () => {
  const r = renderRepo([{ path: 'jobs/web.yaml', content: `${'a: ['.repeat(1)}${'x'.repeat(2 * 1024 * 1024)}` }]);
  assert.equal(problemTypeOf(r.problems[0]!.problem), 'file-too-large');
});

test('repository limits: files beyond 20,000 are refused one by one, earlier ones are judged', () => {
  const files: RepoFile[] = Array.from({ length: 20_001 }, (_, i) => ({ path: `jobs/j${String(i).padStart(5, '0')}.yaml`, content: '' }));
  files[0] = { path: 'jobs/j00000.yaml', content: JSON.stringify(validJob('j00000')) };
  const r = renderRepo(files);
  assert.deepEqual(r.jobs.map((j) => j.spec.name), ['j00000']);
  const tooLarge = r.problems.filter((p) => problemTypeOf(p.problem) === 'repository-too-large');
  assert.deepEqual(tooLarge.map((p) => p.file), ['jobs/j20000.yaml']);
});
