// Helm's engine tests, ported: helm/helm pkg/engine/engine_test.go (Render,
// errors, include/required/tpl through the function map, recursion, tpl's
// template names and redefinitions, missing keys) and pkg/engine/
// funcs_test.go (TestFuncs: toYaml, toJson, fromYaml, fromYamlArray,
// fromJson, fromJsonArray, merge). Charts here have no subcharts, .Files,
// .Capabilities or lookup; TOML functions are not provided.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderChart, type Chart } from '../../../src/render/template';
import { runTable, type Case } from './table';

interface ChartCase {
  name: string;
  chartName: string;
  templates: Record<string, string>;
  values?: Record<string, unknown>;
  releaseName?: string;
  /** Helm's output per template file ('' when it renders to nothing). */
  expect?: Record<string, string>;
  /** Helm fails: the message (Helm prefixes "execution error at (file:line:col): "). */
  error?: { template: string; line: number; message: string | RegExp };
}

function render(c: ChartCase): { docs: Record<string, string> } | { error: { template: string; line: number; message: string } } {
  const chart: Chart = { name: c.chartName, chartYaml: `name: ${JSON.stringify(c.chartName)}\nversion: 1.2.3\n`, valuesYaml: '', templates: c.templates };
  const r = renderChart(chart, { releaseName: c.releaseName ?? 'TestRelease', values: c.values ?? {} });
  if (!r.ok) {
    const e = r.errors[0];
    return { error: { template: e?.template ?? '', line: e?.line ?? 0, message: e?.message ?? '' } };
  }
  const docs: Record<string, string> = {};
  for (const d of r.documents) docs[d.template] = d.text;
  return { docs };
}

const engineTests: ChartCase[] = [
  {
    name: 'TestRender',
    chartName: 'moby',
    templates: {
      test1: '{{.Values.outer | title }} {{.Values.inner | title}}',
      test2: '{{.Values.global.callme | lower }}',
      test3: '{{.noValue}}',
      test4: '{{toJson .Values}}',
    },
    values: { outer: 'spouter', inner: 'inn', global: { callme: 'Ishmael' } },
    expect: { test1: 'Spouter Inn', test2: 'ishmael', test3: '', test4: '{"global":{"callme":"Ishmael"},"inner":"inn","outer":"spouter"}' },
  },
  { name: 'TestParseErrors', chartName: 'c', templates: { undefined_function: '{{foo}}' }, error: { template: 'undefined_function', line: 1, message: 'function "foo" not defined' } },
  { name: 'MissingRequired', chartName: 'c', templates: { missing_required: '{{required "foo is required" .Values.foo}}' }, error: { template: 'missing_required', line: 1, message: 'foo is required' } },
  { name: 'MissingRequiredWithColons', chartName: 'c', templates: { missing_required_with_colons: '{{required ":this: message: has many: colons:" .Values.foo}}' }, error: { template: 'missing_required_with_colons', line: 1, message: ':this: message: has many: colons:' } },
  {
    name: 'Issue6044',
    chartName: 'c',
    templates: { issue6044: '{{ $someEmptyValue := "" }}\n{{ $myvar := "abc" }}\n{{- required (printf "%s: something is missing" $myvar) $someEmptyValue | repeat 0 }}' },
    error: { template: 'issue6044', line: 3, message: 'abc: something is missing' },
  },
  { name: 'MissingRequiredWithNewlines', chartName: 'c', templates: { issue9981: '{{required "foo is required\\nmore info after the break" .Values.foo}}' }, error: { template: 'issue9981', line: 1, message: 'foo is required\nmore info after the break' } },
  { name: 'FailWithNewlines', chartName: 'c', templates: { issue9981: '{{fail "something is wrong\\nlinebreak"}}' }, error: { template: 'issue9981', line: 1, message: 'something is wrong\nlinebreak' } },
  { name: 'TestFailErrors', chartName: 'c', templates: { failtpl: 'All your base are belong to us{{ fail "This is an error" }}' }, error: { template: 'failtpl', line: 1, message: 'This is an error' } },
  {
    name: 'TestAlterFuncMap_include',
    chartName: 'conrad',
    releaseName: 'Mistah Kurtz',
    templates: { quote: '{{include "conrad/templates/_partial" . | indent 2}} dead.', _partial: '{{.Release.Name}} - he' },
    expect: { quote: '  Mistah Kurtz - he dead.' },
  },
  {
    name: 'TestAlterFuncMap_include (nested reference)',
    chartName: 'nested',
    templates: { quote: '{{include "nested/templates/quote" . | indent 2}} dead.', _partial: '{{.Release.Name}} - he' },
    error: { template: 'quote', line: 1, message: /nested deeper than|template calls/ },
  },
  {
    name: 'TestAlterFuncMap_require',
    chartName: 'conan',
    releaseName: 'That 90s meme',
    templates: { quote: 'All your base are belong to {{ required "A valid \'who\' is required" .Values.who }}', bases: 'All {{ required "A valid \'bases\' is required" .Values.bases }} of them!' },
    values: { who: 'us', bases: 2 },
    expect: { quote: 'All your base are belong to us', bases: 'All 2 of them!' },
  },
  { name: 'TestAlterFuncMap_tpl', chartName: 'TplFunction', templates: { base: 'Evaluate tpl {{tpl "Value: {{ .Values.value}}" .}}' }, values: { value: 'myvalue' }, expect: { base: 'Evaluate tpl Value: myvalue' } },
  { name: 'TestAlterFuncMap_tplfunc', chartName: 'TplFunction', templates: { base: 'Evaluate tpl {{tpl "Value: {{ .Values.value | quote}}" .}}' }, values: { value: 'myvalue' }, expect: { base: 'Evaluate tpl Value: "myvalue"' } },
  {
    name: 'TestAlterFuncMap_tplinclude',
    chartName: 'TplFunction',
    templates: { base: '{{ tpl "{{include `TplFunction/templates/_partial` .  | quote }}" .}}', _partial: '{{.Template.Name}}' },
    values: { value: 'myvalue' },
    expect: { base: '"TplFunction/templates/base"' },
  },
  {
    name: 'TestRenderRecursionLimit',
    chartName: 'bad',
    templates: { base: '{{include "recursion" . }}', recursion: '{{define "recursion"}}{{include "recursion" . }}{{end}}' },
    // Helm: "rendering template has a nested reference name: recursion"; the error points into the recursive define.
    error: { template: 'recursion', line: 1, message: /nested deeper than/ },
  },
  {
    name: 'TestRenderRecursionLimit (calling the same function many times is ok)',
    chartName: 'overlook',
    templates: { quote: '{{include "overlook" . }}'.repeat(4000), _function: '{{define "overlook"}}{{printf "All work and no play makes Jack a dull boy\\n"}}{{end}}' },
    expect: { quote: 'All work and no play makes Jack a dull boy\n'.repeat(4000) },
  },
  {
    name: 'TestRenderTplEmpty',
    chartName: 'TplEmpty',
    templates: { 'empty-string': '{{tpl "" .}}', 'empty-action': '{{tpl "{{ \\"\\"}}" .}}', 'only-defines': '{{tpl "{{define \\"not-invoked\\"}}not-rendered{{end}}" .}}' },
    expect: { 'empty-string': '', 'empty-action': '', 'only-defines': '' },
  },
  {
    name: 'TestRenderTplTemplateNames',
    chartName: 'TplTemplateNames',
    templates: {
      'default-basepath': '{{tpl "{{ .Template.BasePath }}" .}}',
      'default-name': '{{tpl "{{ .Template.Name }}" .}}',
      'modified-basepath': '{{tpl "{{ .Template.BasePath }}" .Values.dot}}',
      'modified-name': '{{tpl "{{ .Template.Name }}" .Values.dot}}',
      'modified-field': '{{tpl "{{ .Template.Field }}" .Values.dot}}',
    },
    values: { dot: { Template: { BasePath: 'path/to/template', Name: 'name-of-template', Field: 'extra-field' } } },
    expect: {
      'default-basepath': 'TplTemplateNames/templates',
      'default-name': 'TplTemplateNames/templates/default-name',
      'modified-basepath': 'path/to/template',
      'modified-name': 'name-of-template',
      'modified-field': 'extra-field',
    },
  },
  {
    name: 'TestRenderTplRedefines',
    chartName: 'TplRedefines',
    templates: {
      _partials: '{{define "partial"}}original-in-partial{{end}}',
      partial: 'before: {{include "partial" .}}\n{{tpl .Values.partialText .}}\nafter: {{include "partial" .}}',
      manifest: '{{define "manifest"}}original-in-manifest{{end}}before: {{include "manifest" .}}\n{{tpl .Values.manifestText .}}\nafter: {{include "manifest" .}}',
      'manifest-only': '{{define "manifest-only"}}only-in-manifest{{end}}before: {{include "manifest-only" .}}\n{{tpl .Values.manifestOnlyText .}}\nafter: {{include "manifest-only" .}}',
      nested:
        '{{define "nested"}}original-in-manifest{{end}}{{define "nested-outer"}}original-outer-in-manifest{{end}}before: {{include "nested" .}} {{include "nested-outer" .}}\n{{tpl .Values.nestedText .}}\nafter: {{include "nested" .}} {{include "nested-outer" .}}',
    },
    values: {
      partialText: '{{define "partial"}}redefined-in-tpl{{end}}tpl: {{include "partial" .}}',
      manifestText: '{{define "manifest"}}redefined-in-tpl{{end}}tpl: {{include "manifest" .}}',
      manifestOnlyText: 'tpl: {{include "manifest-only" .}}',
      nestedText:
        '{{define "nested"}}redefined-in-tpl{{end}}{{define "nested-outer"}}redefined-outer-in-tpl{{end}}before-inner-tpl: {{include "nested" .}} {{include "nested-outer" . }}\n{{tpl .Values.innerText .}}\nafter-inner-tpl: {{include "nested" .}} {{include "nested-outer" . }}',
      innerText: '{{define "nested"}}redefined-in-inner-tpl{{end}}inner-tpl: {{include "nested" .}} {{include "nested-outer" . }}',
    },
    expect: {
      partial: 'before: original-in-partial\ntpl: redefined-in-tpl\nafter: original-in-partial',
      manifest: 'before: original-in-manifest\ntpl: redefined-in-tpl\nafter: original-in-manifest',
      'manifest-only': 'before: only-in-manifest\ntpl: only-in-manifest\nafter: only-in-manifest',
      nested:
        'before: original-in-manifest original-outer-in-manifest\nbefore-inner-tpl: redefined-in-tpl redefined-outer-in-tpl\ninner-tpl: redefined-in-inner-tpl redefined-outer-in-tpl\nafter-inner-tpl: redefined-in-tpl redefined-outer-in-tpl\nafter: original-in-manifest original-outer-in-manifest',
    },
  },
  { name: 'TestRenderTplMissingKey', chartName: 'TplMissingKey', templates: { manifest: 'missingValue: {{tpl "{{.Values.noSuchKey}}" .}}' }, expect: { manifest: 'missingValue: ' } },
  {
    name: 'files under templates/ with any extension render; partials and NOTES.txt do not become documents',
    chartName: 'exts',
    templates: { 'a.yaml': 'a: 1', 'b.json': '{"b": {{ 2 }}}', 'c.txt': 'c: 3', '_d.tpl': 'ignored', 'NOTES.txt': 'Thanks!' },
    expect: { 'a.yaml': 'a: 1', 'b.json': '{"b": 2}', 'c.txt': 'c: 3' },
  },
  { name: 'NOTES.txt is rendered: its errors count', chartName: 'notes', templates: { 'a.yaml': 'a: 1', 'NOTES.txt': '{{ fail "bad notes" }}' }, error: { template: 'NOTES.txt', line: 1, message: 'bad notes' } },
];

// funcs_test.go TestFuncs (TOML and lookup left out).
const funcTests: Case[] = [
  { name: 'toYaml', tpl: '{{ toYaml . }}', data: { foo: 'bar' }, out: 'foo: bar' },
  { name: 'toJson', tpl: '{{ toJson . }}', data: { foo: 'bar' }, out: '{"foo":"bar"}' },
  { name: 'fromYaml', tpl: '{{ fromYaml . }}', data: 'hello: world', out: 'map[hello:world]' },
  { name: 'fromYamlArray', tpl: '{{ fromYamlArray . }}', data: '- one\n- 2\n- name: helm\n', out: '[one 2 map[name:helm]]' },
  { name: 'fromYamlArray of JSON', tpl: '{{ fromYamlArray . }}', data: '["one", 2, { "name": "helm" }]', out: '[one 2 map[name:helm]]' },
  {
    name: 'fromYaml of a list',
    tpl: '{{ fromYaml . }}',
    data: '- one\n- two\n',
    out: 'map[Error:error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}]',
  },
  { name: 'fromJson', tpl: '{{ fromJson .}}', data: '{"hello":"world"}', out: 'map[hello:world]' },
  { name: 'fromJson of a list', tpl: '{{ fromJson . }}', data: '["one", "two"]', out: 'map[Error:json: cannot unmarshal array into Go value of type map[string]interface {}]' },
  { name: 'fromJsonArray', tpl: '{{ fromJsonArray . }}', data: '["one", 2, { "name": "helm" }]', out: '[one 2 map[name:helm]]' },
  { name: 'fromJsonArray of an object', tpl: '{{ fromJsonArray . }}', data: '{"hello": "world"}', out: '[json: cannot unmarshal object into Go value of type []interface {}]' },
  { name: 'merge dict into fromYaml', tpl: '{{ merge .dict (fromYaml .yaml) }}', data: { dict: { a: { b: 'c' } }, yaml: '{"a":{"b":"d"}}' }, out: 'map[a:map[b:c]]' },
  { name: 'merge fromYaml into dict', tpl: '{{ merge (fromYaml .yaml) .dict }}', data: { dict: { a: { b: 'c' } }, yaml: '{"a":{"b":"d"}}' }, out: 'map[a:map[b:d]]' },
  { name: 'fromYaml of a JSON list', tpl: '{{ fromYaml . }}', data: '["one", "two"]', out: 'map[Error:error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}]' },
  { name: 'fromYamlArray of a map', tpl: '{{ fromYamlArray . }}', data: 'hello: world', out: '[error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go value of type []interface {}]' },
  { name: 'mustToYaml of a loop', tpl: '{{ $m := dict "foo" "bar" }}{{ $_ := set $m "loop" (list $m) }}{{ mustToYaml $m }}', err: true },
  { name: 'mustToJson of a loop', tpl: '{{ $m := dict "foo" "bar" }}{{ $_ := set $m "loop" (list $m) }}{{ mustToJson $m }}', err: true },
  { name: 'toYaml of a loop', tpl: '{{ $m := dict "foo" "bar" }}{{ $_ := set $m "loop" (list $m) }}{{ toYaml $m }}', out: '', diff: { why: 'a self-referential value is a template error, not an empty string', err: /nested more than/ } },
  { name: 'toJson of a loop', tpl: '{{ $m := dict "foo" "bar" }}{{ $_ := set $m "loop" (list $m) }}{{ toJson $m }}', out: '', diff: { why: 'a self-referential value is a template error, not an empty string', err: /nested more than/ } },
];

describe("Helm's engine tests (helm/helm pkg/engine/engine_test.go, funcs_test.go)", () => {
  for (const c of engineTests) {
    test(c.name, () => {
      const r = render(c);
      if (c.error) {
        assert.ok('error' in r, `expected an error, got ${JSON.stringify(r)}`);
        if ('error' in r) {
          assert.equal(r.error.template, c.error.template);
          assert.equal(r.error.line, c.error.line);
          if (typeof c.error.message === 'string') assert.equal(r.error.message, c.error.message);
          else assert.match(r.error.message, c.error.message);
        }
        return;
      }
      assert.ok('docs' in r, `expected documents, got ${JSON.stringify(r)}`);
      if ('docs' in r) {
        for (const [file, text] of Object.entries(c.expect ?? {})) assert.equal(r.docs[file] ?? '', text, file);
        for (const file of Object.keys(r.docs)) assert.ok(file in (c.expect ?? {}), `unexpected document ${file}`);
      }
    });
  }
  runTable('TestFuncs', funcTests);
});
