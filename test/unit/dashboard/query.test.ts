import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { instanceQuery, jobQuery, MAX_LIMIT, pageParams, paginate, queryInstances, queryJobs } from '../../../src/dashboard/query';
import { smallCluster } from './fixtures';

const qs = (s: string): URLSearchParams => new URLSearchParams(s);

describe('dashboard paging', () => {
  test('offset and limit: defaults, caps, garbage ignored', () => {
    assert.deepEqual(pageParams(qs('')), { offset: 0, limit: 50 });
    assert.deepEqual(pageParams(qs('offset=100&limit=20')), { offset: 100, limit: 20 });
    assert.deepEqual(pageParams(qs(`limit=${MAX_LIMIT * 10}`)), { offset: 0, limit: MAX_LIMIT });
    assert.deepEqual(pageParams(qs('offset=-3&limit=abc')), { offset: 0, limit: 50 });
    assert.deepEqual(pageParams(qs('limit=0')), { offset: 0, limit: 1 });
  });

  test('a page is a slice with the total; past the end gives the last page', () => {
    const items = Array.from({ length: 5000 }, (_, i) => i);
    const p = paginate(items, { offset: 100, limit: 50 });
    assert.equal(p.total, 5000);
    assert.deepEqual([p.items[0], p.items.length], [100, 50]);
    const last = paginate(items, { offset: 99999, limit: 50 });
    assert.deepEqual([last.offset, last.items.length], [4950, 50]);
    assert.deepEqual(paginate([], { offset: 10, limit: 50 }), { total: 0, offset: 0, limit: 50, items: [] });
  });
});

describe('dashboard filters', () => {
  const d = smallCluster();

  test('jobs by name substring, case-insensitive, sorted by name', () => {
    assert.deepEqual(queryJobs(d, jobQuery(qs('q=WEB'))).items.map((j) => j.name), ['batch-web', 'web']);
    assert.deepEqual(queryJobs(d, jobQuery(qs(''))).items.map((j) => j.name), ['api', 'batch-web', 'web']);
  });

  test('jobs by state', () => {
    assert.deepEqual(queryJobs(d, jobQuery(qs('state=healthy'))).items.map((j) => j.name), ['web']);
    assert.deepEqual(queryJobs(d, jobQuery(qs('state=degraded'))).items.map((j) => j.name), ['api']);
    assert.deepEqual(queryJobs(d, jobQuery(qs('state=pending'))).items.map((j) => j.name), ['batch-web']);
    // An unknown state is no filter rather than an empty page.
    assert.equal(queryJobs(d, jobQuery(qs('state=<script>'))).total, 3);
  });

  test('instances of one job, by state, and every non-healthy one', () => {
    assert.deepEqual(queryInstances(d, instanceQuery(qs('job=api'))).items.map((i) => i.instance), ['api-0', 'api-1']);
    assert.deepEqual(queryInstances(d, instanceQuery(qs('job=api&state=unhealthy'))).items.map((i) => [i.instance, i.message]), [['api-1', 'GET /health → 404']]);
    assert.deepEqual(queryInstances(d, instanceQuery(qs('state=not-healthy'))).items.map((i) => i.instance), ['api-1', 'batch-web-0']);
    assert.equal(queryInstances(d, instanceQuery(qs('job=nope'))).total, 0);
  });
});
