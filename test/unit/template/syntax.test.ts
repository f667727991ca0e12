// The template language itself: actions, data access, variables, control
// structures, whitespace trimming, comments, literals and named templates.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { render, renderError, values } from './helpers';

describe('data access', () => {
  test('.Values paths, $ root and dot', () => {
    const data = { Values: { image: { name: 'nginx', tag: 1.25 } }, Release: { Name: 'web' } };
    assert.equal(render('{{ .Values.image.name }}:{{ .Values.image.tag }}', data), 'nginx:1.25');
    assert.equal(render('{{ with .Values.image }}{{ .name }}-{{ $.Release.Name }}{{ end }}', data), 'nginx-web');
    assert.equal(render('{{ . }}', 'plain'), 'plain');
  });

  test('a missing map key renders empty, like Helm', () => {
    assert.equal(render('[{{ .Values.nope }}]', values({})), '[]');
  });

  test('a field of a missing value is an error naming the path', () => {
    const e = renderError('ok\n  {{ .Values.a.b }}', values({}));
    assert.equal(e.line, 2);
    assert.equal(e.column, 6);
    assert.match(e.message, /at <\.Values\.a\.b>: nil pointer evaluating interface \{\}\.b/);
  });

  test('a field of a scalar is an error', () => {
    assert.match(renderError('{{ .Values.n.x }}', values({ n: 3 })).message, /can't evaluate field x in type int/);
  });

  test('JavaScript internals are not reachable as fields', () => {
    assert.equal(render('[{{ .Values.constructor }}][{{ .Values.__proto__ }}][{{ .Values.toString }}]', values({})), '[][][]');
  });

  test('printing lists, maps, booleans and numbers like Go', () => {
    const data = values({ l: [1, 'a', true], m: { b: 2, a: [1] }, f: 1.5, big: 1e21 });
    assert.equal(render('{{ .Values.l }} {{ .Values.m }} {{ .Values.f }} {{ .Values.big }}', data), '[1 a true] map[a:[1] b:2] 1.5 1e+21');
  });
});

describe('literals', () => {
  test('strings with escapes, raw strings, numbers, booleans, nil, characters', () => {
    assert.equal(render('{{ "a\\tb\\n\\"q\\"\\u00e9" }}'), 'a\tb\n"q"é');
    assert.equal(render('{{ `raw\\n {{` }}'), 'raw\\n {{');
    assert.equal(render('{{ 42 }} {{ -7 }} {{ 3.5 }} {{ 0x1F }} {{ 1_000 }} {{ 1e3 }}'), '42 -7 3.5 31 1000 1000');
    assert.equal(render("{{ true }} {{ false }} {{ 'a' }}"), 'true false 97');
    assert.equal(render('[{{ print nil }}]'), '[<nil>]');
  });

  test('malformed literals are located errors', () => {
    assert.match(renderError('{{ "abc }}').message, /unterminated quoted string/);
    assert.match(renderError('{{ 12ab }}').message, /bad number syntax/);
    assert.match(renderError('{{ "\\q" }}').message, /invalid escape/);
  });
});

describe('whitespace trimming and comments', () => {
  test('{{- trims before, -}} trims after, including newlines', () => {
    assert.equal(render('a  \n  {{- "b" -}}  \n  c'), 'abc');
    assert.equal(render('a {{- "b" }} c'), 'ab c');
    assert.equal(render('a {{ "b" -}} c'), 'a bc');
  });

  test('a dash without a space is a negative number, not a trim marker', () => {
    assert.equal(render('a {{-3}} b'), 'a -3 b');
  });

  test('comments produce nothing, and can trim', () => {
    assert.equal(render('a{{/* a comment\n over lines */}}b'), 'ab');
    assert.equal(render('a \n{{- /* trimmed */ -}}\n b'), 'ab');
  });

  test('a comment must close right before the delimiter', () => {
    assert.match(renderError('{{/* c */ x }}').message, /comment ends before closing delimiter/);
    assert.match(renderError('{{/* never closed').message, /unclosed comment/);
  });
});

describe('variables', () => {
  test('declaration prints nothing; assignment updates the outer variable', () => {
    assert.equal(render('{{ $x := 1 }}[{{ $x }}]{{ if true }}{{ $x = 2 }}{{ end }}[{{ $x }}]'), '[1][2]');
  });

  test('a variable declared in a block ends with it', () => {
    const e = renderError('{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}');
    assert.match(e.message, /undefined variable "\$y"/);
    assert.equal(e.column, 39);
  });

  test('assigning an undeclared variable is a parse error', () => {
    assert.match(renderError('{{ $z = 1 }}').message, /undefined variable "\$z"/);
  });

  test('$ is the template data even inside range and with', () => {
    assert.equal(render('{{ range .Values.l }}{{ $.Values.p }}{{ . }}{{ end }}', values({ l: [1, 2], p: '-' })), '-1-2');
  });

  test('variables can carry field chains', () => {
    assert.equal(render('{{ $v := .Values }}{{ $v.a.b }}', values({ a: { b: 'deep' } })), 'deep');
  });
});

describe('if / else if / else', () => {
  const pick = '{{ if .Values.a }}A{{ else if .Values.b }}B{{ else }}C{{ end }}';
  test('branches follow Go truthiness', () => {
    assert.equal(render(pick, values({ a: 1 })), 'A');
    assert.equal(render(pick, values({ a: 0, b: 'x' })), 'B');
    for (const empty of [0, '', false, null, [], {}]) assert.equal(render(pick, values({ a: empty, b: empty })), 'C');
  });

  test('a variable declared in the condition is visible in the branches', () => {
    assert.equal(render('{{ if $n := .Values.n }}{{ $n }}{{ else }}none{{ end }}', values({ n: 5 })), '5');
  });

  test('missing end, stray else and stray end are located parse errors', () => {
    const unclosed = renderError('line1\n{{ if .Values.a }}\nx');
    assert.deepEqual([unclosed.line, unclosed.message], [2, 'unclosed {{if}}: missing {{end}}']);
    assert.match(renderError('{{ else }}').message, /unexpected \{\{else\}\}/);
    assert.match(renderError('a\n{{ end }}').message, /unexpected \{\{end\}\}/);
    assert.equal(renderError('a\n{{ end }}').line, 2);
  });
});

describe('range', () => {
  test('over a list, with element and with index + element', () => {
    const data = values({ l: ['a', 'b', 'c'] });
    assert.equal(render('{{ range .Values.l }}{{ . }}{{ end }}', data), 'abc');
    assert.equal(render('{{ range $v := .Values.l }}{{ $v }}{{ end }}', data), 'abc');
    assert.equal(render('{{ range $i, $v := .Values.l }}{{ $i }}={{ $v }};{{ end }}', data), '0=a;1=b;2=c;');
  });

  test('over a map in sorted key order, with key + value', () => {
    const data = values({ m: { zeta: 1, alpha: 2, mid: 3 } });
    assert.equal(render('{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }},{{ end }}', data), 'alpha=2,mid=3,zeta=1,');
    assert.equal(render('{{ range .Values.m }}{{ . }}{{ end }}', data), '231');
  });

  test('over an integer (Go 1.22)', () => {
    assert.equal(render('{{ range 3 }}{{ . }}{{ end }}'), '012');
  });

  test('else runs for an empty or missing collection', () => {
    assert.equal(render('{{ range .Values.l }}x{{ else }}empty{{ end }}', values({ l: [] })), 'empty');
    assert.equal(render('{{ range .Values.none }}x{{ else }}empty{{ end }}', values({})), 'empty');
  });

  test('break and continue', () => {
    const t = '{{ range $i := until 10 }}{{ if eq $i 2 }}{{ continue }}{{ end }}{{ if eq $i 5 }}{{ break }}{{ end }}{{ $i }}{{ end }}';
    assert.equal(render(t), '0134');
  });

  test('break outside range is a parse error', () => {
    assert.match(renderError('{{ break }}').message, /outside \{\{range\}\}/);
  });

  test('ranging over a string is an error', () => {
    const e = renderError('{{ range .Values.s }}{{ end }}', values({ s: 'secret-abc' }));
    assert.match(e.message, /range can't iterate over a value of type string/);
    assert.doesNotMatch(e.message, /secret/, 'values (maybe secrets) are not quoted in errors');
  });

  test('loop variables are fresh in each iteration and gone after', () => {
    assert.match(renderError('{{ range $i, $v := list 1 }}{{ end }}{{ $v }}').message, /undefined variable "\$v"/);
  });
});

describe('with', () => {
  test('sets dot when the value is non-empty, else runs the else branch', () => {
    assert.equal(render('{{ with .Values.db }}{{ .host }}:{{ .port }}{{ end }}', values({ db: { host: 'h', port: 5 } })), 'h:5');
    assert.equal(render('{{ with .Values.db }}set{{ else }}unset {{ . | len }}{{ end }}', values({ db: {} })), 'unset 1');
  });

  test('else with chains', () => {
    assert.equal(render('{{ with .Values.a }}a{{ else with .Values.b }}{{ . }}{{ end }}', values({ b: 'bee' })), 'bee');
  });
});

describe('pipelines and calls', () => {
  test('the piped value is the last argument', () => {
    assert.equal(render('{{ "abc" | upper | printf "%s-%s" "x" }}'), 'x-ABC');
  });

  test('parenthesized calls and chains on them', () => {
    assert.equal(render('{{ printf "%d" (add 1 (len (list 1 2))) }}'), '3');
    assert.equal(render('{{ (dict "a" (dict "b" "c")).a.b }}'), 'c');
  });

  test('a function name as an argument is a call without arguments', () => {
    assert.equal(render('{{ len list }}'), '0');
  });

  test('and/or short-circuit and return the deciding value', () => {
    assert.equal(render('{{ and 1 "x" }}|{{ and 0 (fail "not evaluated") }}|{{ or "" 0 "first" "second" }}|{{ or 0 "" }}'), 'x|0|first|');
  });

  test('unknown function, unclosed action and bad pipelines are located errors', () => {
    const unknown = renderError('a\nb {{ .Values.x | frobnicate }}');
    assert.deepEqual([unknown.line, unknown.column, unknown.message], [2, 18, 'function "frobnicate" not defined']);

    const unclosed = renderError('x\n\n  {{ .Values.x \nmore text');
    assert.deepEqual([unclosed.line, unclosed.column, unclosed.message], [3, 3, 'unclosed action']);

    assert.match(renderError('{{ .Values.x | }}').message, /missing command after \|/);
    assert.match(renderError('{{ | upper }}').message, /missing value for command/);
    assert.match(renderError('{{ }}').message, /missing value for command/);
    assert.match(renderError('{{ "a" | "b" }}').message, /non executable command in pipeline stage 2/);
    assert.match(renderError('{{ (upper "a" }}').message, /unclosed left paren/);
    assert.match(renderError('{{ upper "a") }}').message, /unexpected right paren/);
    assert.match(renderError('{{ "a""b" }}').message, /in operand/);
  });

  test('arguments to a non-function are an error', () => {
    assert.match(renderError('{{ .Values.a "x" }}', values({ a: 1 })).message, /can't give argument to non-function \.Values\.a/);
    assert.match(renderError('{{ "x" | .Values.a }}', values({ a: 1 })).message, /can't give argument to non-function/);
  });

  test('wrong argument counts are reported with the function name', () => {
    assert.match(renderError('{{ upper "a" "b" }}').message, /wrong number of args for upper: want 1 got 2/);
  });

  test('function errors carry the call position', () => {
    const e = renderError('x\n  {{ div 1 0 }}');
    assert.deepEqual([e.line, e.column, e.message], [2, 6, 'error calling div: integer divide by zero']);
  });
});

describe('define, template, include, block', () => {
  test('template writes a named template with the given data', () => {
    assert.equal(render('{{ define "greet" }}hi {{ . }}{{ end }}{{ template "greet" "bob" }}!'), 'hi bob!');
  });

  test('include returns the text, so it can be piped (nested includes and nindent)', () => {
    const helpers = {
      '_helpers.tpl': [
        '{{- define "labels" -}}',
        'app: {{ .Values.app }}',
        '{{ include "extra" . }}',
        '{{- end -}}',
        '{{- define "extra" -}}',
        'tier: {{ .Values.tier | default "web" }}',
        '{{- end -}}',
      ].join('\n'),
    };
    const out = render('meta:\n  labels:{{ include "labels" . | nindent 4 }}\n', values({ app: 'shop' }), { helpers });
    assert.equal(out, 'meta:\n  labels:\n    app: shop\n    tier: web\n');
  });

  test('defines have their own variable scope: only $', () => {
    assert.match(renderError('{{ $x := 1 }}{{ define "t" }}{{ $x }}{{ end }}').message, /undefined variable "\$x"/);
  });

  test('template/include of an unknown name is an error at the call', () => {
    const e = renderError('\n{{ include "nope" . }}');
    assert.deepEqual([e.line, e.message], [2, 'error calling include: template "nope" not defined']);
    assert.match(renderError('{{ template "nope" }}').message, /template "nope" not defined/);
  });

  test('block defines a default and calls it', () => {
    assert.equal(render('[{{ block "b" . }}default {{ . }}{{ end }}]', 'x'), '[default x]');
  });

  test('an error inside a helper points at the helper file and line', () => {
    const helpers = { '_helpers.tpl': '{{ define "bad" }}\n\n{{ required "need .Values.x" .Values.x }}{{ end }}' };
    const e = renderError('{{ include "bad" . }}', values({}), { helpers, name: 'job.yaml' });
    assert.deepEqual(e, { template: '_helpers.tpl', line: 3, column: 4, message: 'need .Values.x' });
  });

  test('define is only allowed at the top level', () => {
    assert.match(renderError('{{ if true }}{{ define "x" }}{{ end }}{{ end }}').message, /only allowed at the top level/);
  });
});
