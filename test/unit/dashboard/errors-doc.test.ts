// The dashboard's copy of docs/errors.md: every problem type's anchor is an
// element id, so a problem's `type` URL pointed at it resolves.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { renderErrorsDoc, slug } from '../../../src/dashboard/errors-doc';
import { projectRoot } from '../../../src/paths';
import { PROBLEM_TYPES } from '../../../src/problems';

test('every problem type has its anchor in the rendered docs/errors.md; text is escaped', () => {
  const html = renderErrorsDoc(fs.readFileSync(path.join(projectRoot(), 'docs', 'errors.md'), 'utf8'));
  const missing = Object.keys(PROBLEM_TYPES).filter((t) => !html.includes(` id="${t}"`));
  assert.deepEqual(missing, []);
  assert.doesNotMatch(html, /<script/i);
  const hostile = renderErrorsDoc('## a <b>\n\nsay `<script>` & "x"\n\n```\n<img onerror=1>\n```\n');
  assert.match(hostile, /<h2 id="a-b">a &lt;b&gt;<\/h2>/);
  assert.match(hostile, /<code>&lt;script&gt;<\/code> &amp; &quot;x&quot;/);
  assert.match(hostile, /<pre>&lt;img onerror=1&gt;<\/pre>/);
  assert.equal(slug('Insufficient memory!'), 'insufficient-memory');
});
