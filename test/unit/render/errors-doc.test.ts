// docs/errors.md has one `## <type>` section per problem type, and no other
// sections: every problem's `type` URL lands on an anchor.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../../src/paths';
import { PROBLEM_TYPES, problemTypeUrl, type ProblemType } from '../../../src/problems';

const doc = fs.readFileSync(path.join(projectRoot(), 'docs', 'errors.md'), 'utf8');
const headings = [...doc.matchAll(/^## (.+)$/gm)].map((m) => m[1]!.trim());

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to '-'. */
function anchorOf(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

test('every problem type has a section whose anchor is the type', () => {
  const anchors = new Set(headings.map(anchorOf));
  const missing = Object.keys(PROBLEM_TYPES).filter((t) => !anchors.has(t));
  assert.deepEqual(missing, []);
});

test('every section is a problem type', () => {
  const extra = headings.map(anchorOf).filter((a) => !(a in PROBLEM_TYPES));
  assert.deepEqual(extra, []);
});

test('each section shows an example and the fix', () => {
  const sections = doc.split(/^## /m).slice(1);
  for (const s of sections) {
    const name = s.split('\n')[0]!.trim();
    assert.match(s, /\*\*Fix\*\*/, `${name} has no fix`);
    assert.ok(/```|`[^`]+`/.test(s), `${name} has no example`);
  }
});

test('type URLs point at the anchors', () => {
  for (const t of Object.keys(PROBLEM_TYPES) as ProblemType[]) assert.match(problemTypeUrl(t), new RegExp(`errors\\.md#${t}$`));
});
