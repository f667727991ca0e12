// IncrementalRender must give exactly what renderRepo gives for the same
// files, whatever happened before: compared over random edit sequences
// that make and break duplicate names (job files and chart directories),
// ingress conflicts, invalid files, refused files, settings and charts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IncrementalRender, RenderCache, renderRepo, type RepoFile } from '../../../src/render';
import type { Chart } from '../../../src/render/charts';
import { prng } from '../../harness/random';

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
const BUILTIN: Map<string, Chart> = new Map([['svc', { name: 'svc', chartYaml: CHART_YAML, valuesYaml: VALUES_YAML, templates: { 'job.yaml': TEMPLATE } }]]);

const NAMES = ['api', 'db', 'web', 'cache', 'queue', 'auth', 'mail', 'search', 'billing', 'cron'];
const HOSTS = ['a.example.com', 'b.example.com', 'c.example.com'];

function jobText(name: string, opts: { memory?: number; host?: string; tcp?: number } = {}): string {
  const routes = [...(opts.host ? [`  - {host: ${opts.host}, port: 3000}`] : []), ...(opts.tcp ? [`  - {tcp: ${opts.tcp}, port: 3000}`] : [])];
  return [
    `name: ${name}`,
    'containers:',
    '  app:',
    '    image: localhost/ozy-busybox:1',
    '    ports: ["3000"]',
    `    memory: ${opts.memory ?? 64}M`,
    ...(routes.length > 0 ? ['ingress:', ...routes] : []),
    '',
  ].join('\n');
}

/** A random file content for job file `path` (base name `base`). */
function randomJobContent(rand: () => number, base: string): string | Uint8Array {
  const r = rand();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  if (r < 0.35) return jobText(base, { memory: 32 + Math.floor(rand() * 4) * 32 });
  if (r < 0.65) return jobText(base, rand() < 0.7 ? { host: pick(HOSTS) } : { tcp: 7000 + Math.floor(rand() * 2), host: pick(HOSTS) });
  if (r < 0.72) return `name: ${base}\nnumInstances: many\ncontainers: {}\n`; // invalid, names its job
  if (r < 0.78) return 'name: [';
  if (r < 0.83) return jobText(pick(NAMES)); // name does not match the file
  if (r < 0.88) return `chart: ozy/svc\nvalues:\n  replicas: ${1 + Math.floor(rand() * 3)}\n`;
  if (r < 0.91) return Uint8Array.from([0x6e, 0xff, 0xfe]); // not UTF-8
  if (r < 0.94) return Buffer.from(`\uFEFF${jobText(base)}`); // a byte-order mark
  return jobText(base, { memory: 64 });
}

type Repo = Map<string, RepoFile>;

function files(repo: Repo): RepoFile[] {
  return [...repo.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** One random edit; most are plain job files (the incremental path), some force a full render. */
function edit(rand: () => number, repo: Repo): void {
  const r = rand();
  const name = NAMES[Math.floor(rand() * NAMES.length)];
  const d = rand();
  const dir = d < 0.75 ? 'jobs' : d < 0.9 ? 'jobs/a' : 'jobs/b';
  const p = `${dir}/${name}.yaml`;
  if (r < 0.6) {
    repo.set(p, { path: p, content: randomJobContent(rand, name) });
  } else if (r < 0.75) {
    const jobFiles = [...repo.keys()].filter((k) => k.endsWith('.yaml') && !k.includes('/c/') && k !== 'ozy.yaml');
    if (jobFiles.length > 0) repo.delete(jobFiles[Math.floor(rand() * jobFiles.length)]);
  } else if (r < 0.8) {
    // The same content in a new object (the cache's hash path).
    const f = repo.get(p);
    if (f) repo.set(p, { ...f, content: typeof f.content === 'string' ? `${f.content}` : Buffer.from(f.content) });
  } else if (r < 0.85) {
    const root = `jobs/c/${name}`;
    if (repo.has(`${root}/Chart.yaml`)) for (const k of [...repo.keys()]) if (k.startsWith(`${root}/`)) repo.delete(k);
    else {
      repo.set(`${root}/Chart.yaml`, { path: `${root}/Chart.yaml`, content: CHART_YAML });
      repo.set(`${root}/values.yaml`, { path: `${root}/values.yaml`, content: VALUES_YAML });
      repo.set(`${root}/templates/job.yaml`, { path: `${root}/templates/job.yaml`, content: TEMPLATE });
    }
  } else if (r < 0.88) {
    repo.set('ozy.yaml', { path: 'ozy.yaml', content: rand() < 0.5 ? 'deletionGuard:\n  maxDeleteShare: 0.9\n' : 'a: [' });
  } else if (r < 0.9) {
    repo.set(p, { path: p, content: 'x', kind: 'symlink' });
  } else if (r < 0.92) {
    repo.set(p, { path: p, content: '', size: 2 * 1024 * 1024 }); // too large to read
  } else if (r < 0.95) {
    repo.set('README.md', { path: 'README.md', content: `readme ${rand()}` });
  } else {
    repo.set(`jobs/notes-${name}.tpl`, { path: `jobs/notes-${name}.tpl`, content: 'x' });
  }
}

describe('IncrementalRender', () => {
  test('equals renderRepo over random edit sequences (and mostly renders incrementally)', () => {
    let incremental = 0;
    const kinds = new Set<string>();
    for (let seed = 1; seed <= 30; seed++) {
      const rand = prng(seed);
      const repo: Repo = new Map();
      for (let i = 0; i < 8; i++) edit(rand, repo);
      const inc = new IncrementalRender(new RenderCache());
      for (let step = 0; step < 40; step++) {
        const n = 1 + Math.floor(rand() * 3);
        for (let e = 0; e < n; e++) edit(rand, repo);
        const opts = { commit: `c${seed}-${step}`, builtinCharts: BUILTIN };
        const fs = files(repo);
        const before = inc.stats.incremental;
        const got = inc.render(fs, opts);
        assert.deepEqual(got, renderRepo(fs, opts), `seed ${seed}, step ${step}`);
        if (inc.stats.incremental > before) for (const p of got.problems) kinds.add(p.problem.type.replace(/.*#/, ''));
      }
      incremental += inc.stats.incremental;
    }
    // The incremental renders met the cross-file rules, not only valid jobs.
    for (const k of ['duplicate-job-name', 'ingress-conflict', 'invalid-job', 'unparsable-yaml']) assert.ok(kinds.has(k), `an incremental render reported ${k}`);
    assert.ok(incremental > 300, `the incremental path ran (${incremental} of 1200 renders)`);
  });

  test('a one-file change in 200 files judges one file and replays none', () => {
    const cache = new RenderCache();
    const inc = new IncrementalRender(cache);
    const repo: Repo = new Map();
    for (let i = 0; i < 200; i++) {
      const p = `jobs/t${i % 4}/j${i}.yaml`;
      repo.set(p, { path: p, content: Buffer.from(jobText(`j${i}`, i % 10 === 0 ? { host: `h${i}.example.com` } : {})) });
    }
    repo.set('jobs/t0/bad.yaml', { path: 'jobs/t0/bad.yaml', content: 'name: [' });
    inc.render(files(repo), { commit: 'c1' });
    assert.deepEqual(inc.stats, { full: 1, incremental: 0, filesRedone: 0 });
    const judged = cache.stats.judged;
    const replayed = cache.stats.replayed;
    repo.set('jobs/t1/j5.yaml', { path: 'jobs/t1/j5.yaml', content: Buffer.from(jobText('j5', { memory: 128 })) });
    const r = inc.render(files(repo), { commit: 'c2' });
    assert.deepEqual(inc.stats, { full: 1, incremental: 1, filesRedone: 1 });
    assert.equal(cache.stats.judged - judged, 1, 'only the changed file was judged');
    assert.equal(cache.stats.replayed - replayed, 0, 'no unchanged file was replayed');
    assert.deepEqual(r, renderRepo(files(repo), { commit: 'c2' }));
    assert.equal(r.problems[0]!.problem.commit, 'c2', 'problems of unchanged files carry the new commit');
  });

  test('ingress refusals follow changes to other jobs: a lifted refusal, and one that moves down a chain', () => {
    const inc = new IncrementalRender(new RenderCache());
    const repo: Repo = new Map();
    const put = (name: string, routes: { host?: string; tcp?: number }) => repo.set(`jobs/${name}.yaml`, { path: `jobs/${name}.yaml`, content: jobText(name, routes) });
    put('a', { host: 'one.example.com' });
    put('b', { host: 'one.example.com', tcp: 7000 }); // refused: a routes one.example.com
    put('c', { tcp: 7000 }); // accepted: b, refused, owns nothing
    const names = (): string[] => inc.render(files(repo)).jobs.map((j) => j.spec.name);
    assert.deepEqual(names(), ['a', 'c']);
    repo.delete('jobs/a.yaml'); // b is no longer refused, so now c clashes with b
    assert.deepEqual(names(), ['b']);
    assert.deepEqual(inc.render(files(repo)), renderRepo(files(repo)));
    put('a', { host: 'one.example.com' });
    assert.deepEqual(names(), ['a', 'c']);
    assert.deepEqual(inc.stats, { full: 1, incremental: 3, filesRedone: 2 });
  });

  test('a change the ledger cannot follow is a full render: ozy.yaml, a chart directory', () => {
    const inc = new IncrementalRender(new RenderCache());
    const repo: Repo = new Map([['jobs/web.yaml', { path: 'jobs/web.yaml', content: jobText('web') }]]);
    inc.render(files(repo));
    repo.set('ozy.yaml', { path: 'ozy.yaml', content: 'deletionGuard:\n  maxDeleteShare: 0.9\n' });
    assert.deepEqual(inc.render(files(repo)), renderRepo(files(repo)));
    repo.set('jobs/svc/Chart.yaml', { path: 'jobs/svc/Chart.yaml', content: CHART_YAML });
    assert.deepEqual(inc.render(files(repo)), renderRepo(files(repo)));
    assert.deepEqual(inc.stats, { full: 3, incremental: 0, filesRedone: 0 });
  });
});
