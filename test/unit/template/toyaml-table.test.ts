// toYaml's exact text. Helm's toYaml is sigs.k8s.io/yaml's Marshal: JSON
// first, then go-yaml v2 (gopkg.in/yaml.v2 / go.yaml.in/yaml/v2) writes the
// JSON's value, and Helm trims the final newline. Ported: the marshalTests
// of go-yaml/yaml (branch v2) encode_test.go whose values JSON can carry,
// its TestLineWrapping and TestSortedOutput, and Helm's toYaml cases from
// helm/helm pkg/engine/funcs_test.go; then cases for each rule of the
// emitter (emitterc.go: quoting styles, folding past 80 columns, literal
// blocks, indentation) that charts hit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runTable, type Case } from './table';
import { render } from './helpers';

const y = (name: string, data: unknown, out: string): Case => ({ name, tpl: '{{ toYaml . }}', data, out });

const marshalTests: Case[] = [
  y('nil', null, 'null'),
  y('empty struct', {}, '{}'),
  y('v: hi', { v: 'hi' }, 'v: hi'),
  y('v: "true"', { v: 'true' }, 'v: "true"'),
  y('v: "false"', { v: 'false' }, 'v: "false"'),
  y('v: true', { v: true }, 'v: true'),
  y('v: false', { v: false }, 'v: false'),
  y('v: 10', { v: 10 }, 'v: 10'),
  y('v: -10', { v: -10 }, 'v: -10'),
  y('v: 42', { v: 42 }, 'v: 42'),
  y('v: 4294967296', { v: 4294967296 }, 'v: 4294967296'),
  y('v: "10"', { v: '10' }, 'v: "10"'),
  y('v: 0.1', { v: 0.1 }, 'v: 0.1'),
  y('v: 0.99', { v: 0.99 }, 'v: 0.99'),
  y('v: -0.1', { v: -0.1 }, 'v: -0.1'),
  // JSON cannot hold infinities or NaN: Helm's toYaml swallows the error and gives "".
  y('v: .inf', { v: Infinity }, ''),
  y('v: -.inf', { v: -Infinity }, ''),
  y('v: .nan', { v: NaN }, ''),
  y('v: null', { v: null }, 'v: null'),
  y('v: ""', { v: '' }, 'v: ""'),
  y('v: [A, B]', { v: ['A', 'B'] }, 'v:\n- A\n- B'),
  y('v: [A, "B\\nC"]', { v: ['A', 'B\nC'] }, 'v:\n- A\n- |-\n  B\n  C'),
  y('v: [A, 1, {B: [2, 3]}]', { v: ['A', 1, { B: [2, 3] }] }, 'v:\n- A\n- 1\n- B:\n  - 2\n  - 3'),
  y('a: {b: c}', { a: { b: 'c' } }, 'a:\n  b: c'),
  y("a: '-'", { a: '-' }, "a: '-'"),
  y('123', 123, '123'),
  y('hello: world', { hello: 'world' }, 'hello: world'),
  y('a: {b: c} struct', { a: { b: 'c' } }, 'a:\n  b: c'),
  y('a: null', { a: null }, 'a: null'),
  y('a: 1', { a: 1 }, 'a: 1'),
  y('a: [1, 2]', { a: [1, 2] }, 'a:\n- 1\n- 2'),
  y('a: true', { a: true }, 'a: true'),
  y('a: 1 omitempty', { a: 1 }, 'a: 1'),
  y('a: <foo>', { a: '<foo>' }, 'a: <foo>'),
  y('a: "1:1"', { a: '1:1' }, 'a: "1:1"'),
  y('a: "\\0"', { a: '\u0000' }, 'a: "\\0"'),
  y('ordered map (sorted by JSON)', { b: 2, a: 1, d: 4, c: 3, sub: { e: 5 } }, 'a: 1\nb: 2\nc: 3\nd: 4\nsub:\n  e: 5'),
  y('a: 你好', { a: '你好' }, 'a: 你好'),
  y('a: 1.2.3.4', { a: '1.2.3.4' }, 'a: 1.2.3.4'),
  y('timestamp-like strings are quoted', { a: '2015-02-24T18:19:39Z' }, 'a: "2015-02-24T18:19:39Z"'),
  y("a: 'b: c'", { a: 'b: c' }, "a: 'b: c'"),
  y("a: 'Hello #comment'", { a: 'Hello #comment' }, "a: 'Hello #comment'"),
  y("a: '你好 #comment'", { a: '你好 #comment' }, "a: '你好 #comment'"),
  y('a: 5 (json.Number)', { a: 5 }, 'a: 5'),
  y('a: 100.5 (json.Number)', { a: 100.5 }, 'a: 100.5'),
  y('a: bogus', { a: 'bogus' }, 'a: bogus'),
  y('TestLineWrapping', { a: 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 1234567890 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 1234567890 ' }, "a: 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 1234567890 abcdefghijklmnopqrstuvwxyz\n  ABCDEFGHIJKLMNOPQRSTUVWXYZ 1234567890 '"),
];

// helm/helm pkg/engine/funcs_test.go (TestFuncs) and the rules charts meet.
const helmAndRules: Case[] = [
  y('Helm TestFuncs toYaml', { foo: 'bar' }, 'foo: bar'),
  // Strings that read back as another type: double quotes (go-yaml), not single.
  y('numbers as strings', { a: '1', b: '1.5', c: '0x1F', d: '1e3', e: '-2', f: '+3', g: '0777', h: '.5', i: '1_000', j: '08' }, 'a: "1"\nb: "1.5"\nc: "0x1F"\nd: "1e3"\ne: "-2"\nf: "+3"\ng: "0777"\nh: ".5"\ni: "1_000"\nj: "08"'),
  y('YAML 1.1 booleans and nulls as strings', { a: 'yes', b: 'No', c: 'on', d: 'OFF', e: 'y', f: 'N', g: 'null', h: '~', i: 'True' }, 'a: "yes"\nb: "No"\nc: "on"\nd: "OFF"\ne: "y"\nf: "N"\ng: "null"\nh: "~"\ni: "True"'),
  y('keys that read as booleans are quoted', { y: 1, n: 2, on: 3, x: 4 }, '"n": 2\n"on": 3\nx: 4\n"y": 1'),
  y('dates', { a: '2024-01-02', b: '2024-1-2 3:04:05', c: '2024-13-01', d: '12:30' }, 'a: "2024-01-02"\nb: "2024-1-2 3:04:05"\nc: 2024-13-01\nd: "12:30"'),
  y('strings that are fine plain', { a: 'hello world', b: 'a:b', c: 'x-y', d: 'http://example.com/a?b=c', e: '1.2.3', f: 'v1', g: '100m', h: '512Mi' }, 'a: hello world\nb: a:b\nc: x-y\nd: http://example.com/a?b=c\ne: 1.2.3\nf: v1\ng: 100m\nh: 512Mi'),
  y('indicators force single quotes', { a: '*', b: '&x', c: '!x', d: '@x', e: '`x', f: '%x', g: '[x', h: '{x', i: '|x', j: '>x', k: "'x", l: '"x', m: '# x', n: '- x', o: ': x', p: '? x', q: 'x #y', r: 'x: y', s: ' x', t: 'x ', u: '---', v: '...' }, "a: '*'\nb: '&x'\nc: '!x'\nd: '@x'\ne: '`x'\nf: '%x'\ng: '[x'\nh: '{x'\ni: '|x'\nj: '>x'\nk: '''x'\nl: '\"x'\nm: '# x'\n\"n\": '- x'\no: ': x'\np: '? x'\nq: 'x #y'\nr: 'x: y'\ns: ' x'\nt: 'x '\nu: '---'\nv: '...'"),
  y('control characters force double quotes with escapes', { a: 'tab\there', b: 'bell\u0007', c: 'nel\u0085', d: 'emoji 😀', e: 'nbsp\u00a0x', f: 'bom\ufeff' }, 'a: "tab\\there"\nb: "bell\\a"\nc: "nel\\N"\nd: "emoji \\U0001F600"\ne: nbsp\u00a0x\nf: "bom\\uFEFF"'),
  y('multi-line strings are literal blocks', { a: 'line1\nline2', b: 'line1\nline2\n', c: 'x\n\ny', d: 'x\n\n', e: '  indented\nx' }, 'a: |-\n  line1\n  line2\nb: |\n  line1\n  line2\nc: |-\n  x\n\n  y\nd: |+\n  x\n\ne: |2-\n    indented\n  x'),
  y('multi-line with trailing space or tabs is double-quoted', { a: 'x \ny', b: 'x\ty\nz' }, 'a: "x \\ny"\nb: "x\\ty\\nz"'),
  y('nested literal block', { a: { b: ['one\ntwo'] } }, 'a:\n  b:\n  - |-\n    one\n    two'),
  y('long plain string folds past column 80', { description: 'This chart deploys a small web service with a database and a cache in front of it, all in one pod.' }, 'description: This chart deploys a small web service with a database and a cache in\n  front of it, all in one pod.'),
  y('long string in a list folds at the item indentation', { l: ['one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen'] }, 'l:\n- one two three four five six seven eight nine ten eleven twelve thirteen fourteen\n  fifteen'),
  y('long quoted string folds with its quotes', { k: 'true and also a very long sentence that keeps going and going until it is past eighty' }, 'k: true and also a very long sentence that keeps going and going until it is past\n  eighty'),
  y('long double-quoted string folds', { a: 'x\ty aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee fffffffff ggggggggg hhhhhhhhh iiiiiiiii' }, 'a: "x\\ty aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee fffffffff ggggggggg hhhhhhhhh\n  iiiiiiiii"'),
  // The shape of helm/helm#31173: a multi-line string that cannot be a block (a space before a line break) is double-quoted and folded.
  y(
    'multi-line string with a trailing space folds double-quoted',
    { t: 'webhook:\n  teams-workflow:\n    method: POST\n    body: |\n      {\n        "attachments": [\n          {\n            "contentType": "object",  \n            "version": "1.2",\n              "body": [\n                {\n                  "type": "ColumnSet"\n' },
    't: "webhook:\\n  teams-workflow:\\n    method: POST\\n    body: |\\n      {\\n        \\"attachments\\":\n  [\\n          {\\n            \\"contentType\\": \\"object\\",  \\n            \\"version\\":\n  \\"1.2\\",\\n              \\"body\\": [\\n                {\\n                  \\"type\\":\n  \\"ColumnSet\\"\\n"',
  ),
  y('a double-quoted fold before two spaces escapes the second', { a: `tab\t${'x'.repeat(72)}  two` }, `a: "tab\\t${'x'.repeat(72)}\n  \\ two"`),
  y('a long word is not broken', { a: 'x'.repeat(100) }, `a: ${'x'.repeat(100)}`),
  y('keys are never folded', { ['k '.repeat(50).trim()]: 1 }, `${'k '.repeat(50).trim()}: 1`),
  y('empty collections are flow style', { a: {}, b: [], c: [[]], d: [{}] }, 'a: {}\nb: []\nc:\n- []\nd:\n- {}'),
  y('lists of lists and of maps', { a: [[1, 2], [3]], b: [{ x: 1, y: [2] }] }, 'a:\n- - 1\n  - 2\n- - 3\nb:\n- x: 1\n  "y":\n  - 2'),
  y('top-level list', [1, 'two', { three: 3 }], '- 1\n- two\n- three: 3'),
  y('top-level string', 'hello', 'hello'),
  y('top-level multi-line string', 'a\nb', '|-\n  a\n  b'),
  y('floats', { a: 1.5, b: 1234567.5, c: 0.000012, d: 1e21, e: 123456789012, f: 1e20, g: -0.5 }, 'a: 1.5\nb: 1.2345675e+06\nc: 1.2e-05\nd: 1e+21\ne: 123456789012\nf: 1e+20\ng: -0.5'),
  y('go-yaml key order: digits numerically, letters after other characters', { b10: 1, b9: 1, a: 1, B: 1, _x: 1, '1': 1, '10': 1, '2': 1 }, '_x: 1\n"1": 1\n"2": 1\n"10": 1\nB: 1\na: 1\nb9: 1\nb10: 1'),
  { name: 'toYaml | nindent, the usual chart idiom', tpl: 'spec:{{ toYaml .r | nindent 2 }}', data: { r: { limits: { memory: '128Mi', cpu: '1' } } }, out: 'spec:\n  limits:\n    cpu: "1"\n    memory: 128Mi' },
];

// go-yaml v2 encode_test.go TestSortedOutput: the string keys, in order.
const sortedKeys = ['', '.1', '.2', '.a', '1', '2', 'a!10', 'a/0001', 'a/002', 'a/3', 'a/10', 'a/11', 'a/0012', 'a/100', 'a~10', 'ab/1', 'b/1', 'b/01', 'b/2', 'b/02', 'b/3', 'b/03', 'b1', 'b01', 'b3', 'c2.10', 'c10.2', 'd1', 'd7', 'd7abc', 'd12', 'd12a'];

describe("toYaml's text (go-yaml/yaml v2 encode_test.go, helm/helm pkg/engine/funcs_test.go)", () => {
  runTable('go-yaml marshalTests', marshalTests);
  runTable('Helm toYaml and emitter rules', helmAndRules);
  test('TestSortedOutput: keys in go-yaml v2 order', () => {
    const data: Record<string, number> = {};
    for (const k of [...sortedKeys].reverse()) data[k] = 1;
    const lines = render('{{ toYaml . }}', data).split('\n');
    const keys = lines.map((l) => l.slice(0, l.lastIndexOf(':')).replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1'));
    assert.deepEqual(keys, sortedKeys);
  });
});
