import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { humanPlan, markdownPlan } from '../../../src/cli/plan-format';
import type { Problem } from '../../../src/model/problem';
import type { Decision, JobOutcome } from '../../../src/plan';

const guard: Problem = { type: 'https://x/errors.md#mass-deletion', title: 'Too many jobs would be deleted', detail: 'This commit would delete all 3 accepted jobs (a, b, c); no job was deleted.' };
const big: Problem = { type: 'https://x/errors.md#insufficient-memory', title: 'Insufficient memory', detail: 'Job requires 3G of memory but only 2G can be allocated.' };

function decision(outcomes: JobOutcome[]): Decision {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o.bucket] = (counts[o.bucket] ?? 0) + 1;
  return { putJobs: [], deleteJobs: [], putRejections: [], deleteRejections: [], outcomes, counts };
}

describe('ozy plan output', () => {
  test('a problem shared by several jobs (the deletion guard) is printed once', () => {
    const d = decision(['a', 'b', 'c'].map((job) => ({ job, bucket: 'rejected' as const, placements: ['n1'], problem: guard })));
    const text = humanPlan(d, 'abc', 2);
    assert.equal(text.split('would delete all 3').length - 1, 1, text);
    assert.match(text, /rejected +b .*\n +Too many jobs would be deleted: see a above/);
    const md = markdownPlan(d, 'abc');
    assert.equal(md.split('would delete all 3').length - 1, 1, md);
  });

  test('a refused change shows what keeps running, not placements as if they were the plan', () => {
    const d = decision([
      { job: 'web', bucket: 'rejected', placements: ['n1', 'n2'], problem: big },
      { job: 'api', bucket: 'create', placements: ['n1'] },
    ]);
    const text = humanPlan(d, 'abc', 2);
    assert.match(text, /rejected +web {2}\(keeps running: web-0 → n1, web-1 → n2\)/);
    assert.match(text, /create +api {2}api-0 → n1/);
    assert.match(markdownPlan(d, 'abc'), /\| `web` \| rejected \| keeps running: web-0 → n1, web-1 → n2 \|/);
  });

  test('Markdown: verdict and summary first, problems, then every job collapsed; within the limit however many jobs', () => {
    const many = decision(Array.from({ length: 5000 }, (_, i) => ({ job: `job-${String(i).padStart(4, '0')}`, bucket: i % 10 === 0 ? ('rejected' as const) : ('create' as const), placements: ['node-1', 'node-2', 'node-3'], ...(i % 10 === 0 ? { problem: { ...big, detail: `${big.detail} (${i})` } } : {}) })));
    const md = markdownPlan(many, 'abc');
    assert.ok(md.length <= 60_000, `${md.length} characters`);
    assert.ok(md.indexOf(':x: 500 jobs would be rejected') < md.indexOf('Summary: 500 rejected, 4500 create'));
    assert.ok(md.indexOf('Summary:') < md.indexOf('| job | change | problem |'));
    assert.ok(md.indexOf('| job | change | problem |') < md.indexOf('<details><summary>Every job (5000)</summary>'));
    assert.match(md, /not shown \(run `ozy plan` locally for all of them\)/);
    assert.ok(md.trimEnd().endsWith('</details>'));
    const small = markdownPlan(decision([{ job: 'api', bucket: 'create', placements: ['n1'] }]), 'abc');
    assert.doesNotMatch(small, /not shown/);
    assert.match(small, /:white_check_mark: every job fits/);
  });
});
