// renderChart: Chart.yaml/values.yaml loading, value merging, the root
// objects (.Values .Chart .Release .Template), which files become documents,
// and how errors are reported.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergeValues, renderChart, type Chart } from '../../../src/render/template';

function chart(templates: Record<string, string>, valuesYaml = '', chartYaml = 'apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: "4.5"\n'): Chart {
  return { name: 'demo-dir', chartYaml, valuesYaml, templates };
}

function documents(c: Chart, opts: Parameters<typeof renderChart>[1] = { releaseName: 'rel' }) {
  const r = renderChart(c, opts);
  if (!r.ok) assert.fail(JSON.stringify(r.errors));
  return r.documents;
}

describe('renderChart', () => {
  test('renders every non-helper file in name order; helpers only contribute defines', () => {
    const c = chart({
      'b.yaml': 'b: {{ include "demo.name" . }}',
      'a.yaml': 'a: 1',
      '_helpers.tpl': '{{ define "demo.name" }}{{ .Release.Name }}-x{{ end }}this text is never output',
      'NOTES.txt': 'thanks for installing',
    });
    assert.deepEqual(documents(c), [
      { template: 'a.yaml', text: 'a: 1' },
      { template: 'b.yaml', text: 'b: rel-x' },
    ]);
  });

  test('documents that render to whitespace only are dropped', () => {
    const c = chart({ 'off.yaml': '{{ if .Values.enabled }}x: 1{{ end }}\n  \n', 'on.yaml': 'y: 2' }, 'enabled: false');
    assert.deepEqual(documents(c).map((d) => d.template), ['on.yaml']);
  });

  test('.Chart has Helm-capitalized keys; .Release has the release name and namespace', () => {
    const c = chart({ 'j.yaml': '{{ .Chart.Name }} {{ .Chart.Version }} {{ .Chart.AppVersion }} {{ .Chart.APIVersion }} {{ .Release.Name }} {{ .Release.Namespace }} {{ .Template.Name }}' });
    assert.equal(documents(c)[0]?.text, 'demo 1.2.3 4.5 v2 rel default demo/templates/j.yaml');
  });

  test('the chart directory name is used when Chart.yaml has no name', () => {
    const c = chart({ 'j.yaml': '{{ .Chart.Name }}' }, '', 'version: 1.0.0');
    assert.equal(documents(c)[0]?.text, 'demo-dir');
  });

  test('values given are deep-merged over values.yaml; null removes a default; lists replace', () => {
    const valuesYaml = 'image: {name: a, tag: "1"}\nports: [1, 2]\nextra: yes-please\nkeep: k\n';
    const c = chart({ 'j.yaml': '{{ .Values.image.name }}:{{ .Values.image.tag }} {{ .Values.ports }} [{{ .Values.extra }}] {{ .Values.keep }}' }, valuesYaml);
    const override = { image: { tag: '2' }, ports: [9], extra: null };
    assert.equal(documents(c, { releaseName: 'r', values: override })[0]?.text, 'a:2 [9] [] k');
    assert.deepEqual(override, { image: { tag: '2' }, ports: [9], extra: null }, 'the caller\'s values are not modified');
  });

  test('templates cannot modify the caller\'s values through set', () => {
    const given = { m: { a: 1 } };
    documents(chart({ 'j.yaml': '{{ $_ := set .Values.m "a" 2 }}{{ .Values.m.a }}' }), { releaseName: 'r', values: given });
    assert.deepEqual(given, { m: { a: 1 } });
  });

  test('an empty or comment-only values.yaml is an empty map', () => {
    assert.equal(documents(chart({ 'j.yaml': 'x{{ .Values.a }}' }, '# nothing here\n'))[0]?.text, 'x');
  });

  test('a required value that is missing fails with the file, line and message', () => {
    const r = renderChart(chart({ 'job.yaml': 'name: x\nimage: {{ required "image is required" .Values.image }}\n' }), { releaseName: 'r' });
    assert.deepEqual(r, { ok: false, errors: [{ template: 'job.yaml', line: 2, column: 11, message: 'image is required' }] });
  });

  test('errors of several files are all reported', () => {
    const r = renderChart(chart({ 'a.yaml': '{{ nope }}', 'b.yaml': '\n{{ if }}' }), { releaseName: 'r' });
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.errors.map((e) => [e.template, e.line]), [['a.yaml', 1], ['b.yaml', 2]]);
  });

  test('invalid Chart.yaml or values.yaml is reported with its line', () => {
    const badValues = renderChart(chart({ 'j.yaml': 'x' }, 'a: 1\nb: [\n'), { releaseName: 'r' });
    assert.equal(badValues.ok, false);
    if (!badValues.ok) {
      assert.equal(badValues.errors[0]?.template, 'values.yaml');
      assert.equal(badValues.errors[0]?.line, 3);
    }
    const listValues = renderChart(chart({ 'j.yaml': 'x' }, '- 1\n'), { releaseName: 'r' });
    assert.equal(!listValues.ok && listValues.errors[0]?.message, 'values.yaml must be a mapping');
    const badChart = renderChart(chart({ 'j.yaml': 'x' }, '', 'name: [unclosed'), { releaseName: 'r' });
    assert.equal(!badChart.ok && badChart.errors[0]?.template, 'Chart.yaml');
    const notMapOverride = renderChart(chart({ 'j.yaml': 'x' }), { releaseName: 'r', values: [1] });
    assert.equal(!notMapOverride.ok && notMapOverride.errors[0]?.template, 'values');
  });

  test('YAML aliases in values.yaml are refused (no alias expansion bombs)', () => {
    const r = renderChart(chart({ 'j.yaml': 'x' }, 'a: &x [1, 2]\nb: *x\n'), { releaseName: 'r' });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.errors[0]?.message ?? '', /alias/);
  });

  test('one budget covers the whole chart', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 5; i++) files[`f${i}.yaml`] = '{{ range until 300 }}.{{ end }}';
    assert.equal(documents(chart(files), { releaseName: 'r', limits: { maxSteps: 5000 } }).length, 5);
    const r = renderChart(chart(files), { releaseName: 'r', limits: { maxSteps: 2000 } });
    assert.equal(r.ok, false);
    // Stops at the first file that runs out: later files would fail the same way.
    if (!r.ok) assert.equal(r.errors.length, 1);
  });

  test('chart output size is bounded across documents', () => {
    const files = { 'a.yaml': '{{ repeat 600 "x" }}', 'b.yaml': '{{ repeat 600 "y" }}' };
    const r = renderChart(chart(files), { releaseName: 'r', limits: { maxOutputChars: 1000 } });
    assert.equal(!r.ok && r.errors[0]?.template, 'b.yaml');
  });
});

describe('mergeValues', () => {
  test('maps merge recursively, other values replace, null deletes', () => {
    assert.deepEqual(
      JSON.parse(JSON.stringify(mergeValues({ a: { x: 1, y: 2 }, l: [1], s: 's', gone: 1 }, { a: { y: 3, z: 4 }, l: [2], gone: null, s: { now: 'map' } }, 64))),
      { a: { x: 1, y: 3, z: 4 }, l: [2], s: { now: 'map' } },
    );
  });

  test('refuses values nested deeper than the limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = { d: deep };
    assert.throws(() => mergeValues({}, { deep }, 64), /nested more than 64/);
  });
});
