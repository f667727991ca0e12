// Hostile templates: each must end in a located error, never a hang, a
// crash or unbounded memory.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_LIMITS, renderTemplate } from '../../../src/render/template';
import { render, renderError, values } from './helpers';

describe('recursion', () => {
  test('a self-recursive include stops at the template depth limit, located in the helper', () => {
    const helpers = { '_helpers.tpl': '{{ define "loop" }}\nx{{ include "loop" . }}{{ end }}' };
    const e = renderError('{{ include "loop" . }}', {}, { helpers, name: 'job.yaml' });
    assert.equal(e.template, '_helpers.tpl');
    assert.equal(e.line, 2);
    assert.match(e.message, new RegExp(`nested deeper than ${DEFAULT_LIMITS.maxTemplateDepth} levels calling "loop"`));
  });

  test('mutual recursion through {{template}} stops the same way', () => {
    const e = renderError('{{ define "a" }}{{ template "b" . }}{{ end }}{{ define "b" }}{{ template "a" . }}{{ end }}{{ template "a" . }}');
    assert.match(e.message, /nested deeper than/);
  });

  test('tpl that renders itself stops at the depth limit', () => {
    const e = renderError('{{ tpl .Values.t . }}', values({ t: '{{ tpl .Values.t . }}' }));
    assert.match(e.message, /nested deeper than/);
  });

  test('the depth limit is configurable and counts legitimate nesting too', () => {
    const helpers = { '_h.tpl': '{{ define "d" }}{{ if gt . 0 }}{{ include "d" (sub . 1) }}{{ end }}{{ end }}' };
    assert.equal(render('{{ include "d" 3 }}done', {}, { helpers, limits: { maxTemplateDepth: 4 } }), 'done');
    assert.match(renderError('{{ include "d" 4 }}', {}, { helpers, limits: { maxTemplateDepth: 4 } }).message, /nested deeper than 4/);
  });

  test('without a depth limit, exhausting the stack is still an error, not a crash', () => {
    const r = renderTemplate('{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}', {}, { limits: { maxTemplateDepth: 1e9, maxSteps: 1e9 } });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.errors[0]?.message ?? '', /stack exhausted|nested too deeply/);
  });
});

describe('loops', () => {
  test('a huge range fails on the step budget before allocating', () => {
    const e = renderError('ok\n{{ range until 100000000 }}x{{ end }}');
    assert.equal(e.line, 2);
    assert.match(e.message, /exceeded 1000000 steps/);
  });

  test('nested ranges are counted as a whole', () => {
    assert.match(renderError('{{ range $i := until 1000 }}{{ range until 1000 }}{{ end }}{{ end }}').message, /exceeded 1000000 steps/);
  });

  test('ranging over a huge integer', () => {
    assert.match(renderError('{{ range 100000000 }}{{ end }}').message, /exceeded .* steps/);
  });

  test('the step limit is configurable', () => {
    assert.equal(render('{{ range until 50 }}.{{ end }}', {}, { limits: { maxSteps: 1000 } }).length, 50);
    assert.match(renderError('{{ range until 50 }}.{{ end }}', {}, { limits: { maxSteps: 100 } }).message, /exceeded 100 steps/);
  });
});

describe('sizes', () => {
  test('output is bounded', () => {
    const e = renderError('{{ range until 1000 }}0123456789{{ end }}', {}, { limits: { maxOutputChars: 5000 } });
    assert.match(e.message, /output exceeds 5000 characters/);
  });

  test('doubling a string in a loop hits the string limit', () => {
    const e = renderError('{{ $s := "ab" }}{{ range until 64 }}{{ $s = printf "%s%s" $s $s }}{{ end }}');
    assert.match(e.message, /exceeds the limit of/);
  });

  test('repeat, printf width and indent refuse oversized results before building them', () => {
    assert.match(renderError('{{ repeat 1000000000 "abc" }}').message, /exceeds the limit/);
    assert.match(renderError('{{ printf "%5000d" 1 }}', {}, { limits: { maxStringChars: 1000 } }).message, /exceeds the limit/);
    assert.match(renderError('{{ printf "%.5000f" 1.5 }}', {}, { limits: { maxStringChars: 1000 } }).message, /exceeds the limit/);
    // Go itself refuses widths over 1e6 (the verb is not read).
    assert.equal(render('{{ printf "%999999999d" 1 }}'), '%!(NOVERB)%!(EXTRA int=1)');
    assert.match(renderError('{{ $s := repeat 200000 "\\n" }}{{ indent 100 $s }}').message, /exceeds the limit/);
    assert.match(renderError('{{ $s := repeat 1000000 "a" }}{{ replace "a" "aaaaaaaaaa" $s }}').message, /exceeds the limit/);
  });

  test('an exponentially shared value cannot be serialized or printed into a huge string', () => {
    const build = '{{ $d := dict "k" "v" }}{{ range until 40 }}{{ $d = dict "a" $d "b" $d }}{{ end }}';
    for (const use of ['{{ toJson $d }}', '{{ toYaml $d }}', '{{ $d }}', '{{ printf "%v" $d }}']) {
      const e = renderError(build + use);
      assert.match(e.message, /exceeds the limit|exceeded .* steps|nested more than/, use);
    }
  });

  test('a self-referential map is refused, not walked forever', () => {
    const e = renderError('{{ $d := dict }}{{ $_ := set $d "me" $d }}{{ toJson $d }}');
    assert.match(e.message, /nested more than 64 levels deep/);
  });

  test('total produced text is bounded even when nothing is output', () => {
    const e = renderError('{{ $s := repeat 100000 "x" }}{{ range until 1000 }}{{ $_ := printf "%s" $s }}{{ end }}', {}, { limits: { maxProducedChars: 10_000_000 } });
    assert.match(e.message, /produced more than 10000000 characters/);
  });
});

describe('parsing hostile input', () => {
  test('deeply nested control structures and parentheses are refused', () => {
    assert.match(renderError('{{ if true }}'.repeat(200) + '{{ end }}'.repeat(200)).message, /nesting exceeds 64 levels/);
    assert.match(renderError(`{{ ${'('.repeat(5000)}1${')'.repeat(5000)} }}`).message, /nesting exceeds 64 levels/);
  });

  test('long runs of whitespace next to trim markers are handled', () => {
    const spaces = ' '.repeat(1_000_000);
    assert.equal(render(`a${spaces}x${spaces}{{- "b" -}}${spaces}c`), `a${spaces}xbc`);
  });

  test('a large template of many actions renders', () => {
    const text = '{{ .Values.x }}\n'.repeat(20_000);
    assert.equal(render(text, values({ x: 1 })).length, 40_000);
  });
});
