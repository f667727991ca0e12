// The job field `ingress`: schema, normalization, per-job checks and the
// cross-job rule (the same host + path in two jobs: the later name is refused).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { problemTypeOf } from '../../../src/problems';
import { renderRepo } from '../../../src/render';
import { expectProblem, jobFile, renderJob, validJob } from './helpers';

function routed(ingress: unknown[], name = 'web'): Record<string, any> {
  return { ...validJob(name), ingress };
}

describe('ingress routes', () => {
  test('HTTP and TCP routes are normalized: host lower-case, path default / and no trailing slash', () => {
    const doc = routed([{ host: 'Shop.Example.COM', port: 3000 }, { host: '*.example.com', path: '/api/', port: 3000 }, { tcp: 7000, port: 3000 }]);
    const r = renderJob(doc);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.jobs[0]!.spec.ingress, [
      { host: 'shop.example.com', path: '/', port: 3000 },
      { host: '*.example.com', path: '/api', port: 3000 },
      { tcp: 7000, port: 3000 },
    ]);
  });

  test('a job without routes keeps its spec (and its hash) as before', () => {
    const r = renderJob(validJob());
    assert.equal('ingress' in r.jobs[0]!.spec, false);
    assert.equal(renderJob({ ...validJob(), ingress: [] }).jobs[0]!.specHash, r.jobs[0]!.specHash);
  });

  test('the port must be one the pod listens on', () => {
    const p = expectProblem(routed([{ host: 'a.example.com', port: 8080 }]), 'invalid-ingress', ['/ingress/0/port']);
    assert.match(p.errors![0]!.message, /port 8080 is not a TCP port of the pod \(its container ports: 3000\)/);
  });

  test('exactly one of host and tcp; no path on a TCP route', () => {
    expectProblem(routed([{ port: 3000 }]), 'invalid-ingress', ['/ingress/0']);
    expectProblem(routed([{ host: 'a.example.com', tcp: 80, port: 3000 }]), 'invalid-ingress', ['/ingress/0']);
    expectProblem(routed([{ tcp: 80, path: '/x', port: 3000 }]), 'invalid-ingress', ['/ingress/0/path']);
  });

  test('bad hosts and paths are refused by the schema', () => {
    for (const host of ['a..b', '-a.example.com', 'a.*.example.com', '*', 'exa mple.com', 'a_b.example.com']) {
      const r = renderJob(routed([{ host, port: 3000 }]));
      assert.equal(r.jobs.length, 0, host);
      assert.equal(problemTypeOf(r.problems[0]!.problem), 'invalid-job', host);
    }
    for (const path of ['api', '/a b', '/x?y=1', '/x#frag']) {
      assert.equal(renderJob(routed([{ host: 'a.example.com', path, port: 3000 }])).jobs.length, 0, path);
    }
  });

  test('the same route twice in one job', () => {
    const p = expectProblem(routed([{ host: 'a.example.com', path: '/x', port: 3000 }, { host: 'A.example.com', path: '/x/', port: 3000 }]), 'invalid-ingress', ['/ingress/1']);
    assert.match(p.errors![0]!.message, /already routed by ingress\[0\]/);
  });

  test('two jobs, one route: the later name is refused naming the other; different paths coexist', () => {
    const r = renderRepo([
      jobFile(routed([{ host: 'shop.example.com', port: 3000 }], 'zeta'), 'jobs/zeta.yaml'),
      jobFile(routed([{ host: 'shop.example.com', port: 3000 }, { tcp: 9000, port: 3000 }], 'alpha'), 'jobs/alpha.yaml'),
      jobFile(routed([{ host: 'shop.example.com', path: '/api', port: 3000 }], 'beta'), 'jobs/beta.yaml'),
      jobFile(routed([{ tcp: 9000, port: 3000 }], 'gamma'), 'jobs/gamma.yaml'),
    ]);
    assert.deepEqual(r.jobs.map((j) => j.spec.name), ['alpha', 'beta']);
    const byKey = new Map(r.problems.map((p) => [p.key, p.problem]));
    assert.deepEqual([...byKey.keys()].sort(), ['gamma', 'zeta']);
    assert.equal(problemTypeOf(byKey.get('zeta')!), 'ingress-conflict');
    assert.match(byKey.get('zeta')!.errors![0]!.message, /host shop\.example\.com path \/ is already routed to job "alpha"/);
    assert.match(byKey.get('gamma')!.errors![0]!.message, /TCP port 9000 is already routed to job "alpha"/);
  });
});
