// Every template function, with Helm/Sprig's argument order and edge cases.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { load } from 'js-yaml';
import { FUNCTION_NAMES } from '../../../src/render/template';
import { render, renderError, values } from './helpers';

describe('defaults and checks', () => {
  test('default replaces empty values only', () => {
    const data = values({ zero: 0, empty: '', f: false, set: 'x', list: [], n: 3 });
    assert.equal(
      render('{{ .Values.none | default "d" }} {{ .Values.zero | default 5 }} {{ .Values.empty | default "e" }} {{ .Values.f | default true }} {{ .Values.set | default "d" }} {{ .Values.list | default "l" }} {{ .Values.n | default 9 }}', data),
      'd 5 e true x l 3',
    );
    assert.equal(render('{{ default "only" }}'), 'only');
  });

  test('required passes values through and fails on nil or "" with the message and line', () => {
    assert.equal(render('{{ required "x!" .Values.x }} {{ required "z" .Values.zero }}', values({ x: 'ok', zero: 0 })), 'ok 0');
    const e = renderError('a: 1\nb: {{ required "b is required" .Values.b }}', values({}));
    assert.deepEqual([e.line, e.column, e.message], [2, 7, 'b is required']);
    assert.equal(renderError('{{ required "empty" .Values.s }}', values({ s: '' })).message, 'empty');
  });

  test('fail stops rendering with the message', () => {
    assert.equal(renderError('{{ if true }}{{ fail "bad values" }}{{ end }}').message, 'bad values');
  });

  test('empty, coalesce, ternary', () => {
    assert.equal(render('{{ empty "" }} {{ empty (list) }} {{ empty 0 }} {{ empty "x" }} {{ empty (dict "a" 1) }}'), 'true true true false false');
    assert.equal(render('{{ coalesce .Values.a "" .Values.b "c" }}', values({ b: 'bee' })), 'bee');
    assert.equal(render('{{ ternary "yes" "no" true }} {{ ternary "yes" "no" false }} {{ true | ternary 1 2 }}'), 'yes no 1');
  });
});

describe('comparison and logic', () => {
  test('eq/ne on strings, numbers, booleans and nil; eq with several candidates', () => {
    assert.equal(render('{{ eq "a" "a" }} {{ eq 1 1.0 }} {{ eq true false }} {{ ne 1 2 }} {{ eq .Values.none nil }} {{ eq .Values.none "x" }}', values({})), 'true true false true true false');
    assert.equal(render('{{ eq "b" "a" "b" "c" }} {{ eq "z" "a" "b" }}'), 'true false');
  });

  test('comparing different kinds is an error, like Go', () => {
    assert.match(renderError('{{ eq "1" 1 }}').message, /error calling eq: incompatible types for comparison/);
    assert.match(renderError('{{ lt (list) 1 }}').message, /invalid type for comparison/);
  });

  test('lt le gt ge on numbers and strings', () => {
    assert.equal(render('{{ lt 1 2 }} {{ le 2 2 }} {{ gt 3 2 }} {{ ge 1 2 }} {{ lt "a" "b" }} {{ gt "a" "b" }}'), 'true true true false true false');
  });

  test('not, and, or', () => {
    assert.equal(render('{{ not "" }} {{ not 1 }} {{ and 1 2 }} {{ or 0 3 }}'), 'true false 2 3');
  });
});

describe('strings', () => {
  test('quote and squote (nil is skipped, like Sprig)', () => {
    assert.equal(render('{{ quote "a\\"b\\n" }} {{ quote 5 }} [{{ quote .Values.none }}] {{ squote "x" }} {{ quote "a" "b" }}', values({})), '"a\\"b\\n" "5" [] \'x\' "a" "b"');
  });

  test('upper, lower, title, trim, trimAll, trimPrefix, trimSuffix', () => {
    assert.equal(render('{{ upper "aB" }} {{ lower "aB" }} {{ title "hello big-world" }} [{{ trim "  x \\n" }}] {{ trimAll "$" "$$5$" }}'), 'AB ab Hello Big-World [x] 5');
    assert.equal(render('{{ trimPrefix "v" "v1.2" }} {{ trimSuffix "-" "name-" }} {{ "file.yaml" | trimSuffix ".yaml" }}'), '1.2 name file');
  });

  test('replace, contains, hasPrefix, hasSuffix', () => {
    assert.equal(render('{{ replace "." "-" "a.b.c" }} {{ "a b" | replace " " "" }} {{ replace "" "-" "ab" }}'), 'a-b-c ab -a-b-');
    assert.equal(render('{{ contains "ell" "hello" }} {{ hasPrefix "he" "hello" }} {{ hasSuffix "lo" "hello" }} {{ contains "z" "hello" }}'), 'true true true false');
  });

  test('indent and nindent indent every line', () => {
    assert.equal(render('{{ "a\\nb" | indent 2 }}'), '  a\n  b');
    assert.equal(render('x:{{ "a: 1\\nb: 2" | nindent 4 }}'), 'x:\n    a: 1\n    b: 2');
  });

  test('trunc, substr, repeat, nospace, cat', () => {
    assert.equal(render('{{ trunc 3 "abcdef" }} {{ trunc -2 "abcdef" }} {{ trunc 10 "ab" }}'), 'abc ef ab');
    assert.equal(render('{{ substr 1 3 "abcdef" }} {{ substr 2 -1 "abcdef" }}'), 'bc cdef');
    assert.equal(render('{{ repeat 3 "ab" }} {{ nospace " a b\\tc " }} {{ cat "a" 1 .Values.none "b" }}', values({})), 'ababab abc a 1 b');
  });

  test('split, splitList, join', () => {
    assert.equal(render('{{ $p := split "." "a.b.c" }}{{ $p._0 }}{{ $p._2 }}'), 'ac');
    assert.equal(render('{{ splitList "," "x,y" | join "+" }} {{ join "-" (list 1 "a" nil true) }} {{ join "," "solo" }}'), 'x+y 1-a-true solo');
  });

  test('b64enc, b64dec, sha256sum', () => {
    assert.equal(render('{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }}'), 'aGVsbG8= hello');
    assert.equal(render('{{ sha256sum "abc" }}'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.match(renderError('{{ b64dec "!!" }}').message, /illegal base64/);
  });

  test('string functions reject lists and maps', () => {
    assert.match(renderError('{{ upper (list 1) }}').message, /error calling upper: argument: expected string; got \[\]interface \{\}/);
  });
});

describe('printing', () => {
  test('printf verbs %s %d %v %q %f %t %x and width/precision', () => {
    assert.equal(render('{{ printf "%s=%d %v %q" "n" 42 (list 1 2) "q" }}'), 'n=42 [1 2] "q"');
    assert.equal(render('{{ printf "%.2f|%5d|%-4s|%05d|%t|%x|%%" 3.14159 42 "ab" -42 true 255 }}'), '3.14|   42|ab  |-0042|true|ff|%');
  });

  test('printf mismatches are shown inline, like Go', () => {
    assert.equal(render('{{ printf "%d %s" "x" }}'), '%!d(string=x) %!s(MISSING)');
    assert.equal(render('{{ printf "a" 1 }}'), 'a%!(EXTRA int=1)');
    assert.equal(render('{{ printf "%s" .Values.none }}', values({})), '%!s(<nil>)');
  });

  test('print and println', () => {
    assert.equal(render('{{ print "a" 1 2 "b" }}|{{ println "a" 1 }}'), 'a1 2b|a 1\n');
  });

  test('toString', () => {
    assert.equal(render('{{ toString 5 }} {{ toString true }} {{ toString (list 1) }}'), '5 true [1]');
  });
});

describe('lists and maps', () => {
  test('list, len, first, last, append, prepend, concat, has, until', () => {
    assert.equal(render('{{ $l := list 1 2 3 }}{{ len $l }} {{ first $l }} {{ last $l }} {{ append $l 4 }} {{ prepend $l 0 }} {{ concat $l (list 9) }} {{ has 2 $l }} {{ has 7 $l }} {{ until 3 }}'),
      '3 1 3 [1 2 3 4] [0 1 2 3] [1 2 3 9] true false [0 1 2]');
    assert.equal(render('{{ len "abc" }} {{ len (dict "a" 1) }}'), '3 1');
  });

  test('dict, get, set, unset, hasKey, keys, values', () => {
    assert.equal(render('{{ $d := dict "b" 2 "a" 1 }}{{ get $d "a" }}[{{ get $d "zz" }}] {{ hasKey $d "b" }} {{ hasKey $d "c" }} {{ keys $d }} {{ values $d }}'), '1[] true false [a b] [1 2]');
    assert.equal(render('{{ $d := dict }}{{ $_ := set $d "k" "v" }}{{ $d.k }}{{ $_ := unset $d "k" }}[{{ $d.k }}]'), 'v[]');
  });

  test('dict keys named like JavaScript internals are ordinary keys', () => {
    assert.equal(render('{{ $d := dict "__proto__" "p" "constructor" "c" }}{{ get $d "__proto__" }}{{ $d.constructor }} {{ keys $d }}'), 'pc [__proto__ constructor]');
  });

  test('merge keeps the destination, mergeOverwrite lets sources win; both deep', () => {
    const data = values({ a: { x: 1, nested: { k: 'dst' } }, b: { y: 2, nested: { k: 'src', j: 3 } } });
    assert.equal(render('{{ toJson (merge (dict) .Values.a .Values.b) }}', data), '{"nested":{"j":3,"k":"dst"},"x":1,"y":2}');
    assert.equal(render('{{ toJson (mergeOverwrite (dict) .Values.a .Values.b) }}', data), '{"nested":{"j":3,"k":"src"},"x":1,"y":2}');
  });

  test('index and slice', () => {
    const data = values({ l: ['a', 'b', 'c'], m: { 'with-dash': { inner: 'v' } } });
    assert.equal(render('{{ index .Values.l 1 }} {{ index .Values.m "with-dash" "inner" }} {{ slice .Values.l 1 }}', data), 'b v [b c]');
    // In Helm, Sprig's slice replaces Go's builtin: lists only.
    assert.match(renderError('{{ slice "hello" 1 3 }}').message, /list should be type of slice or array but string/);
    assert.match(renderError('{{ index .Values.l 5 }}', data).message, /index out of range: 5/);
  });
});

describe('conversion and serialization', () => {
  test('int, int64, float64, atoi', () => {
    assert.equal(render('{{ int "42" }} {{ int 3.9 }} {{ int "junk" }} {{ int64 "7" }} {{ float64 "1.5" }} {{ atoi "12" }} {{ int true }}'), '42 3 0 7 1.5 12 1');
    // spf13/cast, as Sprig uses it: base-0 integers, a zero fraction dropped, anything else 0; atoi is decimal only.
    assert.equal(render('{{ int "010" }} {{ int "0x10" }} {{ int "3.00" }} {{ int "3.5" }} {{ int " 4" }} {{ atoi "010" }} {{ atoi "0x10" }}'), '8 16 3 0 0 10 0');
  });

  test('kindOf, kindIs, typeOf', () => {
    assert.equal(render('{{ kindOf "a" }} {{ kindOf 1 }} {{ kindOf 1.5 }} {{ kindOf (list) }} {{ kindOf (dict) }} {{ kindOf nil }} {{ kindIs "map" (dict) }}'), 'string int float64 slice map invalid true');
    assert.equal(render('{{ typeOf (list) }}'), '[]interface {}');
  });

  test('toYaml produces YAML that loads back to the same value, keys sorted', () => {
    const v = { b: [1, 'two', { c: null }], a: { s: 'x: y', t: 'true', multi: 'l1\nl2' } };
    const out = render('{{ toYaml .Values }}', values(v));
    assert.deepEqual(load(out), v);
    assert.ok(out.indexOf('a:') < out.indexOf('b:'));
    assert.ok(!out.endsWith('\n'));
  });

  test('toJson and toPrettyJson follow Go: sorted keys, HTML characters escaped', () => {
    assert.equal(render('{{ toJson .Values }}', values({ z: 1, a: ['<b>', true, null] })), '{"a":["\\u003cb\\u003e",true,null],"z":1}');
    assert.equal(render('{{ toPrettyJson (dict "a" (list 1)) }}'), '{\n  "a": [\n    1\n  ]\n}');
  });
});

describe('math', () => {
  test('add, add1, sub, mul, div, mod, max, min', () => {
    assert.equal(render('{{ add 1 2 3 }} {{ add1 9 }} {{ sub 5 7 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ mod 7 3 }} {{ max 1 9 3 }} {{ min 4 2 8 }}'), '6 10 -2 24 3 1 9 2');
  });
});

describe('tpl', () => {
  test('renders a value as a template with the given data, seeing named templates', () => {
    const helpers = { '_h.tpl': '{{ define "who" }}{{ .Values.who }}{{ end }}' };
    assert.equal(render('{{ tpl .Values.msg . }}', values({ msg: 'hi {{ include "who" . | upper }}', who: 'ann' }), { helpers }), 'hi ANN');
  });

  test('errors inside the text are reported at the tpl call with their position in the text', () => {
    const e = renderError('\n{{ tpl .Values.t . }}', values({ t: 'ok {{ nope }}' }));
    assert.equal(e.line, 2);
    assert.match(e.message, /error calling tpl: line 1, column 7 of the template text: function "nope" not defined/);
  });
});

test('the function table offers every function the charts rely on', () => {
  const expected = ['default', 'quote', 'squote', 'toYaml', 'toJson', 'indent', 'nindent', 'required', 'upper', 'lower', 'title', 'trim', 'trimSuffix', 'trimPrefix', 'replace', 'contains', 'hasPrefix', 'hasSuffix', 'printf', 'print', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'not', 'empty', 'list', 'dict', 'get', 'hasKey', 'len', 'int', 'toString', 'b64enc', 'trunc', 'join', 'split', 'include', 'tpl'];
  for (const name of expected) assert.ok(FUNCTION_NAMES.has(name), name);
  // Nothing that reaches outside the template: no env, files, clock, randomness or lookups.
  for (const name of ['env', 'expandenv', 'now', 'date', 'randAlphaNum', 'uuidv4', 'lookup', 'readFile']) assert.ok(!FUNCTION_NAMES.has(name), name);
});
