// Shared helpers for the renderer's unit tests (not a test file itself).
import assert from 'node:assert/strict';
import type { Problem } from '../../../src/model/problem';
import { problemTypeOf } from '../../../src/problems';
import { renderRepo, type RenderOptions, type RenderResult, type RepoFile } from '../../../src/render';

/** A valid job, fresh each call, to mutate in a test. */
export function validJob(name = 'web'): Record<string, any> {
  return {
    name,
    containers: {
      app: {
        image: 'localhost/ozy-busybox:1',
        command: ['/bin/httpd', '-f', '-p', '3000'],
        ports: ['3000'],
        memory: '64M',
        healthcheck: { type: 'http', port: 3000, path: '/' },
      },
    },
  };
}

/** JSON is YAML: job documents are written as JSON text. */
export function jobFile(doc: unknown, path = 'jobs/web.yaml'): RepoFile {
  return { path, content: JSON.stringify(doc) };
}

export function renderJob(doc: unknown, path = 'jobs/web.yaml', opts?: RenderOptions): RenderResult {
  return renderRepo([jobFile(doc, path)], opts);
}

/** The single problem of a result (asserting there is exactly one and no job). */
export function soleProblem(r: RenderResult): Problem {
  assert.equal(r.jobs.length, 0, `expected no job, got ${r.jobs.map((j) => j.spec.name).join(', ')}`);
  assert.equal(r.problems.length, 1, `expected one problem, got ${JSON.stringify(r.problems, null, 1)}`);
  return r.problems[0]!.problem;
}

/** Assert `doc` (as jobs/web.yaml) gets exactly one problem of `type` whose errors are at `pointers`. */
export function expectProblem(doc: unknown, type: string, pointers: string[], path = 'jobs/web.yaml'): Problem {
  const p = soleProblem(renderJob(doc, path));
  assert.equal(problemTypeOf(p), type, `type of ${JSON.stringify(p)}`);
  assert.deepEqual(
    (p.errors ?? []).map((e) => e.pointer),
    pointers,
    `pointers of ${JSON.stringify(p.errors)}`,
  );
  for (const e of p.errors ?? []) assert.ok(e.message.length > 0);
  return p;
}

export function typesOf(r: RenderResult): string[] {
  return r.problems.map((p) => problemTypeOf(p.problem));
}
