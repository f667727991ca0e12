// Compose interpolation (12-interpolation.md), the env-file format
// (05-services.md "Env_file format") and Compose's units, case by case.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { composeBytes, composeCpusMillis, composeDurationMs } from '../../../src/compose/compose-units';
import { parseEnvFile } from '../../../src/compose/dotenv';
import { interpolate, interpolateDocument } from '../../../src/compose/interpolate';
import { applyMergeKeys } from '../../../src/compose/merge-keys';
import { toDnsLabel, LabelAllocator } from '../../../src/compose/names';
import { ComposeError } from '../../../src/compose/types';

const ENV: Record<string, string> = { SET: 'value', EMPTY: '', FOO: 'foo' };
const lookup = (n: string): string | undefined => ENV[n];
const expand = (s: string): string => interpolate(s, lookup).value;

describe('interpolation', () => {
  const cases: Array<[string, string]> = [
    ['${SET}', 'value'],
    ['$SET', 'value'],
    ['$SET-suffix', 'value-suffix'],
    ['${SET}suffix', 'valuesuffix'],
    ['${UNSET}', ''],
    ['${UNSET:-default}', 'default'],
    ['${EMPTY:-default}', 'default'],
    ['${EMPTY-default}', ''],
    ['${UNSET-default}', 'default'],
    ['${SET:-default}', 'value'],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET+alt}', ''],
    ['${UNSET:-${FOO}}', 'foo'],
    ['${UNSET:-${ALSO_UNSET:-deep}}', 'deep'],
    ['${UNSET:-a ${FOO} b}', 'a foo b'],
    ['$$', '$'],
    ['$$SET', '$SET'],
    ['$${SET}', '${SET}'],
    ['cost: 5$', 'cost: 5$'],
    ['$1 and $ alone', '$1 and $ alone'],
    ['${SET:-x}${FOO}', 'valuefoo'],
  ];
  for (const [input, want] of cases) test(`${input} → ${JSON.stringify(want)}`, () => assert.equal(expand(input), want));

  test('unset variables without a default are reported, once per use', () => {
    assert.deepEqual(interpolate('${A} $B ${C:-x} ${SET}', lookup).unset, ['A', 'B']);
  });

  test('${VAR:?err} and ${VAR?err}: an error with the message; :? also when empty', () => {
    assert.throws(() => interpolate('${UNSET:?need it}', lookup, 'services.db.image'), (e: unknown) => e instanceof ComposeError && e.message === 'services.db.image: required variable UNSET is not set: need it');
    assert.throws(() => expand('${EMPTY:?no}'), /EMPTY is empty: no/);
    assert.equal(expand('${EMPTY?no}'), '');
    assert.equal(expand('${SET:?no}'), 'value');
    assert.throws(() => expand('${UNSET?$FOO is the hint}'), /UNSET is not set: foo is the hint/);
  });

  test('malformed references are errors, as in Compose', () => {
    assert.throws(() => expand('${SET'), /without a closing/);
    assert.throws(() => expand('${SET/foo/bar}'), /not a valid variable reference/);
    assert.throws(() => expand('${}'), /not a valid variable reference/);
  });

  test('a document: values are interpolated, keys and x- extensions are not', () => {
    const doc = { services: { web: { image: 'nginx:${SET}', environment: { $SET: '$FOO', list: ['$SET'] } } }, 'x-raw': '${UNSET:?never evaluated}' };
    const r = interpolateDocument(doc, lookup);
    assert.deepEqual(r.value, { services: { web: { image: 'nginx:value', environment: { $SET: 'foo', list: ['value'] } } }, 'x-raw': '${UNSET:?never evaluated}' });
    assert.deepEqual(r.substituted, [['services', 'web', 'image'], ['services', 'web', 'environment', '$SET'], ['services', 'web', 'environment', 'list', 0]]);
  });
});

describe('env files', () => {
  const parse = (text: string, opts: { raw?: boolean } = {}) => {
    const r = parseEnvFile(text, lookup, opts);
    assert.ok(r.ok, r.ok ? '' : r.error);
    return Object.fromEntries(r.env.vars);
  };

  test('the rules of the Compose Specification, one per line', () => {
    const text = [
      '# a comment',
      '',
      'VAR=VAL',
      'DQ="VAL"',
      "SQ='VAL'",
      'INLINE=VAL # comment',
      'NOT_INLINE=VAL# not a comment',
      'DQ_HASH="VAL # not a comment"',
      'DQ_COMMENT="VAL" # comment',
      "SQ_LITERAL='$OTHER'",
      "SQ_BRACES='${OTHER}'",
      "SQ_ESCAPE='Let\\'s go!'",
      'JSON="{\\"hello\\": \\"json\\"}"',
      'TAB="some\\tvalue"',
      "SQ_TAB='some\\tvalue'",
      'UQ_TAB=some\\tvalue',
      'EMPTY_VALUE=',
      'export EXPORTED=yes',
      'FROM_ENV=${FOO}-x',
      'FROM_EARLIER=${VAR}',
      'SET',
      'NOT_IN_ENV',
    ].join('\n');
    assert.deepEqual(parse(text), {
      VAR: 'VAL',
      DQ: 'VAL',
      SQ: 'VAL',
      INLINE: 'VAL',
      NOT_INLINE: 'VAL# not a comment',
      DQ_HASH: 'VAL # not a comment',
      DQ_COMMENT: 'VAL',
      SQ_LITERAL: '$OTHER',
      SQ_BRACES: '${OTHER}',
      SQ_ESCAPE: "Let's go!",
      JSON: '{"hello": "json"}',
      TAB: 'some\tvalue',
      SQ_TAB: 'some\\tvalue',
      UQ_TAB: 'some\\tvalue',
      EMPTY_VALUE: '',
      EXPORTED: 'yes',
      FROM_ENV: 'foo-x',
      FROM_EARLIER: 'VAL',
      SET: 'value',
    });
  });

  test('double-quoted values may span lines; CRLF files read like LF ones', () => {
    assert.deepEqual(parse('CERT="line1\nline2"\r\nNEXT=1\r\n'), { CERT: 'line1\nline2', NEXT: '1' });
  });

  test('raw format: everything after "=", as is', () => {
    assert.deepEqual(parse('A=$FOO "q" # kept\n', { raw: true }), { A: '$FOO "q" # kept' });
  });

  test('errors name the line, never the value', () => {
    const r = parseEnvFile('A=1\nB="unterminated secret\n', lookup);
    assert.equal(r.ok, false);
    assert.equal(r.ok ? '' : r.error, 'line 2: the double quote is not closed');
  });
});

describe('compose units', () => {
  test('durations: Go syntax, combined units; a number is seconds', () => {
    const cases: Array<[unknown, number | undefined]> = [
      ['10ms', 10], ['40s', 40_000], ['1m30s', 90_000], ['1h5m30s20ms', 3_930_020], ['1.5s', 1500], ['500us', 1], ['30', 30_000], [30, 30_000],
      ['0s', 0], ['1x', undefined], ['s', undefined], ['-1s', undefined], ['', undefined],
    ];
    for (const [input, want] of cases) assert.equal(composeDurationMs(input), want, String(input));
  });
  test('byte values: b, k/kb, m/mb, g/gb, binary', () => {
    const cases: Array<[unknown, number | undefined]> = [['2b', 2], ['1024kb', 1024 * 1024], ['2048k', 2048 * 1024], ['300m', 300 * 1024 ** 2], ['1gb', 1024 ** 3], ['1.5g', 1.5 * 1024 ** 3], ['512M', 512 * 1024 ** 2], [1024, 1024], ['lots', undefined]];
    for (const [input, want] of cases) assert.equal(composeBytes(input), want, String(input));
  });
  test('cpus: fractional cores, number or string', () => {
    assert.deepEqual([composeCpusMillis(0.5), composeCpusMillis('0.50'), composeCpusMillis('2'), composeCpusMillis('.25'), composeCpusMillis('x')], [500, 500, 2000, 250, undefined]);
  });
});

describe('names and merge keys', () => {
  test('service names become DNS-1123 labels', () => {
    assert.deepEqual(['Web_App', 'web.app', '--x--', '_', 'a'.repeat(60)].map((n) => toDnsLabel(n, 52)), ['web-app', 'web-app', 'x', 'service', 'a'.repeat(52)]);
    const names = new LabelAllocator(10);
    assert.deepEqual(['web', 'WEB', 'web', 'abcdefghijkl', 'abcdefghij'].map((n) => names.take(n)), ['web', 'web-2', 'web-3', 'abcdefghij', 'abcdefgh-2']);
  });
  test('<<: the mapping\'s own keys win, then the merged mappings in order', () => {
    const a = { image: 'a', restart: 'always' };
    const b = { image: 'b', cpus: 1 };
    assert.deepEqual(applyMergeKeys({ s: { '<<': [a, b], restart: 'no' } }), { s: { restart: 'no', image: 'a', cpus: 1 } });
    assert.deepEqual(applyMergeKeys({ s: { '<<': 'not a mapping' } }), { s: { '<<': 'not a mapping' } });
  });
});
