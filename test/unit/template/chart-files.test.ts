// Helm renders every file under a chart's templates/, whatever its
// extension (helm/helm pkg/engine/engine.go renders all templates but
// partials): so does a chart in the repository. A file with another
// extension was silently ignored before: never read, never rendered.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isRelevantPath, renderRepo } from '../../../src/render';

describe('chart files under templates/', () => {
  test('every file under a templates/ directory of jobs/ is read', () => {
    for (const p of ['jobs/c/templates/a.yaml', 'jobs/c/templates/config.json', 'jobs/c/templates/NOTES.txt', 'jobs/team/c/templates/sub/x.conf']) assert.ok(isRelevantPath(p), p);
    for (const p of ['jobs/c/README.md', 'docs/templates/x.txt', 'jobs/c/templates/']) assert.ok(!isRelevantPath(p), p);
  });

  test('a template with another extension is rendered (its error is reported at its path)', () => {
    const r = renderRepo([
      { path: 'jobs/c/Chart.yaml', content: 'name: c\nversion: 0.1.0\n' },
      { path: 'jobs/c/values.yaml', content: '' },
      { path: 'jobs/c/templates/job.yaml', content: '{{- if false }}{{ end }}' },
      { path: 'jobs/c/templates/extra.txt', content: 'x: {{ fail "extra.txt was rendered" }}\n' },
    ]);
    const text = JSON.stringify(r.problems);
    assert.match(text, /extra\.txt was rendered/);
    assert.match(text, /templates\/extra\.txt/);
  });
});
