import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RenderCache, renderRepo, type RepoFile } from '../../../src/render';

const job = (name: string, memory = '64M') =>
  `name: ${name}\ncontainers:\n  app:\n    image: busybox\n    memory: ${memory}\n`;

describe('render cache', () => {
  test('a cached render equals an uncached one, commit after commit', () => {
    const cache = new RenderCache();
    const v1: RepoFile[] = [
      { path: 'jobs/a.yaml', content: job('a') },
      { path: 'jobs/b.yaml', content: job('b') },
      { path: 'jobs/bad.yaml', content: 'name: bad\nnumInstances: many\n' },
    ];
    assert.deepEqual(renderRepo(v1, { commit: 'c1', cache }), renderRepo(v1, { commit: 'c1' }));
    // Second commit: one file changed, one removed; problems carry the new commit.
    const v2: RepoFile[] = [{ path: 'jobs/a.yaml', content: job('a', '128M') }, v1[2]!];
    const cached = renderRepo(v2, { commit: 'c2', cache });
    assert.deepEqual(cached, renderRepo(v2, { commit: 'c2' }));
    assert.equal(cached.jobs[0]!.spec.containers[0]!.memory, 128 * 1024 ** 2, 'the changed file was judged again');
    assert.equal(cached.problems[0]!.problem.commit, 'c2');
    assert.equal(cache.size, 2, 'the removed file was forgotten');
  });

  test('cross-file checks still run on cached verdicts: a new duplicate name is caught', () => {
    const cache = new RenderCache();
    renderRepo([{ path: 'jobs/a.yaml', content: job('a') }], { cache });
    const r = renderRepo(
      [
        { path: 'jobs/a.yaml', content: job('a') },
        { path: 'jobs/team/a.yaml', content: job('a') },
      ],
      { cache },
    );
    assert.equal(r.jobs.length, 0);
    assert.ok(r.problems.every((p) => /#duplicate-job-name$/.test(p.problem.type)));
  });
});
