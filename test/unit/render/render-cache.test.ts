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

describe('render cache: unchanged content objects', () => {
  test('a file passed as the same content object is replayed without being hashed or judged again', () => {
    const cache = new RenderCache();
    const files: RepoFile[] = Array.from({ length: 50 }, (_, i) => ({ path: `jobs/j${i}.yaml`, content: Buffer.from(job(`j${i}`)) }));
    renderRepo(files, { commit: 'c1', cache });
    assert.deepEqual(cache.stats, { judged: 50, hashed: 50, replayed: 0 });
    // The next commit changes one file; the git source hands back the other 49 objects as they were.
    const next = files.slice();
    next[7] = { path: 'jobs/j7.yaml', content: Buffer.from(job('j7', '128M')) };
    const r = renderRepo(next, { commit: 'c2', cache });
    assert.deepEqual(cache.stats, { judged: 51, hashed: 51, replayed: 49 });
    assert.deepEqual(r, renderRepo(next, { commit: 'c2' }));
  });

  test('equal content in a new object is recognised by its hash and replayed, not judged', () => {
    const cache = new RenderCache();
    renderRepo([{ path: 'jobs/a.yaml', content: Buffer.from(job('a')) }], { cache });
    renderRepo([{ path: 'jobs/a.yaml', content: Buffer.from(job('a')) }], { cache });
    assert.deepEqual(cache.stats, { judged: 1, hashed: 2, replayed: 1 });
  });

  test('a file that is not UTF-8 is refused whether or not the cache knows its path', () => {
    const cache = new RenderCache();
    renderRepo([{ path: 'jobs/a.yaml', content: Buffer.from(job('a')) }], { cache });
    const r = renderRepo([{ path: 'jobs/a.yaml', content: Uint8Array.from([0x6e, 0xff, 0xfe]) }], { cache });
    assert.equal(r.jobs.length, 0);
    assert.match(r.problems[0]!.problem.type, /#unparsable-yaml$/);
  });
});
